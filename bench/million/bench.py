"""bench.py - the million-job benchmark (run.sh says what and how): one server
on the local store, one on ZooKeeper, each holding N idle jobs; prints every
figure of issue 18 beside its goal.  Never fails on a figure.

Environment (from run.sh): CHRONOS, FILL, STAMP, TMPD, PIDFILE, OUT, ZKH
(empty: no ZooKeeper), N, POST_N, LATE, STORES ("local zk")."""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import Server, now_ms, iso, pct, post_jobs, proc_cpu_s, proc_rss_kb  # noqa: E402

CHRONOS, FILL, STAMP = os.environ["CHRONOS"], os.environ["FILL"], os.environ["STAMP"]
TMPD, PIDFILE, OUT = os.environ["TMPD"], os.environ["PIDFILE"], os.environ["OUT"]
ZKH = os.environ.get("ZKH", "")
N = int(os.environ.get("N", "1000000"))
POST_N = min(N, int(os.environ.get("POST_N", "100000")))
LATE = int(os.environ.get("LATE", "1000"))
LATE_WINDOW_S = 120


def say(s):
    print(s, flush=True)


def body(i):
    # The body fill.c writes for job i: the same names and schedule.
    return json.dumps({"name": "idle-%07d" % i, "command": "/bin/true", "shell": False,
                       "schedule": "R/2099-01-01T00:00:00.000Z/P1D"})


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def get(srv, path, timeout=600):
    t = time.monotonic()
    st, b = srv.request("GET", path, timeout=timeout)
    return st, b, time.monotonic() - t


def server(tag, zk):
    data = os.path.join(TMPD, tag)
    os.makedirs(os.path.join(data, "store"), mode=0o700, exist_ok=True)
    flags = ["--data_dir", data]
    if zk:
        flags += ["--zk", ZKH, "--zk_path", "/million", "--zk_session_timeout", "30000"]
    return Server(CHRONOS, flags, OUT, tag, PIDFILE), data


def wait_loaded(srv, zk, limit_s=3600):
    """Seconds from spawn to the log's load line, to /ping, to leading."""
    t_load = t_ping = None
    end = time.monotonic() + limit_s
    while time.monotonic() < end and srv.alive():
        text = srv.log_text()
        if t_load is None and ("leading (" in text if zk else "loaded " in text):
            t_load = (time.time_ns() - srv.start_ns) / 1e9
        if t_ping is None and srv.ping():
            t_ping = (time.time_ns() - srv.start_ns) / 1e9
        if t_load is not None and t_ping is not None and (not zk or srv.is_leader()):
            return t_load, t_ping
        time.sleep(0.05)
    return t_load, t_ping


def wait_packed(srv, limit_s=900):
    """Waits until the leader has packed every shard its load found without
    a usable pack (a million jobs: all 256, a minute or more); a stop packs
    for at most 5 s, so stopping sooner leaves most shards to be read node
    by node at the restart.  Returns (shards packed, seconds waited)."""
    t = time.monotonic()
    want = None
    while time.monotonic() - t < limit_s and srv.alive():
        lines = srv.log_lines()
        if want is None:
            for x in lines:
                if "taken from packs" in x and "shards without a usable pack" in x:
                    want = int(x.split("(")[1].split()[0])
        done = sum(1 for x in lines if "packs: packed shard" in x)
        if want is not None and done >= want:
            return done, time.monotonic() - t
        time.sleep(0.5)
    return sum(1 for x in srv.log_lines() if "packs: packed shard" in x), time.monotonic() - t


def post_rate(srv):
    say("  POST %d jobs (16 keep-alive connections) ..." % POST_N)
    c0 = proc_cpu_s(srv.pid)
    secs, ok, errs, nerr = post_jobs(srv.port, [body(i) for i in range(POST_N)], threads=16)
    c1 = proc_cpu_s(srv.pid)
    say("  POSTed %d jobs in %.1f s: %.0f POST/s (%d errors%s); server CPU %.1f s = %.0f us "
        "per POST; load average %s" % (ok, secs, ok / secs if secs else 0, nerr,
                                        ": " + "; ".join(errs) if errs else "", c1 - c0,
                                        1e6 * (c1 - c0) / max(1, ok), loadavg()))


def fill(zk):
    if N <= POST_N:
        return
    args = [FILL, "zk", ZKH, "/million"] if zk else [FILL, "local", os.path.join(TMPD, "local")]
    t = time.monotonic()
    rc = os.spawnv(os.P_WAIT, FILL, args + [str(N), str(POST_N)])
    say("  filled jobs %d..%d offline (bench/million/fill.c, the server's encoders) in %.1f s%s"
        % (POST_N, N - 1, time.monotonic() - t, "" if rc == 0 else " - FAILED rc %d" % rc))


def reads(srv):
    st, b, secs = get(srv, "/v1/scheduler/jobs/summary")
    n = len(json.loads(b)["jobs"]) if st == 200 else -1
    say("  GET jobs/summary: %d jobs, %.1f MB in %.2f s" % (n, len(b) / 1e6, secs))
    times = [secs]
    for _ in range(4):
        times.append(get(srv, "/v1/scheduler/jobs/summary")[2])
    times.sort()
    say("  GET jobs/summary x5: p50 %.2f s, max (= p99 of 5) %.2f s" % (pct(times, 50), times[-1]))
    st, b, secs = get(srv, "/v1/scheduler/jobs")
    say("  GET jobs (full definitions): %s, %.1f MB in %.2f s" % (st, len(b) / 1e6, secs))
    lat = []
    for k in range(200):
        q = urllib.parse.quote("idle-%07d" % ((k * 7919) % N))
        lat.append(get(srv, "/v1/scheduler/jobs/search?name=" + q)[2] * 1000)
    lat.sort()
    say("  GET jobs/search?name=<one job> x200: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
        % (pct(lat, 50), pct(lat, 99), lat[-1]))


def lateness(srv, data):
    period, t0 = 60000, now_ms() + 8000
    bodies = []
    for i in range(LATE):
        phase = i * period // LATE
        first = (t0 - phase + period - 1) // period * period + phase
        bodies.append(json.dumps({"name": "late-%04d" % i, "command": STAMP, "shell": False,
                                  "schedule": "R/%s/PT1M" % iso(first)}))
    post_jobs(srv.port, bodies, threads=8)
    t_end = t0 + LATE_WINDOW_S * 1000
    time.sleep(max(0, (t_end - now_ms()) / 1000) + 3)
    lat = []
    runs = os.path.join(data, "runs")
    for root, _dirs, files in os.walk(runs):
        rid = os.path.basename(root)
        if "stdout" not in files or not rid.startswith("ct:"):
            continue
        due = int(rid.split(":")[1])
        if not t0 <= due < t_end:
            continue
        try:
            with open(os.path.join(root, "stdout")) as f:
                ns = int(f.read().strip())
            lat.append(ns / 1e6 - due)
        except (OSError, ValueError):
            pass
    lat.sort()
    if lat:
        say("  lateness of %d jobs a minute (%d runs in %d s): p50 %.1f ms, p99 %.1f ms, "
            "max %.1f ms (target p99 <= 5 ms); load average %s"
            % (LATE, len(lat), LATE_WINDOW_S, pct(lat, 50), pct(lat, 99), lat[-1], loadavg()))
    else:
        say("  lateness: no run stamped")


def one_store(zk):
    name = "zookeeper" if zk else "local"
    say("== %s store, %d jobs (%d POSTed, the rest filled offline)" % (name, N, POST_N))
    srv, data = server(name, zk)
    wait_loaded(srv, zk, 120)
    rss0 = proc_rss_kb(srv.pid)
    post_rate(srv)
    say("  SIGTERM -> exit: %.2f s (%d jobs)" % (srv.stop(600) or -1, POST_N))
    fill(zk)
    if zk:  # the first start reads the filled nodes one by one and packs them
        srv.start()
        t_load, _ = wait_loaded(srv, zk)
        say("  first start (reads what fill wrote node by node, then packs): loaded at %s s"
            % t_load)
        say("  packed in the background: %d shards in %.1f s" % wait_packed(srv))
        say("  SIGTERM -> exit (packs what is held): %.2f s" % (srv.stop(900) or -1))
    srv.start()
    c0 = proc_cpu_s(srv.pid)
    t_load, t_ping = wait_loaded(srv, zk)
    c1 = proc_cpu_s(srv.pid)
    packs = [x for x in srv.log_lines() if "taken from packs" in x]
    say("  restart: spawn -> %s %s s; -> /ping %s s; server CPU %.1f s; load average %s "
        "(goal <= %d s)" % ("'leading (...)'" if zk else "'loaded N jobs'", t_load, t_ping,
                            c1 - c0, loadavg(), 5 if zk else 2))
    if packs:
        say("    " + packs[-1].split(" ", 1)[1])
    time.sleep(2)
    rss = proc_rss_kb(srv.pid)
    say("  RSS %.0f MB; per idle job (RSS - RSS of the empty server %.0f MB) / %d: %.0f B "
        "(goal <= 1024 B)" % (rss / 1024, rss0 / 1024, N, (rss - rss0) * 1024 / N))
    reads(srv)
    st, b = srv.request("POST", "/v1/scheduler/iso8601", body(N), timeout=60)
    say("  POST of job %d: %d %s" % (N + 1, st, b[:120].decode(errors="replace")))
    if LATE > 0 and not zk:
        lateness(srv, data)
    say("  SIGTERM -> exit of the loaded server: %.2f s" % (srv.stop(900) or -1))


def main():
    say("N=%d POST_N=%d; load average %s" % (N, POST_N, loadavg()))
    for store in os.environ.get("STORES", "local zk").split():
        if store == "zk" and not ZKH:
            say("== zookeeper: skipped (no ZooKeeper)")
            continue
        one_store(store == "zk")


main()
