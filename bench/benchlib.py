"""benchlib.py - what the Python benchmark drivers (bench/scheduler, bench/zk,
bench/mesos, bench/peers) share: time, percentiles, ports, a process's CPU,
disk usage, POSTing jobs over keep-alive connections, and Server, a
`chronos serve` process driven over HTTP.  No globals (a driver passes in its
binary, log dir and pid file), no output."""
import datetime
import http.client
import json
import os
import pwd
import signal
import socket
import subprocess
import threading
import time


def now_ms():
    return time.time_ns() // 1_000_000


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def pct(sorted_v, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_v:
        return float("nan")
    k = max(1, int(-(-p * len(sorted_v) // 100)))  # ceil(p/100 * n)
    return sorted_v[min(k, len(sorted_v)) - 1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu_s(pid):
    """User + system CPU seconds of a process (None when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def proc_rss_kb(pid):
    """Resident set size of a process in KiB (None when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def du_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


class Server:
    """`chronos serve` on 127.0.0.1:<a free port>: the command line is
    chronos serve --http_port <port> <flags>; stdout and stderr go to
    <log_dir>/<tag>.log (emptied here, appended to by each life), and the
    pid of each life is appended to `pidfile` (the driver's run.sh kills
    those on exit).  Started here; start() again after stop() or kill9()."""

    READY_LIMIT_S = 30  # wait_ready's defaults
    READY_POLL_S = 0.01

    def __init__(self, chronos, flags, log_dir, tag, pidfile):
        self.tag = tag
        self.pidfile = pidfile
        self.port = free_port()
        self.log_path = os.path.join(log_dir, tag + ".log")
        # Tasks run as the bench's own user (a root server defaults to nobody).
        self.args = [chronos, "serve", "--http_port", str(self.port),
                     "--user", pwd.getpwuid(os.geteuid()).pw_name] + list(flags)
        self.proc = None
        open(self.log_path, "wb").close()
        self.start()

    def start(self):
        self.log_off = os.path.getsize(self.log_path)  # this life's log starts here
        self.log = open(self.log_path, "ab")
        self.start_ns = time.time_ns()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        with open(self.pidfile, "a") as f:
            f.write("%d\n" % self.proc.pid)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def request(self, method, path, body=None, timeout=5.0):
        """(status, body bytes); raises OSError or http.client.HTTPException."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body, hdrs)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def ping(self, timeout=0.5):
        try:
            return self.request("GET", "/ping", timeout=timeout)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def status(self, timeout=0.5):
        """GET /v1/status as a dict, None when it does not answer 200."""
        try:
            st, body = self.request("GET", "/v1/status", timeout=timeout)
            return json.loads(body) if st == 200 else None
        except (OSError, ValueError, http.client.HTTPException):
            return None

    def is_leader(self):
        s = self.status() if self.alive() else None
        return bool(s and s.get("isLeader"))

    def wait_ready(self, limit_s=None, poll_s=None):
        """Seconds from spawn until /ping answers; None when the server exits
        or limit_s passes first."""
        limit_s = self.READY_LIMIT_S if limit_s is None else limit_s
        poll_s = self.READY_POLL_S if poll_s is None else poll_s
        end = time.monotonic() + limit_s
        while time.monotonic() < end and self.alive():
            if self.ping():
                return (time.time_ns() - self.start_ns) / 1e9
            time.sleep(poll_s)
        return None

    def wait_leading(self, limit_s=60):
        end = time.monotonic() + limit_s
        while time.monotonic() < end and self.alive():
            if self.is_leader():
                return True
            time.sleep(0.02)
        return False

    def stop(self, limit_s=60):
        """SIGTERM, wait: seconds to exit (None: SIGKILL after limit_s)."""
        if not self.alive():
            return 0.0
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(limit_s)
            return time.monotonic() - t
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self.log.close()

    def kill9(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def log_text(self):
        """This life's log."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_off)
            return f.read().decode(errors="replace")

    def log_lines(self):
        return self.log_text().splitlines()

    def tail(self, n=15):
        return "\n".join("    " + x for x in self.log_lines()[-n:])


def post_jobs(port, bodies, threads=8, path="/v1/scheduler/iso8601", stats=None):
    """POSTs the bodies to 127.0.0.1:port over `threads` keep-alive
    connections (each POST tried 3 times on a connection error; a
    connection the server closes is opened again):
    (seconds, n_ok, errors[:3], n_errors); ok means 204.  `stats`, a dict
    when given, gets "reconnects": the connections opened again."""
    lock = threading.Lock()
    st = {"next": 0, "ok": 0, "err": 0, "errors": [], "reconnects": 0}

    def fail(text):
        with lock:
            st["err"] += 1
            if len(st["errors"]) < 3:
                st["errors"].append(text)

    def worker():
        conn = None
        while True:
            with lock:
                i = st["next"]
                st["next"] += 1
            if i >= len(bodies):
                break
            for attempt in range(3):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    conn.request("POST", path, bodies[i], {"Content-Type": "application/json"})
                    r = conn.getresponse()
                    data = r.read()
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                        with lock:
                            st["reconnects"] += 1
                    if r.status == 204:
                        with lock:
                            st["ok"] += 1
                    else:
                        fail("%d %s" % (r.status, data[:200]))
                    break
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    with lock:
                        st["reconnects"] += 1
                    if attempt == 2:
                        fail("exception %r" % e)
        if conn is not None:
            conn.close()

    t = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    if stats is not None:
        stats["reconnects"] = st["reconnects"]
    return time.monotonic() - t, st["ok"], st["errors"], st["err"]
