#!/bin/bash
# run.sh - what one supervised run costs this host: the CPU (user + system,
# the supervisor and its task together) and the wall time of one run of
# /bin/true under `chronos-run-task` (the small supervisor the server runs)
# and under `chronos-server run-task` (the server's binary, the fallback), without and
# with the run's own cgroup.  Runs are in sequence, on run directories made
# beforehand (what the server writes: the spec), so the figures are the
# supervisor's own, not the server's; each spec carries the user resolved
# as the server resolves it (its "ident"), so the supervisor loads no user
# database, as under the server.  Prints figures, never fails on them.
#
#   bash bench/supervisor/run.sh            (RUNS=300 per variant)
#   BENCH_QUICK=1 bash bench/supervisor/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
make -s B="$B" "$B/chronos" "$B/chronos-server" "$B/chronos-run-task"
RUNS=${RUNS:-300}
[ "${BENCH_QUICK:-}" = 1 ] && RUNS=40
TMPD=$(mktemp -d /tmp/chronos-bench-sup.XXXXXX)
trap 'pkill -KILL -f "$TMPD" 2>/dev/null || true; rm -rf "$TMPD"' EXIT
echo "host: $(nproc) cpus, kernel $(uname -r); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs of /bin/true per variant: $RUNS (user nobody when root, else this user)"
TMPD=$TMPD RUNS=$RUNS python3 - "$(realpath "$B/chronos-run-task")" "$(realpath "$B/chronos-server")" <<'PY'
import json, os, pwd, resource, subprocess, sys, time
small, full = sys.argv[1], sys.argv[2]
tmpd, runs = os.environ["TMPD"], int(os.environ["RUNS"])
user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

def ident():
    """What the server resolves the user into (offers/local_int.h, chr_local_ident)."""
    pw = pwd.getpwnam(user)
    return {"name": pw.pw_name, "uid": pw.pw_uid, "gid": pw.pw_gid, "home": pw.pw_dir,
            "shell": pw.pw_shell, "groups": os.getgrouplist(pw.pw_name, pw.pw_gid)}

def spec(i, cgroup):
    rid = "bench:%d:0:sup" % i
    return {"version": 1, "run_id": rid, "job": "sup", "owner": "", "command": "/bin/true",
            "ident": ident(),
            "shell": False, "argv": ["/bin/true"], "env": {"CHRONOS_JOB_NAME": "sup"},
            "user": user, "cpus": 1.0, "mem_mb": 128.0, "disk_mb": 1.0, "due_ms": 0,
            "attempt": 0, "not_before_ms": 0, "max_completion_ms": 0, "kill_grace_ms": 5000,
            "stdout_max": 1048576, "stderr_max": 1048576, "host": "bench", "cgroup": cgroup}

def variant(name, argv0, cgroup):
    root = os.path.join(tmpd, name)
    os.makedirs(root)
    dirs = []
    for i in range(runs):
        d = os.path.join(root, "r%d" % i)
        os.mkdir(d)
        with open(os.path.join(d, "spec"), "w") as f:
            json.dump(spec(i, cgroup), f)
        dirs.append(d)
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    bad = 0
    for d in dirs:
        subprocess.run([argv0, "run-task", d], check=False)
        try:
            if json.load(open(os.path.join(d, "exit")))["state"] != "FINISHED":
                bad += 1
        except (OSError, ValueError, KeyError):
            bad += 1
    r1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    u = (r1.ru_utime - r0.ru_utime) * 1000 / runs
    s = (r1.ru_stime - r0.ru_stime) * 1000 / runs
    print("  %-34s %6.2f CPU-ms per run (%5.2f user + %5.2f sys), %6.1f ms wall%s"
          % (name, u + s, u, s, (t1 - t0) * 1000 / runs,
             "" if not bad else "; %d runs did not finish" % bad), flush=True)
    return u + s

print("\n== CPU and wall time of one supervised run of /bin/true (in sequence)")
a = variant("chronos-run-task, no cgroup", small, False)
b = variant("chronos-server run-task, no cgroup", full, False)
c = variant("chronos-run-task, its own cgroup", small, True)
print("\n  the small supervisor costs %.0f%% of the full binary's CPU per run" % (100 * a / b))
PY
