#!/usr/bin/env python3
"""bench.py - the scheduler benchmarks behind bench/scheduler/run.sh.

Starts `chronos serve` on 127.0.0.1 (a free port it picks) with a data dir
under $TMPD, drives it over HTTP, reads the run directories the supervisors
leave, and prints figures next to their targets.  Never pass/fail: it exits
non-zero only when it cannot run.  Every server it starts has its pid
appended to $PIDFILE so that run.sh's trap can kill it.

  1. lateness: due instant -> the task's exec, 1,000 jobs due each minute
     (the task is `stamp`, which prints the wall clock right after exec;
     this server runs with --verbose true for its "launched" lines, which
     give a breakdown)
  2. durable launches per second: 2,000 jobs due at one instant, once with
     the default resources (2a: 0.1 cpu each, so at most 10 per core run at
     once) and once with tiny ones (2b: no resource limit in the way)
  3. RSS per idle job with 100,000 jobs loaded (and the POST rate)
  4. restart time with 100,000 jobs, then (extra) the lateness of a few
     jobs due while GET /v1/scheduler/jobs runs back to back

Environment: CHRONOS (binary), STAMP (the stamp task), TMPD, PIDFILE, OUT
(logs), SERVE_ARGS (more server flags, for A/B runs), and the sizes LAT_JOBS, LAT_WINDOW_S, BURST_JOBS, BURST_WAIT_S (how
long 2a/2b wait for all runs), IDLE_JOBS, POST_THREADS (defaults as in the
brief; BENCH_QUICK=1 shrinks them).
"""
import datetime
import http.client
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import du_bytes, iso, now_ms, pct, proc_cpu_s  # noqa: E402

CHRONOS = os.environ["CHRONOS"]
STAMP = os.environ["STAMP"]
TMPD = os.environ["TMPD"]
PIDFILE = os.environ["PIDFILE"]
OUT = os.environ["OUT"]
QUICK = os.environ.get("BENCH_QUICK") == "1"


def env_int(name, full, quick):
    return int(os.environ.get(name, quick if QUICK else full))


LAT_JOBS = env_int("LAT_JOBS", 1000, 200)
LAT_WINDOW_S = env_int("LAT_WINDOW_S", 120, 20)
BURST_JOBS = env_int("BURST_JOBS", 2000, 300)
IDLE_JOBS = env_int("IDLE_JOBS", 100000, 5000)
POST_THREADS = env_int("POST_THREADS", 16, 16)
BURST_WAIT_S = env_int("BURST_WAIT_S", 70, 15)
# Which bursts: "a" (default resources), "b" (tiny ones) or both.
BURST_VARIANTS = os.environ.get("BURST_VARIANTS", "ab")
# The spawn limit measured around each burst (limits.c, /bin/true, 2 in flight).
LIMITS = os.environ.get("LIMITS", "")
LIMIT_SPAWNS = env_int("LIMIT_SPAWNS", 3000, 1000)
# PERF=<file>: `perf record -a -g` from the due instant until all are archived.
PERF = os.environ.get("PERF", "")
# PERF_TREE=<file>: the burst's server runs under `perf record -g` (it and
# every process it starts, nothing else: a clean profile on a shared machine).
PERF_TREE = os.environ.get("PERF_TREE", "")
# ZK=<connect string>: the servers use that ZooKeeper as their store.
ZK = os.environ.get("ZK", "")

SUMMARY = []  # (benchmark, figure, value, target)
LAST_SPAWN_CPU_MS = []  # CPU ms per spawn of each spawn_limit() run


def say(*a):
    print(*a, flush=True)


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[k] = int(v.split()[0])  # kB
            elif k == "Threads":
                out[k] = int(v)
    return out


def machine_cpu():
    """(busy, total) jiffies of all cpus, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


# ---- the server ------------------------------------------------------------


class Server(benchlib.Server):
    """`chronos serve --data_dir <data_dir> --verbose <verbose>`, its log
    $OUT/<tag>.log."""

    READY_LIMIT_S = 60  # wait_ready's defaults
    READY_POLL_S = 0.005

    def __init__(self, data_dir, tag, verbose=False):
        self.data_dir = data_dir
        # SERVE_ARGS: more `chronos serve` flags, for A/B runs (e.g.
        # "--cgroups off" to see what a run's cgroup costs).
        extra = os.environ.get("SERVE_ARGS", "").split()
        if ZK:  # a root of its own per server: the bench's servers never share one
            extra += ["--zk", ZK, "--zk_path", "/chronos-bench-" + tag]
        super().__init__(CHRONOS, ["--data_dir", data_dir,
                                   "--verbose", "true" if verbose else "false"] + extra,
                         OUT, tag, PIDFILE)

    def get(self, path, timeout=120):
        return self.request("GET", path, timeout=timeout)

    def start(self):
        if PERF_TREE and self.tag.startswith("burst") and self.args[0] != "perf":
            self.args = ["perf", "record", "-g", "-q", "-o", PERF_TREE, "--"] + self.args
        super().start()

    @property
    def pid(self):
        """The server's (under PERF_TREE, perf's child)."""
        if self.args[0] == "perf":
            for _ in range(200):
                kids = children(self.proc.pid)
                if kids:
                    return kids[0]
                time.sleep(0.01)
        return self.proc.pid


def post_jobs(srv, bodies, threads=POST_THREADS):
    """POSTs the bodies (benchlib.post_jobs).
    Returns (seconds, n_ok, errors[:3], n_errors, reconnects)."""
    stats = {}
    secs, ok, errors, nerr = benchlib.post_jobs(srv.port, bodies, threads, stats=stats)
    return secs, ok, errors, nerr, stats["reconnects"]

def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None


def scan_runs(data_dir):
    """Every run directory (finished ones under .done/<job>/, open ones
    directly under runs/): dicts with id, due_ms, pid_start_ms, exec_ns,
    end_ms, state."""
    runs_dir = os.path.join(data_dir, "runs")
    dirs = []
    done = os.path.join(runs_dir, ".done")
    if os.path.isdir(done):
        for job in os.listdir(done):
            jd = os.path.join(done, job)
            for rid in os.listdir(jd):
                dirs.append((rid, os.path.join(jd, rid)))
    if os.path.isdir(runs_dir):
        for rid in os.listdir(runs_dir):
            if rid.startswith("ct:"):
                dirs.append((rid, os.path.join(runs_dir, rid)))
    out = []
    for rid, d in dirs:
        parts = rid.split(":")
        r = {"id": rid, "due_ms": int(parts[1]), "attempt": int(parts[2]),
             "pid_start_ms": None, "exec_ns": None, "end_ms": None, "state": None}
        p = read_file(os.path.join(d, "pid"))
        if p:
            f = p.split()
            if len(f) >= 2:
                r["pid_start_ms"] = int(f[1])
                r["task_pid"] = int(f[0])
        c = read_file(os.path.join(d, "claim"))
        if c and c.split() and c.split()[0].isdigit():
            r["sup_pid"] = int(c.split()[0])
        s = read_file(os.path.join(d, "stdout"))
        if s and s.strip().isdigit():
            r["exec_ns"] = int(s.strip())
        e = read_file(os.path.join(d, "exit"))
        if e:
            try:
                j = json.loads(e)
                r["end_ms"] = j.get("end_ms")
                r["state"] = j.get("state")
            except ValueError:
                r["state"] = "unreadable exit"
        out.append(r)
    return out


def count_done(data_dir):
    done = os.path.join(data_dir, "runs", ".done")
    try:
        return len(os.listdir(done))
    except OSError:
        return 0


# ---- 1. lateness -------------------------------------------------------------


def bench_lateness():
    say("== 1. lateness: due instant -> task exec; %d jobs, period PT1M, job i due at "
        "second i*60/%d of each minute; window %d s" % (LAT_JOBS, LAT_JOBS, LAT_WINDOW_S))
    data = os.path.join(TMPD, "lateness")
    srv = Server(data, "lateness", verbose=True)  # "launched <id>" lines: a breakdown
    if srv.wait_ready() is None:
        say("server did not answer /ping; log:\n" + srv.log_text())
        srv.stop()
        return None
    lead_ms = 6000
    t0 = now_ms() + lead_ms
    period = 60000
    bodies = []
    for i in range(LAT_JOBS):
        phase = i * period // LAT_JOBS
        first = (t0 - phase + period - 1) // period * period + phase  # first >= t0
        bodies.append(json.dumps({"name": "late-%05d" % i, "command": STAMP, "shell": False,
                                  "schedule": "R/%s/PT1M" % iso(first)}))
    secs, ok, errs, nerr, recon = post_jobs(srv, bodies)
    post_rate = ok / secs if secs > 0 else 0
    say("  posted %d jobs in %.2f s (%.0f POST/s, %d errors%s)" %
        (ok, secs, post_rate, nerr, (": " + "; ".join(errs)) if errs else ""))
    if now_ms() > t0:
        say("  WARNING: posting ended %d ms after the window opened" % (now_ms() - t0))
    t_end = t0 + LAT_WINDOW_S * 1000
    # CPU of the server over the window.
    time.sleep(max(0, (t0 - now_ms()) / 1000))
    cpu0, m0 = proc_cpu_s(srv.pid), machine_cpu()
    time.sleep(max(0, (t_end - now_ms()) / 1000))
    cpu1, m1 = proc_cpu_s(srv.pid), machine_cpu()
    busy = 100 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    time.sleep(2.0)  # the last runs of the window finish
    alive = srv.alive()
    rss = proc_status(srv.pid) if alive else {}
    stop_s = srv.stop()
    runs = [r for r in scan_runs(data) if t0 <= r["due_ms"] < t_end and r["attempt"] == 0]
    firsts = [json.loads(b)["schedule"].split("/")[1] for b in bodies]
    expected = 0
    for f in firsts:
        first = int(datetime.datetime.strptime(f, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)
        expected += max(0, -(-(t_end - first) // period))
    lat_exec = sorted((r["exec_ns"] - r["due_ms"] * 1_000_000) / 1e6
                      for r in runs if r["exec_ns"] is not None)
    lat_pid = sorted(r["pid_start_ms"] - r["due_ms"] for r in runs if r["pid_start_ms"] is not None)
    pid_to_exec = sorted(r["exec_ns"] / 1e6 - r["pid_start_ms"] for r in runs
                         if r["exec_ns"] is not None and r["pid_start_ms"] is not None)
    bad = [r for r in runs if r["state"] != "FINISHED"]
    say("  runs due in the window: %d of %d expected; with an exec stamp: %d; not FINISHED: %d"
        % (len(runs), expected, len(lat_exec), len(bad)))
    for r in bad[:5]:
        say("    %s state=%s" % (r["id"], r["state"]))
    say("  machine CPU over the window: %.0f%% busy of %d cpus (this benchmark needs a few %%: "
        "more means other load on the machine, which shows in the tail)" % (busy, os.cpu_count()))
    say("  server CPU over the window: %.2f s (%.1f%% of one core); at the end RSS %s kB, "
        "threads %s; SIGTERM -> exit %s s" %
        (cpu1 - cpu0, 100 * (cpu1 - cpu0) / LAT_WINDOW_S, rss.get("VmRSS"), rss.get("Threads"),
         "%.2f" % stop_s if stop_s is not None else "timeout (SIGKILL)"))
    res = {}
    if lat_exec:
        res = {"p50": pct(lat_exec, 50), "p99": pct(lat_exec, 99), "max": lat_exec[-1],
               "min": lat_exec[0]}
        say("  due -> exec (stamp printed by the task right after exec, us resolution):")
        say("    p50 %.3f ms   p90 %.3f ms   p99 %.3f ms   max %.3f ms   min %.3f ms   "
            "(target p99 <= 5 ms)" % (res["p50"], pct(lat_exec, 90), res["p99"], res["max"],
                                       res["min"]))
        over = [x for x in lat_exec if x > 5]
        say("    runs later than 5 ms: %d; later than 20 ms: %d; later than 100 ms: %d" %
            (len(over), sum(1 for x in lat_exec if x > 20), sum(1 for x in lat_exec if x > 100)))
    if lat_pid:
        say("  due -> pid record's start ms (taken just before the durable pid write; "
            "exec follows it; ms resolution, truncated):")
        say("    p50 %d ms   p99 %d ms   max %d ms" % (pct(lat_pid, 50), pct(lat_pid, 99),
                                                      lat_pid[-1]))
    if pid_to_exec:
        say("  pid record start -> exec (the durable pid write + go pipe + exec; +-1 ms "
            "from the ms truncation): p50 %.2f ms  p99 %.2f ms  max %.2f ms" %
            (pct(pid_to_exec, 50), pct(pid_to_exec, 99), pid_to_exec[-1]))
    launched = {}
    for line in srv.log_text().splitlines():
        f = line.split()
        if len(f) == 3 and f[1] == "launched":
            try:
                ts = datetime.datetime.strptime(f[0], "%Y-%m-%dT%H:%M:%S.%fZ")
                launched[f[2]] = int(ts.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
                                     + 0.5)
            except ValueError:
                pass
    d_launch = sorted(launched[r["id"]] - r["due_ms"] for r in runs if r["id"] in launched)
    d_sup = sorted(r["pid_start_ms"] - launched[r["id"]] for r in runs
                   if r["id"] in launched and r["pid_start_ms"] is not None)
    if d_launch:
        say("  breakdown (ms, from the server's \"launched\" log line, written after it made the "
            "run dir and spawned the supervisor):")
        say("    due -> launched            p50 %d  p99 %d  max %d" %
            (pct(d_launch, 50), pct(d_launch, 99), d_launch[-1]))
        say("    launched -> pid record     p50 %d  p99 %d  max %d   (supervisor start, claim, "
            "fork)" % (pct(d_sup, 50), pct(d_sup, 99), d_sup[-1]))
    retried = [r for r in scan_runs(data) if t0 <= r["due_ms"] < t_end and r["attempt"] > 0]
    if retried:
        say("  retry runs (attempt > 0) due in the window: %d, e.g. %s" %
            (len(retried), retried[0]["id"]))
    worst = sorted((r for r in runs if r["exec_ns"] is not None),
                   key=lambda r: r["exec_ns"] - r["due_ms"] * 1_000_000)[-5:]
    if worst:
        say("  the 5 latest runs: " + ", ".join(
            "%s %.1f ms" % (r["id"], (r["exec_ns"] - r["due_ms"] * 1_000_000) / 1e6)
            for r in reversed(worst)))
    if res:
        SUMMARY.append(("1 lateness", "due -> exec p50", "%.2f ms" % res["p50"], ""))
        SUMMARY.append(("1 lateness", "due -> exec p99", "%.2f ms" % res["p99"], "<= 5 ms"))
        SUMMARY.append(("1 lateness", "due -> exec max", "%.2f ms" % res["max"], ""))
    SUMMARY.append(("1 lateness", "machine CPU busy in the window", "%.0f%%" % busy, ""))
    SUMMARY.append(("1 lateness", "runs measured / expected", "%d / %d" % (len(lat_exec), expected),
                    ""))
    return post_rate


# ---- 2. burst of launches ----------------------------------------------------


def spawn_limit():
    """The machine's spawn rate now (launches/s of /bin/true, 2 in flight,
    limits.c); None without LIMITS."""
    if not LIMITS:
        return None
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([LIMITS, "spawn", str(LIMIT_SPAWNS), "2", "/bin/true", "/dev/null"],
                       capture_output=True, text=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_SPAWN_CPU_MS.append(1000 * (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) /
                             LIMIT_SPAWNS)
    try:
        return json.loads(p.stdout)["rate"]
    except (ValueError, KeyError):
        say("  limits failed: %s" % p.stderr.strip())
        return None


def children(pid):
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def tree_cpu_s(pid):
    """CPU seconds (user + system) of process `pid` and its live descendants,
    with what each has reaped (cutime, cstime): every run's supervisor and
    task are counted once, whoever reaped them (the server, or a process it started)."""
    tck = os.sysconf("SC_CLK_TCK")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/stat" % p) as f:
                v = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in v[11:15])  # utime stime cutime cstime
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo += [int(x) for x in f.read().split()]
        except (OSError, ValueError, IndexError):
            pass
    return total / tck


def perf_start():
    if not PERF:
        return None
    return subprocess.Popen(["perf", "record", "-a", "-g", "-q", "-o", PERF],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def perf_stop(p):
    if p is not None:
        p.send_signal(signal.SIGINT)
        p.wait()


def bench_burst(variant, extra, post_rate_hint, wait_s):
    say("== 2%s. durable launches: %d jobs due at one instant, /bin/true, shell false, %s" %
        (variant, BURST_JOBS, "resources " + (json.dumps(extra) if extra else "default "
                                                "(cpus 0.1, mem 128, disk 256)")))
    data = os.path.join(TMPD, "burst" + variant)
    lim0 = spawn_limit()
    srv = Server(data, "burst" + variant)
    if srv.wait_ready() is None or (ZK and not srv.wait_leading()):
        say("server did not answer /ping (or lead); log:\n" + srv.log_text())
        srv.stop()
        return
    # POST_RATE (jobs/s) when the machine is too busy for the default guess.
    est = BURST_JOBS / (post_rate_hint or float(os.environ.get("POST_RATE", 2000)))
    due = now_ms() + int(max(3000, 2.5 * est * 1000 + 1500))
    bodies = []
    for i in range(BURST_JOBS):
        b = {"name": "burst-%05d" % i, "command": "/bin/true", "shell": False,
             "schedule": "R/%s/PT1H" % iso(due)}
        b.update(extra)
        bodies.append(json.dumps(b))
    secs, ok, errs, nerr, _ = post_jobs(srv, bodies)
    say("  posted %d jobs in %.2f s (%d errors%s); due in %.2f s" %
        (ok, secs, nerr, (": " + "; ".join(errs)) if errs else "", (due - now_ms()) / 1000))
    if now_ms() > due:
        say("  WARNING: posting ended after the due instant")
    time.sleep(max(0, (due - now_ms()) / 1000 - 0.3))
    perf = perf_start()
    time.sleep(max(0, (due - now_ms()) / 1000))
    cpu0 = proc_cpu_s(srv.pid)
    tree0 = tree_cpu_s(srv.pid)
    m0 = machine_cpu()
    limit = time.monotonic() + wait_s
    all_collected_s = None
    while time.monotonic() < limit and srv.alive():
        if count_done(data) >= ok:
            all_collected_s = (now_ms() - due) / 1000
            break
        time.sleep(0.05)
    cpu1 = proc_cpu_s(srv.pid) if srv.alive() else cpu0
    tree1 = tree_cpu_s(srv.pid) if srv.alive() else tree0
    launchers = children(srv.pid)
    m1 = machine_cpu()
    perf_stop(perf)
    busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    busy_s = (m1[0] - m0[0]) / os.sysconf("SC_CLK_TCK")
    # The server's own count: every job's successCount.
    succ = None
    try:
        st, body = srv.get("/v1/scheduler/jobs")
        if st == 200:
            succ = sum(j.get("successCount", 0) for j in json.loads(body))
    except (OSError, ValueError, http.client.HTTPException):
        pass
    stop_s = srv.stop()
    lim1 = spawn_limit()
    lims = [x for x in (lim0, lim1) if x]
    lim = sum(lims) / len(lims) if lims else None
    allruns = [r for r in scan_runs(data) if r["due_ms"] == due]
    if PERF:  # chronos's processes, for `perf report --pid $(cat PERF.pids)`
        pids = {srv.pid} | set(launchers) | {r[k] for r in allruns
                                              for k in ("sup_pid", "task_pid") if k in r}
        with open(PERF + ".pids", "w") as f:
            f.write(",".join(str(x) for x in sorted(pids)))
    first = [r for r in allruns if r["attempt"] == 0]
    retries = [r for r in allruns if r["attempt"] > 0]
    execs = sorted(r["pid_start_ms"] - due for r in allruns if r["pid_start_ms"] is not None)
    execs0 = sorted(r["pid_start_ms"] - due for r in first if r["pid_start_ms"] is not None)
    ends = sorted(r["end_ms"] - due for r in allruns if r["end_ms"] is not None)
    fin = sum(1 for r in allruns if r["state"] == "FINISHED")
    say("  by +%.0f s: %d of %d jobs exec'd (%d at attempt 0, %d as retries), %d FINISHED; "
        "successCount total (server): %s" %
        (wait_s if all_collected_s is None else all_collected_s, len(execs), ok, len(execs0),
         len(retries), fin, succ))
    if len(first) < ok:
        say("  ATTENTION: %d attempt-0 runs never got a run directory: their launch failed in the "
            "server (no supervisor), and they were re-run as retries (attempt 1) after the "
            "retry delay (--failure_retry, 60 s)" % (ok - len(first)))
    if not execs:
        return
    if execs0:
        say("  attempt 0, due -> exec (pid record ms): first %d ms, p50 %d ms, p99 %d ms, "
            "last %d ms; %.0f launches/s" %
            (execs0[0], pct(execs0, 50), pct(execs0, 99), execs0[-1],
             len(execs0) / (max(execs0[-1], 1) / 1000)))
    if retries:
        rx = sorted(r["pid_start_ms"] - due for r in retries if r["pid_start_ms"] is not None)
        if rx:
            say("  retries, due -> exec: first %d ms, last %d ms" % (rx[0], rx[-1]))
    complete = len(execs) >= ok
    last = max(execs[-1], 1)
    rate = len(execs) / (last / 1000)
    say("  due -> last task ended: %d ms; all archived by the server (polled every 50 ms): %s"
        % (ends[-1] if ends else -1,
           "%.2f s" % all_collected_s if all_collected_s is not None
           else "not within %d s" % wait_s))
    say("  launches/s, due instant -> last exec: %s; server CPU %.2f s; SIGTERM -> exit %s s" %
        ("%.0f (all %d in %d ms)" % (rate, len(execs), execs[-1]) if complete
         else "n/a: only %d of %d exec'd within %d s" % (len(execs), ok, wait_s),
         cpu1 - cpu0, "%.2f" % stop_s if stop_s is not None else "timeout"))
    say("  machine CPU from the due instant until all were archived (or the wait ended): "
        "%.0f%% busy of %d cpus, %.1f cpu-s = %.2f cpu-ms per exec'd run (all processes)" %
        (100 * busy, os.cpu_count(), busy_s, 1000 * busy_s / len(execs)))
    spawn_ms = LAST_SPAWN_CPU_MS[-2:]
    run_ms = 1000 * (tree1 - tree0) / len(execs)
    if spawn_ms:
        sp = sum(spawn_ms) / len(spawn_ms)
        say("  CPU per run, all of chronos's processes (server, supervisors, tasks): "
            "%.2f ms; per spawn at the spawn limit: %.2f ms; CPU-bound launch rate = %.0f%% of "
            "the spawn limit" % (run_ms, sp, 100 * sp / run_ms))
    if lim:
        say("  spawn limit (posix_spawn of /bin/true, 2 in flight) before/after: %s/s; "
            "launches/s %s" % (" / ".join("%.0f" % x for x in (lim0, lim1) if x),
                               "= %.0f%% of it (target >= 50%%)" % (100 * rate / lim)
                               if complete else "n/a"))
    name = "2%s launches (%s)%s" % (variant, "default resources" if not extra else
                                    "cpus 0.001 mem 1 disk 1", ", zk store" if ZK else "")
    if complete:
        SUMMARY.append((name, "launches/s due -> last exec", "%.0f /s" % rate, ""))
        if lim:
            SUMMARY.append((name, "of the spawn limit (%.0f /s)" % lim,
                            "%.0f%%" % (100 * rate / lim), ">= 50%"))
        if spawn_ms:
            SUMMARY.append((name, "CPU ms per run / per spawn",
                            "%.2f / %.2f = %.0f%%" % (run_ms, sp, 100 * sp / run_ms), ">= 50%"))
        SUMMARY.append((name, "due -> last exec / last end", "%d / %d ms" %
                        (execs[-1], ends[-1] if ends else -1), ""))
    else:
        SUMMARY.append((name, "exec'd within %d s" % wait_s, "%d of %d" % (len(execs), ok), ""))
        if execs0:
            SUMMARY.append((name, "attempt 0 exec'd / failed to launch",
                            "%d / %d" % (len(execs0), ok - len(first)), ""))


# ---- 3. RSS per idle job, 4. restart -----------------------------------------------


def bench_idle_and_restart():
    say("== 3. RSS per idle job: %d jobs, schedule far in the future (R/2099-01-01.../P1D)" %
        IDLE_JOBS)
    data = os.path.join(TMPD, "idle")
    srv = Server(data, "idle")
    if srv.wait_ready() is None:
        say("server did not answer /ping; log:\n" + srv.log_text())
        srv.stop()
        return
    time.sleep(1.0)
    empty = proc_status(srv.pid)
    say("  empty server: VmRSS %d kB (RssAnon %d, RssFile %d), %d threads" %
        (empty["VmRSS"], empty["RssAnon"], empty["RssFile"], empty["Threads"]))
    bodies = [json.dumps({"name": "idle-%06d" % i, "command": "/bin/true", "shell": False,
                          "schedule": "R/2099-01-01T00:00:00.000Z/P1D"})
              for i in range(IDLE_JOBS)]
    body_bytes = sum(len(b) for b in bodies) / len(bodies)
    m0, c0 = machine_cpu(), proc_cpu_s(srv.pid)
    secs, ok, errs, nerr, recon = post_jobs(srv, bodies)
    m1, c1 = machine_cpu(), proc_cpu_s(srv.pid)
    post_rate = ok / secs if secs > 0 else 0
    say("  POSTed %d jobs in %.1f s: %.0f POST/s with %d keep-alive connections "
        "(%d errors%s; %d reconnects; request body %.0f B)" %
        (ok, secs, post_rate, POST_THREADS, nerr, (": " + "; ".join(errs)) if errs else "",
         recon, body_bytes))
    say("  meanwhile: machine %.0f%% busy of %d cpus (client and server share them); server "
        "CPU %.1f s = %.0f us per POST" %
        (100 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]), os.cpu_count(), c1 - c0,
         1e6 * (c1 - c0) / max(ok, 1)))
    del bodies
    time.sleep(2.0)
    if not srv.alive():
        say("  the server died: exit %s; log tail:\n%s" % (srv.proc.returncode,
                                                          srv.log_text()[-2000:]))
        return
    loaded = proc_status(srv.pid)
    per_job = (loaded["VmRSS"] - empty["VmRSS"]) * 1024 / max(ok, 1)
    per_job_anon = (loaded["RssAnon"] - empty["RssAnon"]) * 1024 / max(ok, 1)
    say("  loaded: VmRSS %d kB (RssAnon %d, VmHWM %d), %d threads" %
        (loaded["VmRSS"], loaded["RssAnon"], loaded["VmHWM"], loaded["Threads"]))
    say("  RSS per idle job: %.0f B = %.2f KiB (RssAnon: %.0f B)   (target <= 2 KiB = 2048 B)" %
        (per_job, per_job / 1024, per_job_anon))
    SUMMARY.append(("3 memory", "RSS per idle job (%dk jobs)" % (ok // 1000),
                    "%.0f B (%.2f KiB)" % (per_job, per_job / 1024), "<= 2 KiB"))
    SUMMARY.append(("3 memory", "POST rate (%d connections)" % POST_THREADS,
                    "%.0f /s" % post_rate, ""))
    # The listing on the running server, as a reference for the restart.
    t = time.monotonic()
    st, body = srv.get("/v1/scheduler/jobs")
    get_s = time.monotonic() - t
    n_listed = len(json.loads(body)) if st == 200 else -1
    say("  GET /v1/scheduler/jobs (warm): status %d, %d jobs, %.1f MB, %.3f s" %
        (st, n_listed, len(body) / 1e6, get_s))
    after_get = proc_status(srv.pid)
    say("  VmRSS after that GET: %d kB (VmHWM %d kB)" % (after_get["VmRSS"], after_get["VmHWM"]))
    del body

    say("== 4. restart with %d jobs" % ok)
    stop_s = srv.stop()
    store = os.path.join(data, "store")
    say("  SIGTERM -> exit: %s; store on disk: %.1f MB (%s)" %
        ("%.2f s" % stop_s if stop_s is not None else "no exit in 60 s (SIGKILL)",
         du_bytes(store) / 1e6, ", ".join(sorted(os.listdir(store))[:8]) if os.path.isdir(store)
         else "no store dir"))
    srv2 = Server(data, "restart", verbose=True)
    t_ping = srv2.wait_ready(limit_s=120, poll_s=0.002)
    if t_ping is None:
        say("  the restarted server did not answer /ping in 120 s; log tail:\n" +
            srv2.log_text()[-2000:])
        srv2.stop()
        return
    rss_r = proc_status(srv2.pid)
    t_loaded = None
    for line in srv2.log_text().splitlines():
        if " loaded " in line and " jobs" in line:
            try:
                ts = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
                ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
                t_loaded = ts - srv2.start_ns / 1e9
            except ValueError:
                pass
            say("  log: %s" % line.strip())
            break
    st, body = srv2.get("/v1/scheduler/jobs")
    t_jobs = (time.time_ns() - srv2.start_ns) / 1e9
    n2 = len(json.loads(body)) if st == 200 else -1
    del body
    say("  spawn -> \"loaded\" log line: %s" % ("%.3f s" % t_loaded if t_loaded is not None
                                                 else "not found"))
    say("  spawn -> GET /ping answers: %.3f s" % t_ping)
    say("  spawn -> GET /v1/scheduler/jobs returned %d jobs (status %d): %.3f s   "
        "(target <= 2 s)" % (n2, st, t_jobs))
    say("  after restart (before the GET): VmRSS %d kB, RssAnon %d kB -> %.0f B per job" %
        (rss_r["VmRSS"], rss_r["RssAnon"],
         (rss_r["VmRSS"] - empty["VmRSS"]) * 1024 / max(ok, 1)))
    restart_rows = []
    if t_loaded is not None:
        restart_rows.append(("4 restart", "spawn -> 'loaded %d jobs'" % ok, "%.3f s" % t_loaded,
                             ""))
    restart_rows.append(("4 restart", "spawn -> /ping answers", "%.3f s" % t_ping, ""))
    restart_rows.append(("4 restart", "spawn -> GET jobs = %d" % n2, "%.3f s" % t_jobs, "<= 2 s"))
    restart_rows.append(("4 restart", "RSS per job after restart", "%.0f B" %
                         ((rss_r["VmRSS"] - empty["VmRSS"]) * 1024 / max(ok, 1)), "<= 2 KiB"))
    SUMMARY.extend(restart_rows)
    listing_lateness(srv2, ok)
    stop2 = srv2.stop()
    say("  SIGTERM -> exit (restarted server): %s" %
        ("%.2f s" % stop2 if stop2 is not None else "no exit in 60 s (SIGKILL)"))


def listing_lateness(srv, n_jobs, n_probe=20, step_ms=200):
    """Extra: lateness of a few jobs that fall due while GET /v1/scheduler/jobs
    is requested back to back (the listing is built on the scheduler thread)."""
    say("  extra: lateness while GET /v1/scheduler/jobs (%d jobs) runs back to back: %d jobs "
        "due %d ms apart" % (n_jobs, n_probe, step_ms))
    first = now_ms() + 2000
    bodies = [json.dumps({"name": "probe-%02d" % k, "command": STAMP, "shell": False,
                          "schedule": "R/%s/PT1H" % iso(first + k * step_ms)})
              for k in range(n_probe)]
    _, ok, errs, nerr, _ = post_jobs(srv, bodies, threads=4)
    if nerr:
        say("    POST errors: %s" % "; ".join(errs))
    end = first + n_probe * step_ms + 300
    time.sleep(max(0, (first - 1500 - now_ms()) / 1000))
    gets, get_s = 0, []
    while now_ms() < end:
        t = time.monotonic()
        try:
            srv.get("/v1/scheduler/jobs")
        except (OSError, http.client.HTTPException):
            break
        get_s.append(time.monotonic() - t)
        gets += 1
    time.sleep(0.5)
    runs = [r for r in scan_runs(srv.data_dir) if r["id"].split(":", 3)[3].startswith("probe-")]
    lat = sorted((r["exec_ns"] - r["due_ms"] * 1_000_000) / 1e6 for r in runs
                 if r["exec_ns"] is not None)
    if not lat:
        say("    no probe run exec'd")
        return
    say("    %d GETs (each %.2f-%.2f s); %d of %d probes exec'd; due -> exec p50 %.1f ms, "
        "max %.1f ms   (compare with 1.)" %
        (gets, min(get_s or [0]), max(get_s or [0]), len(lat), n_probe, pct(lat, 50), lat[-1]))
    SUMMARY.append(("extra", "lateness during GET jobs (%dk)" % (n_jobs // 1000),
                    "p50 %.0f / max %.0f ms" % (pct(lat, 50), lat[-1]), ""))


def main():
    which = sys.argv[1:] or ["lateness", "burst", "idle"]
    hint = None
    if "lateness" in which:
        hint = bench_lateness()
        say("")
    if "burst" in which:
        if "a" in BURST_VARIANTS:
            bench_burst("a", {}, hint, BURST_WAIT_S)
            say("")
        if "b" in BURST_VARIANTS:
            bench_burst("b", {"cpus": 0.001, "mem": 1, "disk": 1}, hint, BURST_WAIT_S)
            say("")
    if "idle" in which:
        bench_idle_and_restart()
        say("")
    say("== summary")
    w = [max(len(r[i]) for r in SUMMARY + [("benchmark", "figure", "measured", "target")])
         for i in range(4)]
    fmt = "  %%-%ds  %%-%ds  %%-%ds  %%-%ds" % tuple(w)
    say(fmt % ("benchmark", "figure", "measured", "target"))
    say(fmt % tuple("-" * x for x in w))
    for r in SUMMARY:
        say(fmt % r)


if __name__ == "__main__":
    main()
