#!/usr/bin/env python3
"""bench.py - the Mesos benchmarks behind bench/mesos/run.sh: `chronos serve
--master` against the strict master double (tests/mesos/double.py, fake
agents whose tasks run as local processes), on 127.0.0.1.

  offers    offers -> launches per second, 100 agents offering: BURST_JOBS
            (2000) jobs due at one instant BURST_LEAD_S (10) s ahead, task
            `true`; launches as the master sees them (ACCEPT calls with LAUNCH
            operations in /double/calls, by their arrival time), instant ->
            first and last launch, and the CPU seconds chronos and the double
            spent (/proc/PID/stat) over the burst
  lateness  runs that wait for offers, --alloc-interval 1: LAT_JOBS (10) jobs
            due every LAT_PERIOD_S (5) s at staggered phases, and a burst of
            LAT_BURST (200) at one instant mid-window, over LAT_WINDOW_S (45)
            s; lateness = the double's TASK_RUNNING time (right after it
            spawned the process) - the run's instant (from its task id
            ct:<instant-ms>:...); p50/p99/max, once with
            --min_revive_offers_interval 1000 (the default) and once with
            5000 (Chronos's)

Prints figures, never passes or fails; exits non-zero only when it cannot
run.  Environment: CHRONOS, TMPD, PIDFILE (pids run.sh kills), DPIDFILE (the
doubles' pids: run.sh SIGTERMs them, as the double must not be SIGKILLed),
OUT (logs), and the sizes above.  Arguments: a subset of `offers lateness`.
"""
import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import iso, now_ms, pct, proc_cpu_s  # noqa: E402

CHRONOS = os.environ["CHRONOS"]
TMPD = os.environ["TMPD"]
PIDFILE = os.environ["PIDFILE"]
DPIDFILE = os.environ["DPIDFILE"]
OUT = os.environ["OUT"]
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PY = "/usr/bin/python3"  # the double needs the system python's protobuf


def env_int(name, default):
    return int(os.environ.get(name, default))


AGENTS = env_int("AGENTS", 100)
BURST_JOBS = env_int("BURST_JOBS", 2000)
BURST_LEAD_S = env_int("BURST_LEAD_S", 10)
BURST_WAIT_S = env_int("BURST_WAIT_S", 60)
LAT_JOBS = env_int("LAT_JOBS", 10)
LAT_PERIOD_S = env_int("LAT_PERIOD_S", 5)
LAT_BURST = env_int("LAT_BURST", 200)
LAT_WINDOW_S = env_int("LAT_WINDOW_S", 45)

SUMMARY = []  # (benchmark, figure, value)


def say(*a):
    print(*a, flush=True)


def machine_cpu():
    """(busy, total) jiffies of all cpus, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


class Double:
    """tests/mesos/double.py with `agents` agents of cpus/mem/disk each; its
    JSON line, log and work dir under TMPD/<tag>."""

    def __init__(self, tag, agents, cpus, mem, disk, alloc_interval):
        self.dir = os.path.join(TMPD, tag)
        os.makedirs(self.dir, exist_ok=True)
        specs = [{"id": "agent-%03d" % i, "hostname": "127.0.0.1", "cpus": cpus, "mem": mem,
                  "disk": disk} for i in range(agents)]
        with open(os.path.join(self.dir, "agents.json"), "w") as f:
            json.dump(specs, f)
        self.log_path = os.path.join(OUT, tag + "-double.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PY, os.path.join(REPO, "tests/mesos/double.py"), "--work-dir",
             os.path.join(self.dir, "work"), "--port", "0", "--agents-json",
             "@" + os.path.join(self.dir, "agents.json"), "--heartbeat", "1",
             "--alloc-interval", str(alloc_interval), "--update-retry", "5"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log)
        with open(DPIDFILE, "a") as f:
            f.write("%d\n" % self.proc.pid)
        line = self.proc.stdout.readline()  # once ready (protoc runs first)
        self.port = json.loads(line)["port"] if line else None

    @property
    def pid(self):
        return self.proc.pid

    def get(self, path, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request("GET", "/double/" + path)
            r = c.getresponse()
            return json.loads(r.read())
        finally:
            c.close()

    def wait_subscribed(self, limit_s=30):
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            try:
                st = self.get("state", timeout=5)
                if st.get("subscribed") and st.get("reconciled"):
                    return True
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        return False

    def sandboxes(self):
        """Tasks launched so far: their sandboxes (read from disk, without
        taking the double's lock)."""
        n = 0
        slaves = os.path.join(self.dir, "work", "slaves")
        try:
            for ag in os.listdir(slaves):
                fws = os.path.join(slaves, ag, "frameworks")
                for fw in os.listdir(fws):
                    n += len(os.listdir(os.path.join(fws, fw, "executors")))
        except OSError:
            pass
        return n

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_pair(tag, agents, cpus, mem, disk, alloc_interval, flags=()):
    d = Double(tag, agents, cpus, mem, disk, alloc_interval)
    if d.port is None:
        say("  the double did not start; log:\n" + open(d.log_path).read()[-2000:])
        d.stop()
        return None, None
    srv = benchlib.Server(CHRONOS, ["--data_dir", os.path.join(TMPD, tag, "data"),
                                    "--master", "127.0.0.1:%d" % d.port, "--verbose", "false"]
                          + list(flags), OUT, tag, PIDFILE)
    if not srv.wait_leading() or not d.wait_subscribed():
        say("  chronos did not lead or subscribe; log:\n" + srv.tail())
        srv.stop()
        d.stop()
        return None, None
    return d, srv


def post_jobs(srv, bodies, threads=8):
    """POSTs the bodies (benchlib.post_jobs); (seconds, n_ok, errors[:3])."""
    secs, ok, errors, _ = benchlib.post_jobs(srv.port, bodies, threads)
    return secs, ok, errors


def job_body(name, schedule):
    return json.dumps({"name": name, "command": "true", "shell": True, "retries": 0,
                       "cpus": 0.1, "mem": 32, "disk": 1, "schedule": schedule})


def launches(calls):
    """[(time_ms, task_id)] of every task in an ACCEPT call the double
    answered 202, by the call's arrival."""
    out = []
    for c in calls:
        if c.get("type") != "ACCEPT" or c.get("status") != 202:
            continue
        for op in (c.get("body") or {}).get("accept", {}).get("operations", []):
            for ti in (op.get("launch") or {}).get("task_infos", []):
                out.append((c["time"] * 1000, ti["task_id"]["value"]))
    return out


def due_of(task_id):
    p = task_id.split(":")
    return int(p[1]) if len(p) >= 4 and p[0] == "ct" else None


# ---- offers -> launches per second --------------------------------------------


def bench_offers():
    say("== offers -> launches/s: %d agents (2 cpus, 2048 MB, 2048 MB each; %d tasks of "
        "0.1 cpus fit), alloc interval 0.2 s; %d jobs (command true, cpus 0.1, mem 32, "
        "disk 1) due at one instant %d s ahead" % (AGENTS, AGENTS * 20, BURST_JOBS, BURST_LEAD_S))
    d, srv = start_pair("offers", AGENTS, 2, 2048, 2048, 0.2)
    if d is None:
        return
    due = (now_ms() // 1000 + BURST_LEAD_S + 1) * 1000
    bodies = [job_body("burst-%05d" % i, "R/%s/PT1H" % iso(due)) for i in range(BURST_JOBS)]
    secs, ok, errs = post_jobs(srv, bodies)
    say("  posted %d jobs in %.2f s (%d errors%s); the instant in %.2f s" %
        (ok, secs, len(bodies) - ok, (": " + "; ".join(errs)) if errs else "",
         (due - now_ms()) / 1000))
    if now_ms() >= due - 1000:
        say("  WARNING: posting ended less than 1 s before the instant (raise BURST_LEAD_S)")
    time.sleep(max(0, (due - 1000 - now_ms()) / 1000))
    c0, d0, m0 = proc_cpu_s(srv.pid), proc_cpu_s(d.pid), machine_cpu()
    t0 = time.monotonic()
    end = t0 + 1 + BURST_WAIT_S
    while time.monotonic() < end and srv.alive() and d.sandboxes() < ok:
        time.sleep(0.1)
    wall = time.monotonic() - t0
    c1, d1, m1 = proc_cpu_s(srv.pid), proc_cpu_s(d.pid), machine_cpu()
    calls = d.get("calls")
    ls = sorted((t, tid) for t, tid in launches(calls) if due_of(tid) == due)
    n_accepts = len({t for t, _ in ls})
    spawn_s = 0.0  # TASK_STARTING -> TASK_RUNNING: the double's Popen, under its lock
    for t in d.get("tasks"):
        h = {x["state"]: x["time"] for x in t["history"]}
        if due_of(t["task_id"]) == due and "TASK_STARTING" in h and "TASK_RUNNING" in h:
            spawn_s += h["TASK_RUNNING"] - h["TASK_STARTING"]
    srv.stop()
    d.stop()
    if not ls:
        say("  no launch; chronos log tail:\n" + srv.tail())
        return
    first, last, n = ls[0][0] - due, ls[-1][0] - due, len(ls)
    rate = n / max((ls[-1][0] - ls[0][0]) / 1000, 1e-3)
    busy = 100.0 * (m1[0] - m0[0]) / max(m1[1] - m0[1], 1)
    say("  %d of %d runs launched (ACCEPT LAUNCH tasks); instant -> first launch %.0f ms, "
        "-> last launch %.0f ms" % (n, ok, first, last))
    say("  launches/s as the master sees them: %.0f (first -> last launch), %.0f (instant -> "
        "last launch)" % (rate, n / max(last / 1000, 1e-3)))
    cs, ds = (c1 - c0) if c1 and c0 is not None else float("nan"), \
        (d1 - d0) if d1 and d0 is not None else float("nan")
    say("  CPU over the %.1f s from 1 s before the instant to the last launch: chronos %.2f s "
        "(%.0f us per launch), the double %.2f s (%.0f%% of one core), machine %.0f%% busy of "
        "%d cores" % (wall, cs, 1e6 * cs / n, ds, 100 * ds / max(wall, 1e-3), busy,
                      os.cpu_count()))
    span = max((ls[-1][0] - ls[0][0]) / 1000, 1e-3)
    say("  %d ACCEPT calls (%.1f tasks each, one every %.0f ms); the double spent %.2f s of the %.2f s from first "
        "to last launch spawning tasks (subprocess.Popen inside ACCEPT, under its one lock: "
        "%.1f ms per task)" % (n_accepts, n / max(n_accepts, 1),
                              1000 * span / max(n_accepts - 1, 1), spawn_s, span,
                              1000 * spawn_s / n))
    by_type = {}
    for c in calls:
        if ls[0][0] <= c["time"] * 1000 <= ls[-1][0]:
            by_type[c["type"]] = by_type.get(c["type"], 0) + 1
    n_calls = sum(by_type.values())
    say("  calls the double answered from first to last launch: %d (%.0f/s, one at a time "
        "under its lock): %s" % (n_calls, n_calls / span, ", ".join(
            "%s %d" % kv for kv in sorted(by_type.items(), key=lambda kv: -kv[1]))))
    if spawn_s > 0.5 * span or busy > 80:
        say("  => the double is the bottleneck, not chronos: it launches one task at a time "
            "under its lock (%.0f%% of the span), the machine is %.0f%% busy, and chronos "
            "used %.0f%% of one core" % (100 * spawn_s / span, busy, 100 * cs / max(wall, 1e-3)))
    SUMMARY.append(("offers", "launches/s (first -> last launch), %d due at once" % n,
                    "%.0f /s" % rate))
    SUMMARY.append(("offers", "instant -> last launch", "%.0f ms" % last))
    SUMMARY.append(("offers", "chronos CPU per launch", "%.0f us" % (1e6 * cs / n)))
    SUMMARY.append(("offers", "double CPU / wall", "%.0f%% of one core" %
                    (100 * ds / max(wall, 1e-3))))
    SUMMARY.append(("offers", "double spawning / launch span", "%.0f%%" % (100 * spawn_s / span)))


# ---- lateness of runs waiting for offers ----------------------------------------


def lateness_run(min_revive_ms):
    tag = "lateness-%d" % min_revive_ms
    d, srv = start_pair(tag, 10, 4, 4096, 4096, 1.0,
                        ["--min_revive_offers_interval", str(min_revive_ms)])
    if d is None:
        return
    period = LAT_PERIOD_S * 1000
    t0 = (now_ms() // 1000 + 4) * 1000
    t_end = t0 + LAT_WINDOW_S * 1000
    burst_at = t0 + (LAT_WINDOW_S // 2) * 1000 + 500
    bodies = [job_body("tick-%03d" % i, "R/%s/PT%dS" % (iso(t0 + i * period // LAT_JOBS),
                                                       LAT_PERIOD_S)) for i in range(LAT_JOBS)]
    bodies += [job_body("burst-%04d" % i, "R1/%s/PT1H" % iso(burst_at)) for i in range(LAT_BURST)]
    secs, ok, errs = post_jobs(srv, bodies)
    if now_ms() > t0:
        say("  WARNING: posting ended %d ms after the window opened" % (now_ms() - t0))
    c0, d0 = proc_cpu_s(srv.pid), proc_cpu_s(d.pid)
    time.sleep(max(0, (t_end + 3000 - now_ms()) / 1000))
    c1, d1 = proc_cpu_s(srv.pid), proc_cpu_s(d.pid)
    tasks = d.get("tasks")
    calls = d.get("report")["calls_by_type"]
    srv.stop()
    d.stop()
    ticks, burst = [], []
    for t in tasks:
        due = due_of(t["task_id"])
        run = [h["time"] for h in t["history"] if h["state"] == "TASK_RUNNING"]
        if due is None or not run or not (t0 <= due < t_end):
            continue
        late = run[0] * 1000 - due
        (burst if t["task_id"].split(":", 3)[3].startswith("burst-") else ticks).append(late)
    expect = sum(len(range(t0 + i * period // LAT_JOBS, t_end, period)) for i in range(LAT_JOBS))
    for what, v, n_exp in (("every %d s" % LAT_PERIOD_S, ticks, expect),
                           ("burst of %d" % LAT_BURST, burst, LAT_BURST)):
        v.sort()
        if not v:
            say("  %-12s no run started" % what)
            continue
        say("  %-12s %4d of %4d runs started; task start - instant: min %6.0f  p50 %6.0f  "
            "p99 %6.0f  max %6.0f ms" % (what, len(v), n_exp, v[0], pct(v, 50), pct(v, 99), v[-1]))
        SUMMARY.append(("lateness, revive %d ms" % min_revive_ms, what + ": p50 / p99 / max",
                        "%.0f / %.0f / %.0f ms" % (pct(v, 50), pct(v, 99), v[-1])))
    say("  calls: REVIVE %d, SUPPRESS %d, ACCEPT %d, DECLINE %d; CPU: chronos %.2f s, "
        "the double %.2f s" % (calls.get("REVIVE", 0), calls.get("SUPPRESS", 0),
                               calls.get("ACCEPT", 0), calls.get("DECLINE", 0),
                               (c1 or 0) - (c0 or 0), (d1 or 0) - (d0 or 0)))


def bench_lateness():
    for mr in (1000, 5000):
        say("== lateness waiting for offers: 10 agents, alloc interval 1 s, "
            "--min_revive_offers_interval %d; %d jobs every %d s (staggered), a burst of %d "
            "mid-window; %d s" % (mr, LAT_JOBS, LAT_PERIOD_S, LAT_BURST, LAT_WINDOW_S))
        lateness_run(mr)


def main():
    which = sys.argv[1:] or ["offers", "lateness"]
    for w in which:
        {"offers": bench_offers, "lateness": bench_lateness}[w]()
    if SUMMARY:
        say("\n== summary")
        for b, f, v in SUMMARY:
            say("  %-26s %-52s %s" % (b, f, v))


if __name__ == "__main__":
    main()
