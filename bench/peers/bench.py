#!/usr/bin/env python3
"""bench.py - chronos and what a user would pick instead, side by side in one
run (bench/peers/run.sh builds what it needs and calls this).

The peers, each running the same task (stamp: reads CLOCK_REALTIME right
after exec and appends "<ns> <tag>" to a file) with at most 20 at once:
  chronos  `chronos serve`, local store and local resource manager, on
           127.0.0.1 (a free port), a fresh data dir per workload;
           --local_cpus 20 and jobs of cpus 1 (so 20 run at once), mem 1,
           disk 1, shell false (the task runs without a shell)
  cron     Debian's cron daemon, private to the bench: `cron -f` in its own
           mount namespace where /etc/cron.d holds only the bench's files
           (chronos-bench-<hex>-<k>, one per workload, written a few seconds
           before its minute and removed after), /etc/crontab and the
           crontabs spool are empty and /run is private (so a system cron,
           running or not, is neither seen nor disturbed); cron runs every
           command with /bin/sh and has no concurrency limit
  BullMQ   bench/peers/bullmq/peer.js (job schedulers, a Worker of
           concurrency 20 spawning the task without a shell) on a private
           redis-server (127.0.0.1, a free port, no persistence)
and the machine's limits measured in the same run (limits.c): posix_spawn
rate of the task, sequential and 2 in flight, and timer wake-up lateness.

Workloads:
  herd     HERD_N (200) jobs due at one minute boundary (cron's
           granularity): chronos `* * * * *`, a crontab line per job for that
           minute, BullMQ pattern '* * * * *'; lateness boundary -> exec
  burst    BURST_NS (1000,2000) jobs due at one instant: chronos
           R/<instant>/PT1H, BullMQ every 1 h from startDate <instant>, cron
           one crontab line per job for one minute boundary; instant -> first
           and last exec, launches/s = N / (instant -> last exec)
  steady   STEADY_PER_MIN (1000) jobs each due once a minute, spread evenly
           over the minute (chronos R/<start + i*60s/N>/PT1M, BullMQ every
           60000 from the same startDate), over STEADY_WINDOW_S (30) s;
           lateness due -> exec.  cron cannot place jobs inside a minute: n/a
A workload bound to a minute boundary gets a boundary to itself, the first
its preparation can make once the one before has finished (QUICK=1: all
share one); the others run between boundaries when their estimate (from the
launch rates seen so far) fits.  The wait for a workload's runs ends when all
have run, or none has for STALL_S (20 s), or after WAIT_S (600 s; quick 120):
one that did not finish shows "only X of N".  The next workload starts only
then, so no two overlap, however slow the machine.

Environment: CHRONOS, STAMP, LIMITS, TMPD, PIDFILE (pids run.sh kills on
exit), CLEANUP (files run.sh removes on exit), OUT (logs), JSON_OUT,
BULLMQ_DIR, QUICK, the sizes above, REDIS_AOF=1 (redis with appendonly yes,
appendfsync everysec, as BullMQ's production guide recommends).
Prints figures, never passes or fails; exits non-zero only when it cannot
run at all.
"""
import datetime
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import iso, now_ms, pct  # noqa: E402

CHRONOS = os.environ["CHRONOS"]
STAMP = os.environ["STAMP"]
LIMITS = os.environ["LIMITS"]
TMPD = os.environ["TMPD"]
PIDFILE = os.environ["PIDFILE"]
CLEANUP = os.environ["CLEANUP"]
OUT = os.environ["OUT"]
JSON_OUT = os.environ["JSON_OUT"]
BULLMQ_DIR = os.environ["BULLMQ_DIR"]
QUICK = os.environ.get("QUICK") == "1"
CONCURRENCY = 20


def env_int(name, full, quick):
    return int(os.environ.get(name, quick if QUICK else full))


HERD_N = env_int("HERD_N", 200, 20)
BURST_NS = [int(x) for x in os.environ.get("BURST_NS", "100,200" if QUICK else "1000,2000")
            .split(",")]
STEADY_PER_MIN = env_int("STEADY_PER_MIN", 1000, 600)
STEADY_WINDOW_S = env_int("STEADY_WINDOW_S", 30, 8)
LIMIT_SPAWNS = env_int("LIMIT_SPAWNS", 2000, 300)
LIMIT_SLEEPS = env_int("LIMIT_SLEEPS", 1000, 200)
PERIOD_MS = 60000
WAIT_S = env_int("WAIT_S", 600, 120)  # the longest wait for a workload's runs
STALL_S = env_int("STALL_S", 20, 20)  # or until none has run for this long

RESULTS = {"workloads": {}, "notes": []}
T_START = time.monotonic()


def say(*a):
    print(*a, flush=True)


def note(text):
    RESULTS["notes"].append(text)
    say("  NOTE: " + text)


def elapsed():
    return "%3.0fs" % (time.monotonic() - T_START)


def remember_pid(pid):
    with open(PIDFILE, "a") as f:
        f.write("%d\n" % pid)


def machine_cpu():
    """(busy, total) jiffies of all cpus, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def busy_pct(m0, m1):
    return round(100.0 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]), 1)


def sleep_until_ms(t):
    d = (t - now_ms()) / 1000.0
    if d > 0:
        time.sleep(d)


def kill_leftovers(path):
    """Kills (by pid) any process whose command line names `path`: a
    chronos supervisor or task left under a workload's data dir."""
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if path.encode() in cmd:
            try:
                os.kill(int(d), signal.SIGKILL)
            except OSError:
                pass


# ---- stamps ------------------------------------------------------------------


class Stamps:
    """The stamp file of one peer in one workload: lines "<exec ns> <tag>-<i>"."""

    def __init__(self, peer, workload):
        self.path = os.path.join(TMPD, "stamps", "%s-%s" % (peer, workload))
        self.tag = "%s-%s" % (peer, workload)

    def count(self):
        try:
            with open(self.path, "rb") as f:
                return f.read().count(b"\n")
        except OSError:
            return 0

    def read(self):
        """[(exec_ms float, index)] of this workload's tag, in file order."""
        out = []
        try:
            with open(self.path) as f:
                for line in f:
                    ns, _, tag = line.strip().partition(" ")
                    prefix, _, i = tag.rpartition("-")
                    if prefix == self.tag and i.isdigit():
                        out.append((int(ns) / 1e6, int(i)))
        except OSError:
            pass
        return out

    def wait(self, n, start_ms, poll_s=0.05):
        """Until n runs have stamped, or none has for STALL_S (counted from
        start_ms at first), or WAIT_S after start_ms."""
        last, last_change = -1, max(now_ms(), start_ms)
        while True:
            c = self.count()
            t = now_ms()
            if c != last:
                last, last_change = c, max(t, start_ms)
            if c >= n or t >= start_ms + WAIT_S * 1000 or t >= last_change + STALL_S * 1000:
                return c
            time.sleep(poll_s)


def summarize(stamps, n_expected, due_of, instant=None):
    """Figures of one peer in one workload: lateness due -> exec (ms) of each
    stamped run, duplicates, and for a burst (instant given) instant -> first
    and last exec and launches/s."""
    rows = stamps.read()
    seen, dups, lat = set(), 0, []
    for exec_ms, i in rows:
        due = due_of(i, exec_ms)
        key = (i, due)
        if key in seen:
            dups += 1
        seen.add(key)
        lat.append(exec_ms - due)
    lat.sort()
    r = {"expected": n_expected, "stamped": len(rows), "duplicates": dups}
    if lat:
        r["lateness_ms"] = {"min": round(lat[0], 2), "p50": round(pct(lat, 50), 2),
                            "p99": round(pct(lat, 99), 2), "max": round(lat[-1], 2)}
    if instant is not None and rows:
        execs = sorted(e for e, _ in rows)
        r["first_ms"] = round(execs[0] - instant, 1)
        r["last_ms"] = round(execs[-1] - instant, 1)
        if len(rows) >= n_expected:
            r["launches_per_s"] = round(len(rows) / max(execs[-1] - instant, 1) * 1000, 1)
            if len(execs) > 1:
                r["spawn_rate_first_to_last"] = round(
                    (len(execs) - 1) / max(execs[-1] - execs[0], 1) * 1000, 1)
        else:
            r["incomplete"] = "%d of %d" % (len(rows), n_expected)
    elif rows and len(rows) < n_expected:
        r["incomplete"] = "%d of %d" % (len(rows), n_expected)
    return r


def show(peer, label, r):
    parts = ["%d/%d stamped" % (r["stamped"], r["expected"])]
    if r.get("duplicates"):
        parts.append("%d DUPLICATES" % r["duplicates"])
    if "lateness_ms" in r:
        l = r["lateness_ms"]
        parts.append("lateness p50 %.1f ms, p99 %.1f ms, max %.1f ms (min %.1f)" %
                     (l["p50"], l["p99"], l["max"], l["min"]))
    if "last_ms" in r:
        parts.append("instant -> first exec %.0f ms, last %.0f ms" % (r["first_ms"], r["last_ms"]))
    if "launches_per_s" in r:
        parts.append("%.0f launches/s" % r["launches_per_s"])
    if "busy_pct" in r:
        parts.append("machine %.0f%% busy" % r["busy_pct"])
    say("  %-8s %s: %s" % (peer, label, "; ".join(parts)))
    for k in ("note", "error"):
        if r.get(k):
            say("  %-8s   %s: %s" % ("", k, r[k]))


# ---- the machine's limits -------------------------------------------------------


def measure_limits():
    say("== machine limits (%s): posix_spawn of the task, %d times sequentially and with 2 in "
        "flight; %d timer sleeps (clock_nanosleep, absolute, slack 1 ns)" %
        (elapsed(), LIMIT_SPAWNS, LIMIT_SLEEPS))
    out = {}
    f = os.path.join(TMPD, "stamps", "limits")
    for key, args in (("spawn_seq", ["spawn", str(LIMIT_SPAWNS), "1", STAMP, f]),
                      ("spawn_2", ["spawn", str(LIMIT_SPAWNS), "2", STAMP, f]),
                      ("timer", ["timer", str(LIMIT_SLEEPS)])):
        m0 = machine_cpu()
        p = subprocess.run([LIMITS] + args, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            say("  limits %s failed: %s" % (key, p.stderr.strip()))
            continue
        out[key] = json.loads(p.stdout)
        out[key]["busy_pct"] = busy_pct(m0, machine_cpu())
        say("  %-9s %s" % (key, p.stdout.strip()))
    RESULTS["limits"] = out
    learn_limits(out)
    return out


# ---- chronos -----------------------------------------------------------------------


class ChronosServer(benchlib.Server):
    READY_LIMIT_S = 60
    READY_POLL_S = 0.01

    def __init__(self, tag):
        self.data_dir = os.path.join(TMPD, tag)  # tag: chronos-<workload>
        super().__init__(CHRONOS, ["--data_dir", self.data_dir, "--local_cpus", str(CONCURRENCY),
                                   "--verbose", "false"], OUT, tag, PIDFILE)

    def finish(self):
        self.stop()
        kill_leftovers(self.data_dir)


# POSTs/s chronos took so far (the first guess is slow for a quiet machine),
# for how far ahead a burst's instant must be.
SEEN_POST = {"rate": 500.0}


def post_lead_ms(n):
    return int(3000 + 1500 * n / SEEN_POST["rate"])


def chronos_post(srv, bodies, threads=8):
    """POSTs the bodies (benchlib.post_jobs): (seconds, errors[:3], n_errors)."""
    secs, _, errors, n_err = benchlib.post_jobs(srv.port, bodies, threads)
    if len(bodies) >= 100 and secs > 0:
        SEEN_POST["rate"] = len(bodies) / secs
    return secs, errors, n_err


def chronos_bodies(stamps, n, schedule_of):
    return [json.dumps({"name": "%s-%d" % (stamps.tag, i), "command": STAMP, "shell": False,
                        "arguments": [stamps.path, "%s-%d" % (stamps.tag, i)],
                        "schedule": schedule_of(i), "cpus": 1, "mem": 1, "disk": 1})
            for i in range(n)]


def chronos_start(tag):
    srv = ChronosServer(tag)
    if srv.wait_ready() is None:
        srv.finish()
        raise RuntimeError("chronos did not answer /ping; log %s" % srv.log_path)
    return srv


class ChronosHerd:
    """N jobs `* * * * *`, posted before the boundary."""
    peer, lead_s = "chronos", 10

    def __init__(self, n, workload="herd"):
        self.n, self.stamps, self.srv, self.err = n, Stamps("chronos", workload), None, None

    def prepare(self, boundary):
        try:
            self.srv = chronos_start(self.stamps.tag)
            secs, errs, nerr = chronos_post(self.srv, chronos_bodies(self.stamps, self.n,
                                                                     lambda i: "* * * * *"))
            if nerr:
                self.err = "%d POST errors: %s" % (nerr, "; ".join(errs))
            if now_ms() > boundary - 500:
                self.err = "posting ended %d ms before the boundary" % (boundary - now_ms())
        except RuntimeError as e:
            self.err = str(e)

    def finish(self, boundary):
        if self.srv is not None:
            self.stamps.wait(self.n, boundary)
            self.srv.finish()
        r = summarize(self.stamps, self.n, lambda i, e: boundary, instant=boundary)
        if self.err:
            r["error"] = self.err
        return r


def chronos_burst(n):
    stamps = Stamps("chronos", "burst%d" % n)
    srv = chronos_start(stamps.tag)
    try:
        at = now_ms() + post_lead_ms(n)  # room for the POSTs
        secs, errs, nerr = chronos_post(srv, chronos_bodies(stamps, n,
                                                            lambda i: "R/%s/PT1H" % iso(at)))
        late_post = now_ms() - at
        sleep_until_ms(at)
        m0 = machine_cpu()
        stamps.wait(n, at)
        m1 = machine_cpu()
    finally:
        srv.finish()
    r = summarize(stamps, n, lambda i, e: at, instant=at)
    r["busy_pct"] = busy_pct(m0, m1)
    r["post_s"] = round(secs, 2)
    if nerr:
        r["error"] = "%d POST errors: %s" % (nerr, "; ".join(errs))
    if late_post > 0:
        r["error"] = "posting ended %d ms after the instant" % late_post
    return r


def chronos_steady(per_min, window_s):
    stamps = Stamps("chronos", "steady")
    srv = chronos_start(stamps.tag)
    try:
        start = now_ms() + post_lead_ms(per_min)
        first = [start + i * PERIOD_MS // per_min for i in range(per_min)]
        secs, errs, nerr = chronos_post(srv, chronos_bodies(
            stamps, per_min, lambda i: "R/%s/PT1M" % iso(first[i])))
        late_post = now_ms() - start
        sleep_until_ms(start)
        m0 = machine_cpu()
        sleep_until_ms(start + window_s * 1000)
        m1 = machine_cpu()
        time.sleep(1.0)  # the window's last runs
    finally:
        srv.finish()
    return steady_figures(stamps, first, start, window_s, m0, m1,
                          ("%d POST errors: %s" % (nerr, "; ".join(errs)) if nerr else None) or
                          ("posting ended %d ms after the window opened" % late_post
                           if late_post > 0 else None))


def steady_figures(stamps, first, start, window_s, m0, m1, err):
    end = start + window_s * 1000

    def due_of(i, e):
        k = max(0, round((e - first[i]) / PERIOD_MS))
        return first[i] + k * PERIOD_MS

    rows = [(e, i) for e, i in stamps.read() if start <= due_of(i, e) < end]
    expected = sum(1 for f in first if f < end)
    lat = sorted(e - due_of(i, e) for e, i in rows)
    r = {"expected": expected, "stamped": len(rows), "duplicates": len(rows) - len(
        {(i, due_of(i, e)) for e, i in rows}), "busy_pct": busy_pct(m0, m1),
        "window_s": window_s}
    if lat:
        r["lateness_ms"] = {"min": round(lat[0], 2), "p50": round(pct(lat, 50), 2),
                            "p99": round(pct(lat, 99), 2), "max": round(lat[-1], 2)}
    if len(rows) < expected:
        r["incomplete"] = "%d of %d" % (len(rows), expected)
    if err:
        r["error"] = err
    return r


# ---- cron ------------------------------------------------------------------------


class Cron:
    """Debian's cron daemon for the bench only.  Each minute-boundary
    workload is one file in /etc/cron.d (chronos-bench-<hex>-<k>), a line per
    job naming its minute (minute, hour, day, month: each job runs once),
    written a few seconds before that minute (cron re-reads /etc/cron.d when
    it wakes up for a minute, before it runs that minute's jobs) and removed
    after."""

    def __init__(self):
        self.proc = None
        self.mode = None
        self.reason = None
        self.prefix = "chronos-bench-" + secrets.token_hex(4)
        self.files = 0
        self.dir = None

    @staticmethod
    def others():
        """pids of cron daemons already running (not ours)."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().strip() == "cron":
                        pids.append(int(d))
            except OSError:
                pass
        return pids

    def start(self):
        if os.geteuid() != 0:
            self.reason = "cron's daemon needs root (run the bench as root)"
            return False
        if not shutil.which("cron"):
            self.reason = "cron is not installed (make deps installs it)"
            return False
        others = self.others()
        root = os.path.join(TMPD, "cron")
        for d in ("cron.d", "crontabs", "run"):
            os.makedirs(os.path.join(root, d), mode=0o755, exist_ok=True)
        open(os.path.join(root, "crontab"), "w").close()
        log = open(os.path.join(OUT, "cron.log"), "wb")
        script = ("mount --bind %s/cron.d /etc/cron.d && mount --bind %s/crontab /etc/crontab && "
                  "mount --bind %s/crontabs /var/spool/cron/crontabs && mount --bind %s/run /run "
                  "&& exec cron -f" % (root, root, root, root))
        ok_ns = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                               capture_output=True).returncode == 0
        if ok_ns:
            if others:
                say("  cron: a cron daemon is already running (pid %s); the bench's runs in a "
                    "mount namespace of its own: neither sees the other's files" %
                    ",".join(map(str, others)))
            self.mode = "own daemon in a private mount namespace"
            self.dir = os.path.join(root, "cron.d")
            # unshare and sh exec: the pid is cron's.
            self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                          "sh", "-c", script], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        else:
            # No namespaces here: the host's /etc/cron.d (each file is listed
            # for run.sh to remove, and removed here after its minute).
            self.dir = "/etc/cron.d"
            if others:
                self.mode = "the system's cron daemon (pid %s), no namespace here" % \
                            ",".join(map(str, others))
                say("  cron: %s" % self.mode)
                return True
            self.mode = "own daemon on the host's /etc/cron.d"
            self.proc = subprocess.Popen(["cron", "-f"], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log)
        remember_pid(self.proc.pid)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            self.reason = "cron exited at once (%s); see %s" % (self.proc.returncode,
                                                               os.path.join(OUT, "cron.log"))
            return False
        try:
            with open("/proc/%d/comm" % self.proc.pid) as f:
                comm = f.read().strip()
        except OSError:
            comm = "?"
        say("  cron: pid %d (%s), %s; files /etc/cron.d/%s-<k>" %
            (self.proc.pid, comm, self.mode, self.prefix))
        return True

    def install(self, boundary, stamps, n):
        """Writes the file of one workload: n lines due at `boundary`."""
        self.files += 1
        path = os.path.join(self.dir, "%s-%d" % (self.prefix, self.files))
        if self.dir == "/etc/cron.d":
            with open(CLEANUP, "a") as f:
                f.write(path + "\n")
        user = pwd.getpwuid(os.geteuid()).pw_name
        t = time.localtime(boundary / 1000)  # cron reads the local time
        lines = ["# chronos bench/peers: removed when its minute is over", "SHELL=/bin/sh",
                 "MAILTO=\"\""]
        lines += ["%d %d %d %d * %s %s %s %s-%d" % (t.tm_min, t.tm_hour, t.tm_mday, t.tm_mon, user,
                                                   STAMP, stamps.path, stamps.tag, i)
                  for i in range(n)]
        tmp = os.path.join(os.path.dirname(path), ".tmp-" + os.path.basename(path))
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)  # cron never reads a half-written file
        return path

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class CronHerd:
    """N crontab lines for one minute."""
    peer, lead_s = "cron", 6

    def __init__(self, cron, n, workload):
        self.cron, self.n, self.stamps, self.path = cron, n, Stamps("cron", workload), None

    def prepare(self, boundary):
        if not self.cron.reason:
            self.path = self.cron.install(boundary, self.stamps, self.n)

    def finish(self, boundary):
        if self.cron.reason:
            return {"expected": self.n, "stamped": 0, "error": self.cron.reason}
        self.stamps.wait(self.n, boundary)
        if self.path:
            os.unlink(self.path)
        return summarize(self.stamps, self.n, lambda i, e: boundary, instant=boundary)


# ---- BullMQ ----------------------------------------------------------------------


class Redis:
    def __init__(self):
        self.port = benchlib.free_port()
        d = os.path.join(TMPD, "redis")
        os.makedirs(d, exist_ok=True)
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--dir", d, "--logfile", "", "--daemonize", "no"]
        if os.environ.get("REDIS_AOF") == "1":
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            args += ["--appendonly", "no"]
        self.log = open(os.path.join(OUT, "redis.log"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        remember_pid(self.proc.pid)
        self.version = None
        end = time.monotonic() + 10
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as s:
                    s.sendall(b"INFO server\r\n")
                    data = s.recv(65536).decode(errors="replace")
                    for line in data.splitlines():
                        if line.startswith("redis_version:"):
                            self.version = line.split(":", 1)[1].strip()
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer; see %s" % os.path.join(OUT, "redis.log"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class BullRun:
    """One call of peer.js: started, its "ready" line read (the schedulers
    exist then), later awaited."""
    _seq = 0

    def __init__(self, redis, stamps, n, mode, expect, **extra):
        BullRun._seq += 1
        cfg = {"port": redis.port, "queue": "bench-%d-%s" % (BullRun._seq, stamps.tag),
               "stamp": STAMP, "out": stamps.path, "concurrency": CONCURRENCY, "n": n,
               "mode": mode, "expect": expect, "tag": stamps.tag}
        cfg.update(extra)
        self.log_path = os.path.join(OUT, "bullmq-%s.log" % stamps.tag)
        self.err_log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["node", "peer.js", json.dumps(cfg)], cwd=BULLMQ_DIR,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err_log, text=True)
        remember_pid(self.proc.pid)
        self.ready = None
        line = self.proc.stdout.readline()
        if line.startswith("ready "):
            self.ready = json.loads(line[6:])

    def wait(self, limit_s):
        """Its last line; SIGTERM first (it then stops its Worker and prints
        it) when it still runs: its runs are over or given up."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=limit_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        self.err_log.close()
        last = [x for x in (out or "").splitlines() if x.startswith("{")]
        if self.proc.returncode != 0 or not last:
            with open(self.log_path, errors="replace") as f:
                tail = f.read()[-300:]
            return {"error": "peer.js exit %s: %s" % (self.proc.returncode, tail.strip())}
        return json.loads(last[-1])


def bull_check(r, ready, want_due):
    if ready is None:
        r["error"] = "peer.js printed no ready line"
    elif ready.get("late_ms", 0) > 0:
        r["error"] = "the schedulers were made %d ms after their first instant" % ready["late_ms"]
    elif want_due is not None and (ready["first_due_min"] != want_due or
                                   ready["first_due_max"] != want_due):
        r["error"] = "first jobs due %s..%s, not at %s" % (ready["first_due_min"],
                                                           ready["first_due_max"], want_due)


class BullHerd:
    peer, lead_s = "BullMQ", 10

    def __init__(self, redis, n, workload="herd"):
        self.redis, self.n, self.stamps, self.run = redis, n, Stamps("bullmq", workload), None

    def prepare(self, boundary):
        self.run = BullRun(self.redis, self.stamps, self.n, "herd", self.n,
                           until=boundary + WAIT_S * 1000)

    def finish(self, boundary):
        self.stamps.wait(self.n, boundary)
        res = self.run.wait(60)
        r = summarize(self.stamps, self.n, lambda i, e: boundary, instant=boundary)
        bull_check(r, self.run.ready, boundary)
        if res.get("error"):
            r["error"] = res["error"]
        r["upsert_s"] = res.get("upsert_s")
        return r


def bull_burst(redis, n):
    """n schedulers due at one instant, which peer.js picks once its Worker
    is up: lead_ms ahead, room for the upserts."""
    stamps = Stamps("bullmq", "burst%d" % n)
    run = BullRun(redis, stamps, n, "burst", n, lead_ms=2000 + n, wait_ms=WAIT_S * 1000)
    if run.ready is None:
        return {"expected": n, "stamped": 0, "error": run.wait(10).get("error", "no ready line")}
    at = run.ready["at"]
    sleep_until_ms(at)
    m0 = machine_cpu()
    stamps.wait(n, at)
    m1 = machine_cpu()
    res = run.wait(60)
    r = summarize(stamps, n, lambda i, e: at, instant=at)
    r["busy_pct"] = busy_pct(m0, m1)
    r["upsert_s"] = res.get("upsert_s")
    bull_check(r, run.ready, at)
    if res.get("error"):
        r["error"] = res["error"]
    return r


def bull_steady(redis, per_min, window_s):
    stamps = Stamps("bullmq", "steady")
    run = BullRun(redis, stamps, per_min, "steady", 0, lead_ms=2000 + per_min, period=PERIOD_MS,
                  wait_ms=window_s * 1000 + 1000)
    if run.ready is None:
        return {"expected": per_min, "stamped": 0,
                "error": run.wait(10).get("error", "no ready line")}
    start = run.ready["start"]
    first = [start + i * PERIOD_MS // per_min for i in range(per_min)]
    sleep_until_ms(start)
    m0 = machine_cpu()
    sleep_until_ms(start + window_s * 1000)
    m1 = machine_cpu()
    time.sleep(1.5)  # the window's last runs (peer.js stops 1 s after the window)
    res = run.wait(60)
    r = steady_figures(stamps, first, start, window_s, m0, m1, res.get("error"))
    bull_check(r, run.ready, None)
    if run.ready.get("first_due_min") != first[0]:
        r["error"] = "first job due %s, not %s" % (run.ready.get("first_due_min"), first[0])
    return r


# ---- the plan --------------------------------------------------------------------

# Launches/s each peer showed so far, for the estimates of what is left;
# until then slower than a quiet 2-core machine, and a quarter of the spawn
# rate measured when that is less (a loaded machine).
SEEN_RATE = {"chronos": 150.0, "BullMQ": 200.0}
SEEN = set()


def learn(peer, r):
    if peer in SEEN_RATE and r.get("launches_per_s"):
        SEEN_RATE[peer] = r["launches_per_s"]
        SEEN.add(peer)


def learn_limits(limits):
    rate = limits.get("spawn_2", {}).get("rate")
    if rate:
        for peer in SEEN_RATE:
            if peer not in SEEN:
                SEEN_RATE[peer] = min(SEEN_RATE[peer], rate / 4)


def est_burst(peer, n):
    setup = post_lead_ms(n) / 1000 if peer == "chronos" else 2 + n / 1000
    return 2 + setup + 1.2 * n / SEEN_RATE[peer]


class Free:
    """A workload not bound to a minute boundary: run between the boundary
    workloads when its estimate fits."""

    def __init__(self, name, est, fn):
        self.name, self.est, self.fn = name, est, fn


def record(workload, peer, r):
    RESULTS["workloads"].setdefault(workload, {})[peer] = r
    learn(peer, r)


def run_free(g):
    say("-- %s (%s, estimate %.0f s)" % (g.name, elapsed(), g.est()))
    try:
        g.fn()
    except (RuntimeError, OSError, ValueError) as e:
        say("  %s failed: %s" % (g.name, e))
        RESULTS["notes"].append("%s failed: %s" % (g.name, e))


def run_free_until(free, until_ms):
    """Runs queued free workloads while one fits before until_ms (the first
    that fits, in queue order)."""
    while True:
        fit = [g for g in free if now_ms() + g.est() * 1000 < until_ms]
        if not fit:
            return
        free.remove(fit[0])
        run_free(fit[0])


def run_plan(bound, free):
    """bound: [[tasks sharing a minute boundary]], each task with prepare(b),
    finish(b) -> figures, peer, lead_s, n, stamps.  Each group gets
    the first boundary its preparation can make once the one before has
    finished; the free workloads that fit run before it."""
    while bound:
        tasks = bound.pop(0)
        lead = max(t.lead_s for t in tasks)
        b = (now_ms() + (lead + 2) * 1000) // 60000 * 60000 + 60000
        run_free_until(free, b - (lead + 2) * 1000)
        if now_ms() > b - lead * 1000:  # a free workload ran over: the next minute
            b += 60000
        say("-- minute boundary %s: %s (%s)" % (
            iso(b), ", ".join("%s %d" % (t.peer, t.n) for t in tasks), elapsed()))
        sleep_until_ms(b - lead * 1000)
        for t in tasks:
            t.prepare(b)
        sleep_until_ms(b)
        m0 = machine_cpu()
        for t in tasks:
            r = t.finish(b)
            r["busy_pct"] = busy_pct(m0, machine_cpu())
            workload = t.stamps.tag.split("-", 1)[1]
            record(workload, t.peer, r)
            show(t.peer, workload, r)
    while free:
        run_free(free.pop(0))


# ---- the table ------------------------------------------------------------------


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    return ("%.0f" % v if abs(v) >= 100 else "%.1f" % v) + unit


def ratio(c, p, lower_better):
    if c is None or p is None or isinstance(c, str) or isinstance(p, str) or p == 0:
        return "n/a"
    x = c / p
    better = (x < 1) if lower_better else (x > 1)
    if abs(x - 1) < 0.005:
        return "%.2f (even)" % x
    return "%.2f (%s)" % (x, "chronos better" if better else "peer better")


def table():
    W = RESULTS["workloads"]
    L = RESULTS.get("limits", {})
    rate2 = L.get("spawn_2", {}).get("rate")
    seq = L.get("spawn_seq", {})
    timer = L.get("timer", {})

    def get(w, peer, *path):
        r = W.get(w, {}).get(peer)
        if r is None:
            return None
        if r.get("incomplete") and path[0] in ("last_ms", "launches_per_s"):
            return "only " + r["incomplete"]
        for p in path:
            if not isinstance(r, dict) or p not in r:
                return None
            r = r[p]
        return r

    rows = []  # (label, chronos, cron, bullmq, lower_better, limit, unit)
    n = HERD_N
    for q in ("p50", "p99", "max"):
        frac = {"p50": 0.5, "p99": 0.99, "max": 1.0}[q]
        lim = frac * n / rate2 * 1000 if rate2 else None
        rows.append(("%d due at one minute boundary: lateness %s" % (n, q),
                     get("herd", "chronos", "lateness_ms", q), get("herd", "cron", "lateness_ms", q),
                     get("herd", "BullMQ", "lateness_ms", q), True, lim, " ms"))
    for bn in BURST_NS:
        w = "burst%d" % bn
        rows.append(("%s due at one instant: instant -> last exec" % "{:,}".format(bn),
                     get(w, "chronos", "last_ms"), get(w, "cron", "last_ms"),
                     get(w, "BullMQ", "last_ms"), True, bn / rate2 * 1000 if rate2 else None,
                     " ms"))
        rows.append(("%s due at one instant: launches/s" % "{:,}".format(bn),
                     get(w, "chronos", "launches_per_s"), get(w, "cron", "launches_per_s"),
                     get(w, "BullMQ", "launches_per_s"), False, rate2, "/s"))
    for q in ("p50", "p99"):
        lim = None
        if timer.get(q + "_us") is not None and seq.get(q + "_us") is not None:
            lim = (timer[q + "_us"] + seq[q + "_us"]) / 1000
        rows.append(("steady %s/min over %d s: lateness %s" % ("{:,}".format(STEADY_PER_MIN),
                                                              STEADY_WINDOW_S, q),
                     get("steady", "chronos", "lateness_ms", q), "n/a (minute granularity)",
                     get("steady", "BullMQ", "lateness_ms", q), True, lim, " ms"))
    head = ("workload", "chronos", "cron", "BullMQ", "chronos/cron", "chronos/BullMQ",
            "machine limit")
    body = []
    out_rows = []
    for label, c, cr, bu, lower, lim, unit in rows:
        body.append((label, fmt(c, unit), fmt(cr, unit), fmt(bu, unit), ratio(c, cr, lower),
                     ratio(c, bu, lower), fmt(lim, unit)))
        out_rows.append({"workload": label, "chronos": c, "cron": cr, "bullmq": bu,
                         "ratio_chronos_cron": ratio(c, cr, lower),
                         "ratio_chronos_bullmq": ratio(c, bu, lower),
                         "machine_limit": lim, "unit": unit.strip(),
                         "better": "lower" if lower else "higher"})
    RESULTS["table"] = out_rows
    w = [max(len(r[i]) for r in body + [head]) for i in range(len(head))]
    line = "| " + " | ".join("%%-%ds" % x for x in w) + " |"
    say(line % head)
    say(line % tuple("-" * x for x in w))
    for r in body:
        say(line % r)
    say("ratio = chronos / peer: for lateness and times lower is better, for launches/s higher; "
        "'chronos better' or 'peer better' says which way each row goes.")
    say("machine limit: herd/burst rows = N launches back to back at the spawn rate with 2 in "
        "flight measured above (%s/s); steady rows = timer lateness + one sequential spawn "
        "(p50 or p99)." % fmt(rate2))
    busy = sorted(set(round(r.get("busy_pct", 0)) for v in W.values() for r in v.values()
                      if isinstance(r, dict) and r.get("busy_pct") is not None))
    if busy:
        say("machine busy during the workloads: %d%%-%d%% of %d cpus (each workload's share is "
            "in the JSON; a peer's own work counts too)" % (busy[0], busy[-1], os.cpu_count()))


def show_rec(workload, peer, r):
    record(workload, peer, r)
    show(peer, workload, r)


def main():
    os.makedirs(os.path.join(TMPD, "stamps"), exist_ok=True)
    host = {"nproc": os.cpu_count(), "kernel": os.uname().release}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        host["cpu"] = [x.split(":", 1)[1].strip() for x in lscpu.splitlines()
                       if x.startswith("Model name")][0]
    except (OSError, IndexError):
        host["cpu"] = "?"
    RESULTS.update({"date": datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"), "quick": QUICK, "host": host,
        "load_average_at_start": open("/proc/loadavg").read().split()[:3],
        "concurrency": CONCURRENCY,
        "sizes": {"herd": HERD_N, "bursts": BURST_NS, "steady_per_min": STEADY_PER_MIN,
                  "steady_window_s": STEADY_WINDOW_S}})
    m0 = machine_cpu()
    time.sleep(1.0)
    RESULTS["busy_pct_before"] = busy_pct(m0, machine_cpu())
    say("machine busy before the bench: %.0f%% of %d cpus (over 1 s; other work on the machine "
        "shows in every figure)" % (RESULTS["busy_pct_before"], os.cpu_count()))

    redis = None
    try:
        if not shutil.which("node") or not os.path.isdir(
                os.path.join(BULLMQ_DIR, "node_modules", "bullmq")):
            raise RuntimeError("node or bench/peers/bullmq/node_modules (npm ci) is missing")
        redis = Redis()
        say("  redis-server %s on 127.0.0.1:%d (pid %d; %s)" % (
            redis.version, redis.port, redis.proc.pid,
            "appendonly everysec" if os.environ.get("REDIS_AOF") == "1" else "no persistence"))
        RESULTS["redis_version"] = redis.version
    except (RuntimeError, OSError) as e:
        note("BullMQ skipped: %s" % e)
        redis = None
    cron = Cron()

    if QUICK:  # one boundary for all: a smoke run
        group = [ChronosHerd(HERD_N), CronHerd(cron, HERD_N, "herd")]
        group += [CronHerd(cron, bn, "burst%d" % bn) for bn in BURST_NS]
        if redis:
            group.append(BullHerd(redis, HERD_N))
        bound = [group]
        note("QUICK: every minute-boundary workload shares one boundary, and the sizes are "
             "small: a smoke run whose figures mean little")
    else:
        bound = [[ChronosHerd(HERD_N)], [CronHerd(cron, HERD_N, "herd")]]
        if redis:
            bound.append([BullHerd(redis, HERD_N)])
        bound += [[CronHerd(cron, bn, "burst%d" % bn)] for bn in BURST_NS]
    free = [Free("machine limits", lambda: 3 + 3 * LIMIT_SPAWNS / 400 + LIMIT_SLEEPS * 0.006,
                 measure_limits)]
    for bn in BURST_NS:
        free.append(Free("chronos burst %d" % bn, lambda bn=bn: est_burst("chronos", bn),
                         lambda bn=bn: show_rec("burst%d" % bn, "chronos",
                                                chronos_burst(bn))))
    if redis:
        for bn in BURST_NS:
            free.append(Free("BullMQ burst %d" % bn, lambda bn=bn: est_burst("BullMQ", bn),
                             lambda bn=bn: show_rec("burst%d" % bn, "BullMQ",
                                                    bull_burst(redis, bn))))
    free.append(Free("chronos steady", lambda: STEADY_WINDOW_S + 5 + STEADY_PER_MIN / 400,
                     lambda: show_rec("steady", "chronos",
                                      chronos_steady(STEADY_PER_MIN, STEADY_WINDOW_S))))
    if redis:
        free.append(Free("BullMQ steady", lambda: STEADY_WINDOW_S + 5 + STEADY_PER_MIN / 800,
                         lambda: show_rec("steady", "BullMQ",
                                          bull_steady(redis, STEADY_PER_MIN, STEADY_WINDOW_S))))
    try:
        if not cron.start():
            note("cron skipped: %s" % cron.reason)
        RESULTS["cron_mode"] = cron.mode
        run_plan(bound, free)
    finally:
        cron.stop()
        if redis:
            redis.stop()
    say("")
    say("== peers side by side (%s; %s; %d cpus, %s, kernel %s; load average at start %s)" % (
        RESULTS["date"], "QUICK smoke run" if QUICK else "full run", host["nproc"], host["cpu"],
        host["kernel"], " ".join(RESULTS["load_average_at_start"])))
    table()
    os.makedirs(os.path.dirname(JSON_OUT), exist_ok=True)
    with open(JSON_OUT, "w") as f:
        json.dump(RESULTS, f, indent=1, sort_keys=True)
        f.write("\n")
    say("figures written to %s (%s)" % (JSON_OUT, elapsed()))


if __name__ == "__main__":
    main()
