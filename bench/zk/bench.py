#!/usr/bin/env python3
"""bench.py - the ZooKeeper-mode benchmarks behind bench/zk/run.sh.

run.sh builds the server and the latency client (bench/api/lat.c), starts one
real ZooKeeper (tests/zk/zk.sh, tickTime 500 ms) and calls this; every
section uses its own --zk_path on it, so sections do not see each other's
jobs.  Every server started here has its pid appended to $PIDFILE (run.sh's
trap kills them); server logs go to $OUT.  Figures only, never pass/fail.

  1. POST /v1/scheduler/iso8601 latency, ZooKeeper store: one server, one
     keep-alive connection, POST_N (1000) sequential new jobs (lat.c);
     the same against the local store for comparison
  2. durable launches per second: BURST_JOBS (1000) jobs, command true,
     cpus 0.01 mem 1 disk 1, all due at one instant BURST_LEAD_S (10) s
     ahead; the instant -> the last task's start (the start_ms its supervisor
     records when it releases the exec) gives launches/s; ZooKeeper store,
     then the local store (BURST_LOCAL=0 skips it)
  3. startup with JOBS (100000) jobs in ZooKeeper: loaded over LOAD_CONNS
     (32) keep-alive connections, ZooKeeper's size (mntr), kill -9
     KILL_AFTER_S (20) s after the load, start again: spawn -> "leading
     (...): loaded in X s", spawn -> GET /v1/scheduler/jobs/summary returns
     them all; then the same after a SIGTERM
  4. failover: 3 servers (shared runs dir), one job due every second;
     FAILOVER_TRIALS (20) trials at --zk_session_timeout 2000 and
     FAILOVER_TRIALS_LONG (10) at 10000: kill -9 the leader, time until
     another server reports isLeader, its log's first "launched ct:" and the
     first output line of a task the new leader started; restart the killed
     one

Environment: CHRONOS, LAT, TMPD, PIDFILE, OUT, ZKH (connect string), and the
sizes above.  Arguments (optional): a subset of `post burst startup failover`.
"""
import datetime
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import du_bytes, iso, now_ms, pct, proc_cpu_s, proc_rss_kb  # noqa: E402

CHRONOS = os.environ["CHRONOS"]
LAT = os.environ["LAT"]
TMPD = os.environ["TMPD"]
PIDFILE = os.environ["PIDFILE"]
OUT = os.environ["OUT"]
ZKH = os.environ["ZKH"]


def env_int(name, default):
    return int(os.environ.get(name, default))


POST_N = env_int("POST_N", 1000)
BURST_JOBS = env_int("BURST_JOBS", 1000)
BURST_LEAD_S = env_int("BURST_LEAD_S", 10)
BURST_WAIT_S = env_int("BURST_WAIT_S", 60)
BURST_LOCAL = env_int("BURST_LOCAL", 1)
JOBS = env_int("JOBS", 100000)
LOAD_CONNS = env_int("LOAD_CONNS", 32)
KILL_AFTER_S = env_int("KILL_AFTER_S", 20)
SESSION_DEFAULT_S = 10  # chronos serve's --zk_session_timeout default
FAILOVER_TRIALS = env_int("FAILOVER_TRIALS", 20)
FAILOVER_TRIALS_LONG = env_int("FAILOVER_TRIALS_LONG", 10)

SUMMARY = []  # (section, figure, measured, target)
T_START = time.monotonic()


def say(*a):
    print(*a, flush=True)


def log_ts_ns(line):
    """The leading timestamp of a server log line (2026-01-01T00:00:00.000Z), ns."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z ", line)
    if not m:
        return None
    d = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return (int(d.timestamp()) * 1000 + int(m.group(2))) * 1_000_000


def fmt_us(us):
    us = float(us)
    if us >= 100000:
        return "%.0f ms" % (us / 1000)
    if us >= 1000:
        return "%.2f ms" % (us / 1000)
    return "%.0f us" % us


# ---- servers -------------------------------------------------------------------


class Server(benchlib.Server):
    """`chronos serve` with --hostname 127.0.0.1, its log $OUT/<tag>.log;
    zk_path None = the local store."""

    def __init__(self, tag, data_dir, zk_path=None, st=None, runs_dir=None, extra=()):
        flags = ["--data_dir", data_dir, "--hostname", "127.0.0.1"]
        if zk_path is not None:
            flags += ["--zk", ZKH, "--zk_path", zk_path]
            if st is not None:
                flags += ["--zk_session_timeout", str(st)]
        if runs_dir is not None:
            flags += ["--runs_dir", runs_dir]
        flags += list(extra)
        super().__init__(CHRONOS, flags, OUT, tag, PIDFILE)


def lat(port, opts, method, path, body=None):
    """Runs lat.c; its key=value figures as a dict (status "000" when it failed)."""
    p = subprocess.run([LAT] + opts + [str(port), method, path] + ([body] if body else []),
                       capture_output=True, text=True)
    d = dict(kv.split("=", 1) for kv in p.stdout.split() if "=" in kv)
    if not d:
        d = {"status": "000", "errors": "?", "err": p.stderr.strip()}
    return d


def lat_ok(d):
    return d.get("status", "000")[:1] == "2" and d.get("errors") == "0"


def lat_desc(d):
    if not lat_ok(d):
        return "n/a (status %s, %s errors of %s)" % (d.get("status"), d.get("errors"), d.get("n"))
    return "p50 %s, p90 %s, p99 %s, max %s (n=%s)" % (
        fmt_us(d["p50_us"]), fmt_us(d["p90_us"]), fmt_us(d["p99_us"]), fmt_us(d["max_us"]),
        d["n"])


def post_jobs(srv, bodies, threads=16):
    """POSTs the bodies over `threads` keep-alive connections: (seconds, ok, errors)."""
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "err": [], "nerr": 0}

    def worker():
        conn = None
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= len(bodies):
                break
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
                conn.request("POST", "/v1/scheduler/iso8601", bodies[i],
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                with lock:
                    if r.status == 204:
                        state["ok"] += 1
                    else:
                        state["nerr"] += 1
                        if len(state["err"]) < 3:
                            state["err"].append("%d %s" % (r.status, data[:160]))
            except (OSError, http.client.HTTPException) as e:
                if conn is not None:
                    conn.close()
                conn = None
                with lock:
                    state["nerr"] += 1
                    if len(state["err"]) < 3:
                        state["err"].append(repr(e))
        if conn is not None:
            conn.close()

    t = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return time.monotonic() - t, state["ok"], state["err"]


def read_stamps(path):
    """Lines "<run time ms> <write ns>" of a task output file: [(run_ms, write_ns)]."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 2 and p[0].isdigit() and p[1].isdigit():
                    out.append((int(p[0]), int(p[1])))
    except OSError:
        pass
    return out


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0


def stamp_command(path):
    return "echo $CHRONOS_JOB_RUN_TIME $(date +%%s%%N) >> %s" % path


def zk_mntr():
    """ZooKeeper's `mntr` (4-letter word) as a dict."""
    out = {}
    for hp in ZKH.split(","):
        host, port = hp.rsplit(":", 1)
        try:
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"mntr")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
        except OSError as e:
            return {"error": repr(e)}
        for line in data.decode(errors="replace").splitlines():
            k, _, v = line.partition("\t")
            out[k.strip()] = v.strip()
        break
    return out


def zk_pid():
    try:
        with open(os.path.join(TMPD, "zk", "1", "pid")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


# ---- 1. POST latency -------------------------------------------------------------

LAT_BODY = ('{"name":"lat-{i}","command":"echo lat {i}","schedule":"R/2099-01-01T00:00:00Z/P1D",'
            '"owner":"bench@example.com","description":"zk benchmark job"}')


def bench_post():
    say("== 1. POST /v1/scheduler/iso8601 latency: %d new jobs, sequential, one keep-alive "
        "connection (lat.c)" % POST_N)
    for store, zk_path in (("ZooKeeper", "/bench-post"), ("local", None)):
        srv = Server("post-" + ("zk" if zk_path else "local"),
                     os.path.join(TMPD, "post-" + store), zk_path=zk_path)
        if not srv.wait_leading():
            say("  %s store: the server did not lead; log:\n%s" % (store, srv.tail()))
            srv.stop()
            continue
        ping = lat(srv.port, ["-n", "2000", "-w", "200"], "GET", "/ping")
        d = lat(srv.port, ["-n", str(POST_N)], "POST", "/v1/scheduler/iso8601", LAT_BODY)
        say("  %-9s store: GET /ping (floor) %s" % (store, lat_desc(ping)))
        say("  %-9s store: POST new job      %s%s" %
            (store, lat_desc(d), "   (target p50 <= 5 ms)" if zk_path else ""))
        if lat_ok(d):
            SUMMARY.append(("1 POST latency", "%s store p50 / p90 / p99" % store,
                            "%s / %s / %s" % (fmt_us(d["p50_us"]), fmt_us(d["p90_us"]),
                                              fmt_us(d["p99_us"])),
                            "p50 <= 5 ms" if zk_path else ""))
        else:
            SUMMARY.append(("1 POST latency", "%s store" % store, lat_desc(d), ""))
        srv.stop()


# ---- 2. burst of launches ---------------------------------------------------------


def scan_starts(runs_dir):
    """{run id: task start ms} from the run directories the supervisors leave
    (open ones under runs/, finished ones under runs/.done/<job>/): the exit
    record's start_ms (when the supervisor released the exec), else the pid
    record's."""
    dirs = []
    done = os.path.join(runs_dir, ".done")
    for job in (os.listdir(done) if os.path.isdir(done) else []):
        for rid in os.listdir(os.path.join(done, job)):
            dirs.append((rid, os.path.join(done, job, rid)))
    for rid in (os.listdir(runs_dir) if os.path.isdir(runs_dir) else []):
        if rid.startswith("ct:"):
            dirs.append((rid, os.path.join(runs_dir, rid)))
    out = {}
    for rid, d in dirs:
        start = None
        try:
            with open(os.path.join(d, "exit")) as f:
                start = json.load(f).get("start_ms")
        except (OSError, ValueError):
            try:
                with open(os.path.join(d, "pid")) as f:
                    start = int(f.read().split()[1])
            except (OSError, ValueError, IndexError):
                pass
        if isinstance(start, int) and start > 0:
            out[rid] = start
    return out


def count_done(runs_dir):
    try:
        return len(os.listdir(os.path.join(runs_dir, ".done")))
    except OSError:
        return 0


def bench_burst(store, zk_path):
    say("== 2. durable launches, %s store: %d jobs (command true, cpus 0.01, mem 1, disk 1) due "
        "at one instant %d s ahead" % (store, BURST_JOBS, BURST_LEAD_S))
    tag = "burst-" + ("zk" if zk_path else "local")
    runs = os.path.join(TMPD, tag, "runs")
    srv = Server(tag, os.path.join(TMPD, tag), zk_path=zk_path, runs_dir=runs,
                 extra=["--local_cpus", "1000", "--local_mem", "100000",
                        "--local_disk", "100000"])
    if not srv.wait_leading():
        say("  the server did not lead; log:\n" + srv.tail())
        srv.stop()
        return
    due = (now_ms() // 1000 + BURST_LEAD_S + 1) * 1000
    bodies = [json.dumps({"name": "burst-%05d" % i, "command": "true", "retries": 0,
                          "cpus": 0.01, "mem": 1, "disk": 1,
                          "schedule": "R/%s/PT1H" % iso(due)}) for i in range(BURST_JOBS)]
    secs, ok, errs = post_jobs(srv, bodies)
    say("  posted %d jobs in %.2f s (%d errors%s); due in %.2f s" %
        (ok, secs, len(bodies) - ok, (": " + "; ".join(errs)) if errs else "",
         (due - now_ms()) / 1000))
    if now_ms() >= due:
        say("  WARNING: posting ended after the instant (raise BURST_LEAD_S)")
    time.sleep(max(0, (due - now_ms()) / 1000))
    end = time.monotonic() + BURST_WAIT_S
    while time.monotonic() < end and srv.alive() and count_done(runs) < ok:
        time.sleep(0.05)
    all_done_s = (now_ms() - due) / 1000
    stop_s = srv.stop()
    starts = sorted(ms - due for rid, ms in scan_starts(runs).items()
                    if rid.startswith("ct:%d:" % due))
    if not starts:
        say("  no task ran; log tail:\n" + srv.tail())
        SUMMARY.append(("2 launches (%s)" % store, "launches/s", "n/a (no task ran)", ""))
        return
    last = starts[-1]
    rate = len(starts) / max(last / 1000, 1e-3)
    complete = len(starts) >= ok
    say("  %d of %d tasks started (exit/pid records); instant -> task start: first %d ms, "
        "p50 %d ms, p99 %d ms, last %d ms; all collected by the server %.2f s after it" %
        (len(starts), ok, starts[0], pct(starts, 50), pct(starts, 99), last, all_done_s))
    say("  launches/s (instant -> last task's start): %s; SIGTERM -> exit %s" %
        ("%.0f" % rate if complete else "n/a: only %d of %d within %d s" %
         (len(starts), ok, BURST_WAIT_S), "%.2f s" % stop_s if stop_s is not None else "timeout"))
    name = "2 launches (%s)" % store
    if complete:
        SUMMARY.append((name, "launches/s, %d due at once" % ok, "%.0f /s" % rate, ""))
        SUMMARY.append((name, "instant -> last task start", "%d ms (p50 %d ms)" %
                        (last, pct(starts, 50)), ""))
    else:
        SUMMARY.append((name, "started within %d s" % BURST_WAIT_S,
                        "%d of %d" % (len(starts), ok), ""))


# ---- 3. startup with JOBS jobs ------------------------------------------------------


def bench_startup():
    say("== 3. startup with %d jobs in ZooKeeper" % JOBS)
    data = os.path.join(TMPD, "startup")
    srv = Server("startup", data, zk_path="/bench-startup")
    if not srv.wait_leading():
        say("  the server did not lead; log:\n" + srv.tail())
        srv.stop()
        return
    m0 = zk_mntr()
    body = ('{"name":"big-{i}","command":"echo big {i}","schedule":"R/2099-01-01T00:00:00Z/P1D",'
            '"owner":"bench@example.com","description":"zk benchmark job"}')
    d = lat(srv.port, ["-n", str(JOBS), "-c", str(LOAD_CONNS)], "POST",
            "/v1/scheduler/iso8601", body)
    if d.get("status", "000") == "000":
        say("  loading failed: %s; log:\n%s" % (d, srv.tail()))
        srv.stop()
        return
    el = float(d.get("elapsed_s", "0") or 0)
    say("  loaded %s jobs over %d keep-alive connections in %.1f s = %s POST/s (errors %s, "
        "status %s; per POST p50 %s, p99 %s)" %
        (d.get("ok"), LOAD_CONNS, el, d.get("rps"), d.get("errors"), d.get("status"),
         fmt_us(d.get("p50_us", 0)), fmt_us(d.get("p99_us", 0))))
    SUMMARY.append(("3 startup", "load: POST rate, %d conns" % LOAD_CONNS,
                    "%s /s (%.0f s)" % (d.get("rps"), el), ""))
    st = srv.status(timeout=30) or {}
    n_jobs = int(st.get("jobs", 0) or 0)
    m1 = zk_mntr()
    try:
        nodes0, nodes1 = int(m0["zk_znode_count"]), int(m1["zk_znode_count"])
        size0, size1 = int(m0["zk_approximate_data_size"]), int(m1["zk_approximate_data_size"])
        say("  ZooKeeper (mntr): zk_znode_count %d -> %d (+%d, %.2f per job), "
            "zk_approximate_data_size %.1f MB -> %.1f MB (+%.0f B per job)" %
            (nodes0, nodes1, nodes1 - nodes0, (nodes1 - nodes0) / max(n_jobs, 1),
             size0 / 1e6, size1 / 1e6, (size1 - size0) / max(n_jobs, 1)))
        SUMMARY.append(("3 startup", "ZooKeeper znodes / data (mntr)",
                        "%d / %.1f MB (+%.0f B/job)" % (nodes1, size1 / 1e6,
                                                        (size1 - size0) / max(n_jobs, 1)), ""))
    except (KeyError, ValueError):
        say("  ZooKeeper mntr: n/a (%s)" % m1)
    say("  ZooKeeper's data dir (snapshots + txn logs): %.1f MB" %
        (du_bytes(os.path.join(TMPD, "zk")) / 1e6))
    # kill -9 a while after the load: what the packer packed once writes paused.
    time.sleep(KILL_AFTER_S)
    rss = proc_rss_kb(srv.proc.pid)
    srv.kill9()
    say("  the server lists %d jobs; RSS %s MB %d s after the load; kill -9" %
        (n_jobs, "%.0f" % (rss / 1024) if rss else "n/a", KILL_AFTER_S))
    # Its ZooKeeper session outlives it by the session timeout (10 s), and
    # nobody may lead before it expires: that is failover (bench 4), not
    # startup, so the restart waits it out.
    time.sleep(SESSION_DEFAULT_S + 1)
    measure_restart(srv, n_jobs, "after kill -9, %d s after the load" % KILL_AFTER_S,
                    killed=True)
    stop_s = srv.stop()
    say("  SIGTERM -> exit %s (what is held is packed on the way out)" %
        ("%.2f s" % stop_s if stop_s is not None else "no exit in 60 s (SIGKILL)"))
    measure_restart(srv, n_jobs, "after SIGTERM")
    stop2 = srv.stop()
    say("  SIGTERM -> exit (restarted server): %s" %
        ("%.2f s" % stop2 if stop2 is not None else "no exit in 60 s (SIGKILL)"))


def measure_restart(srv, n_jobs, how, killed=False):
    """Starts srv again and times it until it leads and lists n_jobs."""
    say("  restart %s:" % how)
    zpid = zk_pid()
    zcpu0 = proc_cpu_s(zpid) if zpid else None
    srv.start()
    t_ping = t_lead = t_summary = None
    scpu = zcpu = None
    loaded_in = None
    n_summary = -1
    lead_line = ""
    end = time.monotonic() + 120
    while time.monotonic() < end and srv.alive():
        if t_ping is None and srv.ping():
            t_ping = (time.time_ns() - srv.start_ns) / 1e9
        s = srv.status(timeout=2) if t_ping is not None else None
        if s and s.get("isLeader") and scpu is None:
            scpu = proc_cpu_s(srv.proc.pid)
            zc = proc_cpu_s(zpid) if zpid else None
            zcpu = zc - zcpu0 if zc is not None and zcpu0 is not None else None
        if s and s.get("isLeader") and int(s.get("jobs", 0) or 0) >= n_jobs:
            try:
                code, b = srv.request("GET", "/v1/scheduler/jobs/summary", timeout=60)
                t = time.time_ns()
                if code == 200:
                    n_summary = len(json.loads(b)["jobs"])
                    if n_summary >= n_jobs:
                        t_summary = (t - srv.start_ns) / 1e9
                        break
            except (OSError, ValueError, KeyError, http.client.HTTPException):
                pass
        time.sleep(0.005)
    for line in srv.log_lines():
        if "leading (" in line and "loaded in" in line:
            lead_line = line.strip()
            ts = log_ts_ns(line)
            if ts is not None:
                t_lead = (ts - srv.start_ns) / 1e9
            m = re.search(r"loaded in ([0-9.]+) s", line)
            loaded_in = float(m.group(1)) if m else None
            break
    for line in srv.log_lines():
        if re.search(r"loaded \d+ jobs", line) or "jobs taken from packs" in line:
            say("    log: %s" % line.strip())
    if lead_line:
        say("    log: %s" % lead_line)
    say("    spawn -> /ping answers: %s" % ("%.3f s" % t_ping if t_ping is not None else "never"))
    say("    CPU from spawn until it led: the server %s, ZooKeeper %s" %
        ("%.2f s" % scpu if scpu is not None else "n/a",
         "%.2f s" % zcpu if zcpu is not None else "n/a"))
    say("    spawn -> log \"leading (...): loaded in %s s\": %s   (target <= 5 s)" %
        (loaded_in, "%.3f s" % t_lead if t_lead is not None else "not found"))
    say("    spawn -> GET /v1/scheduler/jobs/summary lists all %d jobs: %s   (target <= 5 s)" %
        (n_jobs, "%.3f s" % t_summary if t_summary is not None
         else "not within 120 s (last count %d)" % n_summary))
    k = "%dk, %s" % (n_jobs // 1000, "kill -9" if killed else "SIGTERM")
    SUMMARY.append(("3 startup", "spawn -> 'leading: loaded' (%s)" % k,
                    "%.3f s (loaded in %s s)" % (t_lead, loaded_in) if t_lead is not None
                    else "n/a", "<= 5 s"))
    SUMMARY.append(("3 startup", "spawn -> summary lists all (%s)" % k,
                    "%.3f s" % t_summary if t_summary is not None else "n/a", "<= 5 s"))


# ---- 4. failover --------------------------------------------------------------------


def leaders(servers):
    return [i for i, s in enumerate(servers) if s.is_leader()]


def wait_one_leader(servers, limit_s):
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        ls = leaders(servers)
        if len(ls) == 1:
            return ls[0]
        time.sleep(0.05)
    return None


def bench_failover(st, trials):
    say("== 4. failover, --zk_session_timeout %d: 3 servers, one job due every second, "
        "%d trials of kill -9 the leader" % (st, trials))
    base = os.path.join(TMPD, "ha-%d" % st)
    runs = os.path.join(base, "runs")
    os.makedirs(runs, exist_ok=True)
    out_file = os.path.join(base, "tick.out")
    servers = []
    for i in range(3):
        servers.append(Server("ha%d-s%d" % (st, i + 1), os.path.join(base, "s%d" % (i + 1)),
                              zk_path="/bench-ha-%d" % st, st=st, runs_dir=runs))
        servers[-1].wait_ready()
    try:
        _failover_trials(st, trials, servers, out_file)
    finally:
        for s in servers:
            s.stop(limit_s=20)


def _failover_trials(st, trials, servers, out_file):
    lead = wait_one_leader(servers, 60)
    if lead is None:
        say("  no single leader within 60 s; logs:\n" + "\n".join(s.tail(5) for s in servers))
        return
    for line in servers[lead].log_lines():
        if "session timeout" in line:
            say("  log: %s" % line.strip())
            break
    first = (now_ms() // 1000 + 2) * 1000
    job = json.dumps({"name": "tick", "command": stamp_command(out_file), "retries": 0,
                      "cpus": 0.01, "mem": 1, "disk": 1, "schedule": "R/%s/PT1S" % iso(first)})
    code, b = servers[lead].request("POST", "/v1/scheduler/iso8601", job, timeout=10)
    if code != 204:
        say("  POST of the tick job: %d %s" % (code, b[:200]))
        return
    to_leader, to_launch, to_task = [], [], []
    limit_s = st / 1000 + 20
    for trial in range(trials):
        lead = wait_one_leader(servers, 30)
        if lead is None:
            say("  trial %d: no single leader within 30 s" % (trial + 1))
            continue
        # Steady state: the job ran within the last 1.5 s.
        end = time.monotonic() + 10
        while time.monotonic() < end:
            s = read_stamps(out_file)
            if s and time.time_ns() - s[-1][1] < 1_500_000_000:
                break
            time.sleep(0.05)
        others = [i for i in range(3) if i != lead]
        kill_ns = time.time_ns()
        servers[lead].kill9()
        kill_ms = kill_ns // 1_000_000
        t_leader = t_task = None
        new = None
        end = time.monotonic() + limit_s
        while time.monotonic() < end and (t_leader is None or t_task is None):
            if t_leader is None:
                for i in others:
                    if servers[i].is_leader():
                        t_leader = (time.time_ns() - kill_ns) / 1e9
                        new = i
                        break
            if t_task is None:
                # A task the new leader started: an instant the old one could not
                # have prepared (it handles instants 200 ms ahead).
                w = [wn for r, wn in read_stamps(out_file) if r > kill_ms + 200 and wn > kill_ns]
                if w:
                    t_task = (min(w) - kill_ns) / 1e9
            time.sleep(0.02)
        t_launch = None
        if new is not None:
            for line in servers[new].log_lines():
                if "launched ct:" in line:
                    ts = log_ts_ns(line)
                    if ts is not None and ts > kill_ns:
                        t_launch = (ts - kill_ns) / 1e9
                        break
        if t_leader is not None:
            to_leader.append(t_leader)
        if t_launch is not None:
            to_launch.append(t_launch)
        if t_task is not None:
            to_task.append(t_task)
        say("  trial %2d: killed s%d; s%s leads after %s, its first launch %s, first new task "
            "output %s" % (trial + 1, lead + 1, new + 1 if new is not None else "?",
                           "%.2f s" % t_leader if t_leader is not None else "n/a",
                           "%.2f s" % t_launch if t_launch is not None else "n/a",
                           "%.2f s" % t_task if t_task is not None else "n/a"))
        servers[lead].start()
        if not servers[lead].wait_ready():
            say("  s%d did not come back; log:\n%s" % (lead + 1, servers[lead].tail()))
        else:  # until it is a candidate again
            end = time.monotonic() + 10
            while time.monotonic() < end and not any(
                    "candidate" in x for x in servers[lead].log_lines()):
                time.sleep(0.02)
    target = st / 1000 + 1

    def row(name, v):
        v = sorted(v)
        if not v:
            say("  kill -> %s: n/a" % name)
            SUMMARY.append(("4 failover (st %d ms)" % st, "kill -> " + name, "n/a", ""))
            return
        say("  kill -> %-22s p50 %.2f s, p99 %.2f s, max %.2f s (n=%d)   (target <= %.0f s)" %
            (name + ":", pct(v, 50), pct(v, 99), v[-1], len(v), target))
        SUMMARY.append(("4 failover (st %d ms)" % st, "kill -> %s, n=%d" % (name, len(v)),
                        "p50 %.2f / p99 %.2f / max %.2f s" % (pct(v, 50), pct(v, 99), v[-1]),
                        "<= %.0f s" % target))
    row("new isLeader", to_leader)
    row("its first launch (log)", to_launch)
    row("first new task output", to_task)


def main():
    which = sys.argv[1:] or ["post", "burst", "startup", "failover"]
    if "post" in which:
        bench_post()
        say("")
    if "burst" in which:
        bench_burst("ZooKeeper", "/bench-burst")
        say("")
        if BURST_LOCAL:
            bench_burst("local", None)
            say("")
    if "startup" in which and JOBS > 0:
        bench_startup()
        say("")
    if "failover" in which:
        if FAILOVER_TRIALS > 0:
            bench_failover(2000, FAILOVER_TRIALS)
            say("")
        if FAILOVER_TRIALS_LONG > 0:
            bench_failover(10000, FAILOVER_TRIALS_LONG)
            say("")
    say("== summary (ZooKeeper: one local server, tickTime 500 ms; %d cpus shared by all; "
        "%.0f s in all)" % (os.cpu_count(), time.monotonic() - T_START))
    w = [max(len(r[i]) for r in SUMMARY + [("benchmark", "figure", "measured", "target")])
         for i in range(4)]
    fmt = "  %%-%ds  %%-%ds  %%-%ds  %%s" % tuple(w[:3])
    say(fmt % ("benchmark", "figure", "measured", "target"))
    say(fmt % tuple("-" * x for x in w))
    for r in SUMMARY:
        say(fmt % r)


if __name__ == "__main__":
    main()
