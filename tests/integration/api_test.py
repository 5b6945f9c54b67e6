#!/usr/bin/env python3
"""HTTP API integration tests of `chronos serve` (python3 stdlib only).

    CHRONOS=build/chronos python3 tests/integration/api_test.py

Starts the server on a free loopback port with a data dir in a temp dir and
checks it against the API contract:
  part 1  a table of malformed requests (api_cases.py): each gets a 4xx whose
          JSON body {"message", "status"} names the problem, and leaves the
          job list unchanged;
  part 2  every endpoint's success path and error paths, then Basic auth
          (--http_credentials) and TLS (--ssl_cert/--ssl_key) on servers of
          their own.
Prints one line per case ("ok   name" / "FAIL name: why") and last
"N passed, N failed".  Every process started here (servers, and the run
supervisors and tasks they start, found by the temp dir in their command
line) is killed on exit, even on failure.  Nothing waits a fixed time for an
effect: everything polls with a deadline.
"""
import atexit
import base64
import calendar
import datetime
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the tree
import api_cases  # noqa: E402

CHRONOS = os.path.realpath(os.environ.get("CHRONOS", "build/chronos"))
REQUEST_TIMEOUT = 10.0
RUN_BUDGET = 110.0  # seconds for the whole script
T0 = time.monotonic()
TMP = tempfile.mkdtemp(prefix="chronos-apit.")
OUT = os.path.join(TMP, "out")
os.makedirs(OUT)
S = "/v1/scheduler"

# ---- results ------------------------------------------------------------------

PASSED = 0
FAILED = 0


def one_line(s, limit=300):
    s = str(s).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[:limit] + "..."


VERBOSE = os.environ.get("CHRONOS_API_TEST_VERBOSE") == "1"


def ok(name, detail=None):
    global PASSED
    PASSED += 1
    if VERBOSE and detail:
        name += "  [%s]" % one_line(detail, 200)
    print("ok   " + name, flush=True)


def fail(name, why):
    global FAILED
    FAILED += 1
    print("FAIL %s: %s" % (name, one_line(why)), flush=True)


class Fail(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Fail(why)


class case:
    """with case("name"): ... -> ok, or FAIL with the Fail/exception text."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            ok(self.name)
            return False
        if issubclass(et, (KeyboardInterrupt, SystemExit, Budget)):
            return False
        if et is Fail:
            fail(self.name, ev)
        elif et is Missing:
            fail(self.name, "not implemented: %s" % ev)
        else:
            fail(self.name, "%s: %s" % (et.__name__, ev))
        return True


class Budget(BaseException):
    """The run's time budget is spent (not an Exception: nothing swallows it)."""


class Missing(Exception):
    """An endpoint of the contract answers 404: not implemented (yet)."""


def left():
    return RUN_BUDGET - (time.monotonic() - T0)


def poll(fn, timeout, interval=0.05):
    """fn() until it returns something true, at most `timeout` s (bounded by
    the run's budget); returns that value or the last one."""
    deadline = time.monotonic() + max(0.0, min(timeout, left()))
    while True:
        try:
            v = fn()
        except Fail:
            v = None
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---- processes -----------------------------------------------------------------

SERVER_PROCS = []


def proc_table():
    """{pid: (ppid, cmdline)} of every process we can read."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                stat = f.read().decode("latin-1")
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("latin-1")
            table[int(d)] = (ppid, cmd)
        except (OSError, ValueError, IndexError):
            continue
    return table


def kill_ours(extra_pids=()):
    """SIGKILL, by pid, the given pids, every process whose command line holds
    our temp dir, and their descendants (collected before killing, since
    orphans get re-parented)."""
    me = os.getpid()
    table = proc_table()
    roots = {p for p in extra_pids if p in table}
    roots |= {p for p, (_, cmd) in table.items() if TMP in cmd and p != me}
    children = {}
    for p, (pp, _) in table.items():
        children.setdefault(pp, []).append(p)
    victims, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in victims or p == me or p == 1:
            continue
        victims.add(p)
        todo.extend(children.get(p, []))
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def stop_proc(p):
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            try:
                p.kill()
                p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass


_cleaned = False


def cleanup():
    global _cleaned
    if _cleaned:
        return
    _cleaned = True
    live = [p.pid for p in SERVER_PROCS if p.poll() is None]
    for p in SERVER_PROCS:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
    kill_ours(live)
    for p in SERVER_PROCS:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    # A second sweep for anything a dying supervisor started meanwhile.
    kill_ours()
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(cleanup)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGHUP, on_signal)


def on_alarm(signum, frame):
    raise Budget("the run's time budget (%.0f s) is spent" % RUN_BUDGET)


signal.signal(signal.SIGALRM, on_alarm)


# ---- HTTP ------------------------------------------------------------------------

CORS_SEEN = []  # (method, path, status, has an Access-Control-Allow-Origin header)


class Resp:
    def __init__(self, status, reason, headers, body, elapsed=0.0):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value
        self.body = body
        self.elapsed = elapsed

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "%d %s" % (self.status, one_line(self.body[:200].decode("utf-8", "replace"), 200))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, name, extra_args=(), tls=None, creds=None):
        self.name = name
        self.extra = list(extra_args)
        self.tls = tls  # an ssl.SSLContext for https, or None
        self.creds = creds  # "user:pass" used by default, or None
        self.dir = os.path.join(TMP, name)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.proc = None
        self.port = None

    def start(self, timeout=30.0):
        os.makedirs(self.dir, exist_ok=True)
        for _ in range(3):
            self.port = free_port()
            with open(self.log, "ab") as log:
                # Tasks run as this test's user (a root server defaults to nobody).
                user = [] if "--user" in self.extra else ["--user", pwd.getpwuid(os.geteuid()).pw_name]
                self.proc = subprocess.Popen(
                    [CHRONOS, "serve", "--http_port", str(self.port), "--data_dir", self.data]
                    + user + self.extra, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL)
            SERVER_PROCS.append(self.proc)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    r = self.request("GET", "/ping", timeout=2, auth=False)
                    if r.status == 200:
                        return True
                except (OSError, http.client.HTTPException):
                    pass
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.stop()
                return False
            if b"listen" not in self.log_tail().encode().lower():
                return False  # it died for some other reason than the port
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            stop_proc(self.proc)

    def log_tail(self, n=5):
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return " | ".join(lines[-n:])
        except OSError:
            return ""

    def connection(self, timeout):
        if self.tls is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, auth=None, timeout=REQUEST_TIMEOUT):
        """auth: None = the server's credentials if any, False = none, or "user:pass"."""
        hdrs = dict(headers or {})
        if auth is None:
            auth = self.creds
        if auth:
            hdrs["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        if body is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/json"
        conn = self.connection(timeout)
        t = time.monotonic()
        try:
            try:
                conn.request(method, path, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer (413) before reading it all
            r = conn.getresponse()
            data = r.read()
            resp = Resp(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, data,
                        time.monotonic() - t)
        finally:
            conn.close()
        CORS_SEEN.append((method, path[:80], resp.status,
                          resp.header("Access-Control-Allow-Origin") is not None))
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, obj, **kw):
        body = obj if isinstance(obj, (bytes, bytearray)) else json.dumps(obj).encode()
        return self.request("POST", path, body=body, **kw)

    def job(self, name):
        r = self.get(S + "/job/" + name)
        expect(r.status == 200, "GET job/%s: %r" % (name, r))
        return r.json()

    def jobs(self):
        r = self.get(S + "/jobs")
        expect(r.status == 200, "GET jobs: %r" % r)
        return r.json()


def need(r, what):
    """Raises Missing when a contract endpoint answers 404."""
    if r.status == 404:
        raise Missing("%s answers %r" % (what, r))
    return r


def expect_204(r, what):
    expect(r.status == 204, "%s: want 204, got %r" % (what, r))
    expect(r.body == b"", "%s: 204 with a body %r" % (what, r.body[:100]))


def iso_ms(ms):
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def utc_ms(y, mo, d, h=0, mi=0):
    return calendar.timegm((y, mo, d, h, mi, 0)) * 1000


def marker(name):
    return os.path.join(OUT, name)


def read_marker(name):
    try:
        with open(marker(name)) as f:
            return f.read()
    except OSError:
        return ""


def wait_marker(name, text, timeout=15):
    got = poll(lambda: text in read_marker(name), timeout)
    expect(got, "%s never showed %r within %d s (has %r)" % (name, text, timeout,
                                                            read_marker(name)[:100]))


# ---- part 1: the malformed-request table --------------------------------------------

VOLATILE = {"successCount", "errorCount", "lastSuccess", "lastError", "errorsSinceLastSuccess"}
# Ours: GET job/{name}/status and jobs/summary have them, never the job JSON.
PROGRESS = {"nextRunAt", "lastRunState", "remainingRepeats", "lastRunAt", "retryAt",
            "taskTimeSeconds"}

STATUS_TEXT = {400: ("Bad Request",), 401: ("Unauthorized",), 404: ("Not Found",),
               405: ("Method Not Allowed",),
               413: ("Payload Too Large", "Content Too Large", "Request Entity Too Large")}


def snapshot(srv):
    jobs = srv.jobs()
    expect(isinstance(jobs, list), "GET jobs is not an array")
    return sorted(({k: v for k, v in j.items() if k not in VOLATILE} for j in jobs),
                  key=lambda j: j.get("name", ""))


def diff_summary(before, after):
    b = {j["name"]: j for j in before}
    a = {j["name"]: j for j in after}
    parts = []
    added = sorted(set(a) - set(b))
    removed = sorted(set(b) - set(a))
    if added:
        parts.append("added %s" % added)
    if removed:
        parts.append("removed %s" % removed)
    for n in sorted(set(a) & set(b)):
        if a[n] != b[n]:
            keys = sorted(k for k in set(a[n]) | set(b[n]) if a[n].get(k) != b[n].get(k))
            parts.append("%s changed %s" % (n, keys))
    return "; ".join(parts)


def seed(srv):
    for path, job in api_cases.SEEDS:
        r = srv.post(path, job)
        expect(r.status == 204, "seed %s: %r" % (job["name"], r))


def restore(srv, baseline):
    """Puts the seeds back and deletes jobs the table should not have made."""
    base_names = {j["name"] for j in baseline}
    try:
        seed(srv)
    except (Fail, OSError, http.client.HTTPException):
        pass
    for _ in range(3):
        try:
            extra = [j["name"] for j in srv.jobs() if j["name"] not in base_names]
        except (Fail, OSError, ValueError, http.client.HTTPException):
            return
        for n in reversed(extra):
            try:
                srv.request("DELETE", S + "/job/" + n)
            except (OSError, http.client.HTTPException):
                pass


def check_error_body(r, want_status, expect_items):
    """Problems with an error answer: status, JSON shape, message words."""
    problems = []
    if r.status not in want_status:
        problems.append("status %d, want %s" % (r.status, "/".join(map(str, want_status))))
    try:
        obj = r.json()
    except ValueError:
        obj = None
    if not (isinstance(obj, dict) and isinstance(obj.get("message"), str)
            and isinstance(obj.get("status"), str)):
        problems.append("body is not {message, status}: %r" % r.body[:160])
        return problems
    msg = obj["message"]
    if r.status in STATUS_TEXT and obj["status"] not in STATUS_TEXT[r.status]:
        problems.append("status text %r for %d" % (obj["status"], r.status))
    ctype = r.header("Content-Type") or ""
    if not ctype.startswith("application/json"):
        problems.append("Content-Type %r" % ctype)
    for item in expect_items:
        alts = item if isinstance(item, tuple) else (item,)
        if not any(a.lower() in msg.lower() for a in alts):
            problems.append("message %r does not name %s" % (msg[:160], " or ".join(map(repr, alts))))
    return problems


def part1(srv):
    with case("table: seed jobs t_sched, t_a, t_b <- t_a, t_c <- t_b"):
        seed(srv)
    try:
        baseline = snapshot(srv)
    except Exception as e:  # noqa: BLE001
        fail("table: GET jobs for the baseline", e)
        return srv
    for c in api_cases.CASES:
        name = "table: " + c.name
        if left() < 45:
            fail(name, "not run: the time budget is spent")
            continue
        try:
            r = srv.request(c.method, c.path, body=c.body, headers=c.headers)
        except (OSError, http.client.HTTPException) as e:
            why = "request failed: %s: %s" % (type(e).__name__, e)
            if not srv.alive():
                why += "; the server died (%s)" % srv.log_tail(3)
                fail(name, why)
                srv = Server(srv.name + "-restarted")
                if not srv.start():
                    fail("table: restart after a crash", srv.log_tail())
                    return srv
                seed(srv)
                baseline = snapshot(srv)
                continue
            fail(name, why)
            continue
        problems = check_error_body(r, c.status, c.expect)
        try:
            now = snapshot(srv)
            if now != baseline:
                problems.append("the job list changed: " + diff_summary(baseline, now))
                restore(srv, baseline)
                baseline = snapshot(srv)
        except Exception as e:  # noqa: BLE001
            problems.append("GET jobs after it: %s" % e)
        if problems:
            fail(name, "; ".join(problems))
        else:
            ok(name, "%d %s" % (r.status, r.body[:200].decode("utf-8", "replace")))
    return srv


# ---- part 2: endpoints ---------------------------------------------------------------------

SERIALIZER_ORDER = [
    "name", "command", "shell", "executor", "executorFlags", "taskInfoData", "retries", "owner",
    "ownerName", "description", "successCount", "errorCount", "lastSuccess", "lastError", "cpus",
    "disk", "mem", "disabled", "softError", "dataProcessingJobType", "errorsSinceLastSuccess",
    "fetch", "uris", "environmentVariables", "arguments", "highPriority", "runAsUser", "concurrent",
    "maxCompletionTime", "constraints", "schedule", "scheduleTimeZone", "parents", "container",
    "retryDelaySeconds", "retryBackoff", "startingDeadlineSeconds"]
NUMERIC = {"cpus", "mem", "disk", "retries", "maxCompletionTime", "successCount", "errorCount",
           "errorsSinceLastSuccess", "retryDelaySeconds"}
ENDED = {"finished", "failed", "killed", "lost"}
ACTIVE = {"recording", "queued", "launching", "running"}
RUN_KEYS = ["id", "job", "attempt", "cause", "state", "scheduledAt", "startedAt", "endedAt",
            "durationMs", "exitCode", "reason"]
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
STATE_RE = re.compile(r"^(idle|queued|\d+ running)$")
FUTURE = "R/2030-01-01T00:00:00Z/PT1H"


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def create(srv, job, path=S + "/iso8601"):
    r = srv.post(path, job)
    expect_204(r, "POST %s %s" % (path, job.get("name")))


def get_runs(srv, query=""):
    r = need(srv.get("/v1/runs" + ("?" + query if query else "")), "GET /v1/runs")
    expect(r.status == 200, "GET /v1/runs?%s: %r" % (query, r))
    v = r.json()
    expect(isinstance(v, list), "GET /v1/runs?%s is not an array" % query)
    return v


def wait_run(srv, job, pred, timeout=15, what="a matching run"):
    last = []

    def probe():
        nonlocal last
        last = get_runs(srv, "job=" + job)
        for run in last:
            if pred(run):
                return run
        return None

    run = poll(probe, timeout, 0.1)
    expect(run, "no %s of %s within %d s; runs: %s" % (
        what, job, timeout, [(x.get("id"), x.get("state")) for x in last][:5]))
    return run


def metric_families(text):
    """{family: type} from # TYPE lines, and the sample names."""
    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                types[parts[2]] = parts[3]
        elif line and not line.startswith("#"):
            samples.append(re.split(r"[{\s]", line, 1)[0])
    return types, samples


def metric_sum(text, family):
    total, seen = 0.0, False
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m and m.group(1) == family:
            total += float(m.group(3))
            seen = True
    return total if seen else None


# What Prometheus sends with each scrape: /metrics answers its text to this.
PROM_ACCEPT = {"Accept": "application/openmetrics-text;version=1.0.0;q=0.75,"
                         "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}


def read_metric(srv, family):
    r = srv.get("/metrics", headers=PROM_ACCEPT)
    if r.status != 200:
        return None
    return metric_sum(r.text, family)


def part2_basics(srv):
    with case("ping: GET /ping answers 200 text/plain pong"):
        r = srv.get("/ping")
        expect(r.status == 200 and r.body.strip() == b"pong", "got %r" % r)
        expect((r.header("Content-Type") or "").startswith("text/plain"),
               "Content-Type %r" % r.header("Content-Type"))
    for path in [S + "/leader", "/scheduler/leader", "/leader"]:
        with case("leader: GET %s answers {\"leader\": \"host:port\"}" % path):
            r = srv.get(path)
            expect(r.status == 200, "got %r" % r)
            v = r.json()
            expect(isinstance(v, dict) and isinstance(v.get("leader"), str), "body %r" % v)
            m = re.match(r"^(.+):(\d+)$", v["leader"])
            expect(m and int(m.group(2)) == srv.port, "leader %r is not host:%d" % (v["leader"], srv.port))
    with case("status: GET /v1/status has version, leader, jobs, runsActive"):
        r = srv.get("/v1/status")
        expect(r.status == 200, "got %r" % r)
        v = r.json()
        missing = [k for k in ("version", "leader", "jobs", "runsActive") if k not in v]
        expect(not missing, "missing %s in %r" % (missing, v))


def part2_jobs(srv):
    with case("create: POST iso8601 answers 204 with an empty body"):
        create(srv, {"name": "p2_basic", "command": "true", "schedule": FUTURE})
    with case("create: GET job shows every Chronos field with its default"):
        j = srv.job("p2_basic")
        want = {"name": "p2_basic", "command": "true", "shell": True, "executor": "",
                "executorFlags": "", "taskInfoData": "", "retries": 2, "owner": "", "ownerName": "",
                "description": "", "successCount": 0, "errorCount": 0, "lastSuccess": "",
                "lastError": "", "cpus": 0.1, "disk": 256.0, "mem": 128.0, "disabled": False,
                "softError": False, "dataProcessingJobType": False, "errorsSinceLastSuccess": 0,
                "fetch": [], "uris": [], "environmentVariables": [], "arguments": [],
                "highPriority": False, "concurrent": False, "maxCompletionTime": 0,
                "constraints": [], "schedule": FUTURE, "scheduleTimeZone": ""}
        bad = ["%s=%r (want %r)" % (k, j.get(k, "<absent>"), v) for k, v in want.items()
               if k not in j or j[k] != v or type(j[k]) is not type(v)]
        expect(not bad, "; ".join(bad))
        expect(isinstance(j.get("runAsUser"), str), "runAsUser %r" % j.get("runAsUser"))
        expect("parents" not in j and "container" not in j, "parents/container present: %r" % j)
        expect(not PROGRESS & set(j), "progress in the job JSON: %r" % sorted(PROGRESS & set(j)))
    with case("status: GET job/{name}/status has the progress the job JSON leaves out"):
        st = srv.get(S + "/job/p2_basic/status")
        expect(st.status == 200, "GET status: %r" % st)
        st = st.json()
        want = {"name": "p2_basic", "status": "fresh", "state": "idle",
                "nextRunAt": "2030-01-01T00:00:00.000Z", "remainingRepeats": None,
                "lastRunState": None, "lastRunAt": None, "retryAt": None}
        bad = ["%s=%r (want %r)" % (k, st.get(k, "<absent>"), v) for k, v in want.items()
               if st.get(k, "<absent>") != v]
        expect(not bad, "; ".join(bad))
        expect(is_number(st.get("taskTimeSeconds")), "taskTimeSeconds %r" % st)
        r = srv.get(S + "/job/p2_nope/status")
        expect(r.status == 404, "unknown job: %r" % r)
    with case("create: GET job's keys come in Chronos serializer order"):
        keys = list(srv.job("p2_basic").keys())
        known = [k for k in keys if k in SERIALIZER_ORDER]
        expect(known == sorted(known, key=SERIALIZER_ORDER.index), "order %s" % keys)
    with case("replace: POSTing the same name again replaces the job (upsert)"):
        create(srv, {"name": "p2_basic", "command": "echo replaced", "schedule": FUTURE,
                     "retries": 4})
        j = srv.job("p2_basic")
        expect(j["command"] == "echo replaced" and j["retries"] == 4, "got %r" % j)
        n = sum(1 for x in srv.jobs() if x["name"] == "p2_basic")
        expect(n == 1, "%d jobs named p2_basic" % n)
    with case("alias: POST /scheduler/iso8601 then GET /scheduler/job and /scheduler/jobs"):
        create(srv, {"name": "p2_alias", "command": "true", "schedule": FUTURE},
               path="/scheduler/iso8601")
        r = srv.get("/scheduler/job/p2_alias")
        expect(r.status == 200 and r.json()["name"] == "p2_alias", "GET: %r" % r)
        r = srv.get("/scheduler/jobs")
        expect(r.status == 200 and "p2_alias" in [x["name"] for x in r.json()], "jobs: %r" % r)
    with case("alias: `async` on every job of the 2.x prefix, on /v1 only when true"):
        create(srv, {"name": "p2_async", "command": "true", "schedule": FUTURE, "async": True},
               path="/scheduler/iso8601")
        v2 = {x["name"]: x for x in srv.get("/scheduler/jobs").json()}
        v1 = {x["name"]: x for x in srv.jobs()}
        expect(v2["p2_alias"].get("async") is False and v2["p2_async"].get("async") is True,
               "2.x: %r %r" % (v2["p2_alias"].get("async"), v2["p2_async"].get("async")))
        expect("async" not in v1["p2_alias"] and v1["p2_async"].get("async") is True,
               "v1: %r %r" % (v1["p2_alias"].get("async"), v1["p2_async"].get("async")))
        r = srv.get("/scheduler/job/p2_alias")
        expect(r.json().get("async") is False, "2.x GET job: %r" % r.json().get("async"))
        r = srv.get("/scheduler/jobs/search?name=p2_a")
        expect(all("async" in x for x in r.json()), "2.x search: %r" % r.json())
    with case("dependency: POST dependency makes a dependent job (parents, no schedule)"):
        create(srv, {"name": "p2_dep", "command": "true", "parents": ["p2_basic"]},
               path=S + "/dependency")
        j = srv.job("p2_dep")
        expect(j.get("parents") == ["p2_basic"], "parents %r" % j.get("parents"))
        expect("schedule" not in j and "scheduleTimeZone" not in j, "has a schedule: %r" % j)
    with case("dependency: the 2.x alias /scheduler/dependency works"):
        create(srv, {"name": "p2_dep2", "command": "true", "parents": ["p2_basic"]},
               path="/scheduler/dependency")
        expect(srv.job("p2_dep2").get("parents") == ["p2_basic"], "not dependent")

    full = json.load(open(os.path.join(HERE, "jobs", "chronos3_full.json")))
    with case("chronos3_full.json: every Chronos 3 field, POSTed unchanged, answers 204"):
        with open(os.path.join(HERE, "jobs", "chronos3_full.json"), "rb") as f:
            r = srv.post(S + "/iso8601", f.read())
        expect_204(r, "POST")
    with case("chronos3_full.json: GET returns each field as sent, numbers as numbers"):
        j = srv.job("chronos3_full")
        bad = []
        for k, v in full.items():
            got = j.get(k, "<absent>")
            if k in NUMERIC:
                if not (is_number(got) and float(got) == float(v)):
                    bad.append("%s=%r (sent %r)" % (k, got, v))
            elif got != v:
                bad.append("%s=%s (sent %s)" % (k, one_line(json.dumps(got), 120),
                                                one_line(json.dumps(v), 120)))
        if j.get("uris") != [f["uri"] for f in full["fetch"]]:
            bad.append("uris=%r, want fetch[].uri" % j.get("uris"))
        expect(not bad, "; ".join(bad))

    ret = json.load(open(os.path.join(HERE, "jobs", "chronos3_returned.json")))
    with case("chronos3_returned.json: a job as a Chronos server returns it answers 204"):
        create(srv, ret)
    with case("chronos3_returned.json: counters in the request are ignored"):
        j = srv.job("chronos3_returned")
        want = {"successCount": 0, "errorCount": 0, "errorsSinceLastSuccess": 0,
                "lastSuccess": "", "lastError": ""}
        bad = ["%s=%r" % (k, j.get(k)) for k, v in want.items() if j.get(k) != v]
        expect(not bad, "; ".join(bad))
    with case("chronos3_returned.json: numbers sent as strings come back as numbers"):
        j = srv.job("chronos3_returned")
        expect(is_number(j.get("cpus")) and j["cpus"] == 0.5, "cpus %r" % j.get("cpus"))
        expect(is_number(j.get("mem")) and j["mem"] == 1024.0, "mem %r" % j.get("mem"))
    with case("chronos3_returned.json: the other fields as sent ('null' zone, lowercase docker)"):
        j = srv.job("chronos3_returned")
        bad = []
        for k in ["command", "shell", "executor", "retries", "owner", "disk", "disabled", "fetch",
                  "uris", "environmentVariables", "arguments", "highPriority", "runAsUser",
                  "concurrent", "maxCompletionTime", "constraints", "schedule"]:
            if j.get(k) != ret[k]:
                bad.append("%s=%r (sent %r)" % (k, j.get(k), ret[k]))
        if j.get("scheduleTimeZone") not in ("", "null"):
            bad.append("scheduleTimeZone=%r" % j.get("scheduleTimeZone"))
        c = j.get("container") or {}
        if c.get("image") != "libmesos/ubuntu" or str(c.get("type", "")).upper() != "DOCKER":
            bad.append("container=%r" % c)
        expect(not bad, "; ".join(bad))
    with case("numbers: -0 is zero (cpus -0.0 means the default, retries -0 is 0)"):
        create(srv, {"name": "p2_negzero", "command": "true", "schedule": FUTURE})
        r = srv.post(S + "/iso8601", b'{"name":"p2_negzero","command":"true","schedule":"%s",'
                     b'"cpus":-0.0,"retries":-0}' % FUTURE.encode())
        expect_204(r, "POST")
        j = srv.job("p2_negzero")
        expect(j["cpus"] == 0.1 and j["retries"] == 0, "cpus %r retries %r" % (j["cpus"], j["retries"]))
    with case("unicode: valid UTF-8 in description and command is accepted and round-trips"):
        text = "caf\u00e9 \u2615 \u65e5\u672c\u8a9e \U0001F600"
        create(srv, {"name": "p2_unicode", "command": "echo '%s'" % text, "schedule": FUTURE,
                     "description": text})
        j = srv.job("p2_unicode")
        expect(j["description"] == text and j["command"] == "echo '%s'" % text, "got %r" % j)
    with case("jobs: GET jobs is one line, a JSON array of every job"):
        r = srv.get(S + "/jobs")
        expect(r.status == 200, "got %r" % r)
        expect(b"\n" not in r.body.rstrip(b"\r\n"), "more than one line")
        names = [x["name"] for x in r.json()]
        missing = [n for n in ["p2_basic", "p2_dep", "chronos3_full", "chronos3_returned", "t_a"]
                   if n not in names]
        expect(not missing, "missing %s" % missing)
        expect((r.header("Content-Type") or "").startswith("application/json"),
               "Content-Type %r" % r.header("Content-Type"))
    with case("jobs/summary: shape, status and state of each job"):
        r = srv.get(S + "/jobs/summary")
        expect(r.status == 200, "got %r" % r)
        v = r.json()
        expect(isinstance(v, dict) and isinstance(v.get("jobs"), list), "body %r" % r)
        by = {x.get("name"): x for x in v["jobs"]}
        expect(set(by) == {x["name"] for x in srv.jobs()}, "names differ from GET jobs")
        bad = []
        for n, x in by.items():
            if not {"name", "status", "state", "schedule", "parents", "disabled"} | PROGRESS <= set(x):
                bad.append("%s keys %s" % (n, sorted(x)))
            elif x["status"] not in ("success", "failure", "fresh"):
                bad.append("%s status %r" % (n, x["status"]))
            elif not STATE_RE.match(str(x["state"])):
                bad.append("%s state %r" % (n, x["state"]))
        d, s = by.get("p2_dep", {}), by.get("p2_basic", {})
        if d.get("schedule") != "" or d.get("parents") != ["p2_basic"]:
            bad.append("dependent p2_dep: %r" % d)
        if s.get("schedule") != srv.job("p2_basic")["schedule"] or s.get("parents") != []:
            bad.append("scheduled p2_basic: %r" % s)
        if s.get("status") != "fresh" or s.get("state") != "idle" or s.get("disabled") is not False:
            bad.append("fresh idle p2_basic: %r" % s)
        if by.get("chronos3_full", {}).get("disabled") is not True:
            bad.append("chronos3_full disabled: %r" % by.get("chronos3_full"))
        expect(not bad, "; ".join(bad))
    part2_search(srv)


def part2_search(srv):
    for name, cmd in [("srch_Alpha", "echo needle1"), ("srch_beta", "echo haystack"),
                      ("other_gamma", "echo needle2")]:
        create(srv, {"name": name, "command": cmd, "schedule": FUTURE})

    def search(q):
        r = srv.get(S + "/jobs/search?" + q)
        expect(r.status == 200, "search?%s: %r" % (q, r))
        v = r.json()
        expect(isinstance(v, list), "search?%s is not an array" % q)
        return sorted(x["name"] for x in v)

    for q, want in [("name=SRCH", ["srch_Alpha", "srch_beta"]),
                    ("name=alpha", ["srch_Alpha"]),
                    ("command=needle", ["other_gamma", "srch_Alpha"]),
                    ("name=srch&command=needle", ["srch_Alpha"]),
                    ("name=zzzz&any=gamma", ["other_gamma"]),
                    ("name=zzzz&any=NEEDLE", ["other_gamma", "srch_Alpha"]),
                    ("command=zzzz&any=srch", ["srch_Alpha", "srch_beta"]),
                    ("name=srch&command=needle&any=gamma", ["other_gamma", "srch_Alpha"]),
                    ("name=zzzz&any=zzzz", []),
                    ("name=zzzznomatch", [])]:
        with case("jobs/search?%s finds %s" % (q, want)):
            got = search(q)
            expect(got == want, "got %s" % got)
    with case("jobs/search: limit and offset slice the matches"):
        a = search("name=srch&limit=1")
        b = search("name=srch&limit=1&offset=1")
        c = search("name=srch&offset=2")
        expect(len(a) == 1 and len(b) == 1 and a != b and c == [], "got %s %s %s" % (a, b, c))
    with case("jobs/search: no parameters matches all, limit defaults to 10"):
        total = len(srv.jobs())
        got = search("")
        expect(total > 10 and len(got) == 10, "%d of %d jobs" % (len(got), total))
    with case("jobs/search: `any` alone filters nothing (Chronos: it only rescues a failed test)"):
        got = search("any=zzzznomatch&limit=1000")
        expect(len(got) == len(srv.jobs()), "%d jobs" % len(got))


def part2_runs(srv):
    started_before = read_metric(srv, "chronos_runs_started_total")
    m = marker
    jobs = [
        {"name": "p2_manual", "command": "echo manual >> %s" % m("manual"), "schedule": FUTURE},
        {"name": "p2_args", "command": "echo >> %s" % m("args"), "schedule": FUTURE},
        {"name": "p2_outerr", "command": "echo out; echo err >&2", "schedule": FUTURE},
        {"name": "p2_sleeper", "command": "echo started >> %s; sleep 30; echo done >> %s"
         % (m("sleeper"), m("sleeper")), "schedule": FUTURE},
        {"name": "p2_follow", "command": "for i in 1 2 3; do echo $i; sleep 0.7; done",
         "schedule": FUTURE},
        {"name": "p2_succ_p", "command": "true", "schedule": FUTURE},
        {"name": "p2_succ_post", "command": "true", "schedule": FUTURE},
    ]
    created = set()
    for j in jobs:
        try:
            create(srv, j)
            created.add(j["name"])
        except Fail as e:
            fail("runs: create %s" % j["name"], e)
    try:
        create(srv, {"name": "p2_succ_c", "command": "echo child >> %s" % m("succ_c"),
                     "parents": ["p2_succ_p"]}, path=S + "/dependency")
    except Fail as e:
        fail("runs: create p2_succ_c", e)

    with case("run: PUT job/{name} answers 204 with an empty body"):
        expect_204(srv.request("PUT", S + "/job/p2_manual"), "PUT job/p2_manual")
    put_at = time.time()
    for path in ["/job/p2_args?arguments=hello", "/job/p2_outerr", "/job/p2_sleeper",
                 "/job/p2_follow"]:
        r = srv.request("PUT", S + path)
        if r.status != 204:
            fail("run: PUT %s" % path, "got %r" % r)
    with case("create: no schedule and no parents runs the job once, now"):
        create(srv, {"name": "p2_once", "command": "echo once >> %s" % m("once")})
        wait_marker("once", "once")
    with case("create: R1//PT24H (empty start) means now: the job runs"):
        create(srv, {"name": "p2_r1empty", "command": "echo r1 >> %s" % m("r1empty"),
                     "schedule": "R1//PT24H"})
        wait_marker("r1empty", "r1")

    with case("run: PUT job/{name} runs the job now"):
        wait_marker("manual", "manual")
    with case("run: ?arguments= are appended to the command"):
        wait_marker("args", "hello")

    follow_run = None
    with case("runs: ?follow=1 streams stdout of a running job until the run ends"):
        run = wait_run(srv, "p2_follow", lambda x: x.get("state") in ENDED | {"running"}, 10,
                       "started run")
        follow_run = run["id"]
        conn = srv.connection(15)
        try:
            conn.request("GET", "/v1/runs/%s/stdout?follow=1" % run["id"])
            resp = conn.getresponse()
            if resp.status != 200:
                raise Fail("status %d %r" % (resp.status, resp.read(200)))
            chunks, first_at = [], None
            while True:
                c = resp.read1(4096)
                if not c:
                    break
                if first_at is None:
                    first_at = time.time()
                chunks.append(c)
            end_at = time.time()
        finally:
            conn.close()
        body = b"".join(chunks)
        if body != b"1\n2\n3\n":
            now_run = srv.get("/v1/runs/" + run["id"]).text
            raise Fail("streamed %r; the run when the stream began: %s; now: %s"
                       % (body, json.dumps(run), now_run))
        expect(end_at - put_at >= 1.2, "the stream ended %.2f s after the run began" % (end_at - put_at))
        st = poll(lambda: srv.get("/v1/runs/" + run["id"]).json().get("state") in ENDED, 3)
        expect(st, "the stream ended before the run did")

    manual_run = None
    with case("runs: the manual run shows in /v1/runs?job= as finished, Chronos task id"):
        run = wait_run(srv, "p2_manual", lambda x: x.get("state") == "finished", 15, "finished run")
        manual_run = run
        bad = [k for k in RUN_KEYS if k not in run]
        expect(not bad, "missing keys %s in %r" % (bad, run))
        expect(re.match(r"^ct:\d+:0:p2_manual$", run["id"]), "id %r" % run["id"])
        expect(run["job"] == "p2_manual" and run["attempt"] == 0 and run["cause"] == "manual",
               "run %r" % run)
        expect(run["exitCode"] == 0 and is_number(run["durationMs"]) and run["durationMs"] >= 0,
               "run %r" % run)
        for k in ("scheduledAt", "startedAt", "endedAt"):
            expect(isinstance(run[k], str) and ISO_RE.match(run[k]), "%s %r" % (k, run[k]))
        due = int(run["id"].split(":")[1])
        expect(abs(due / 1000.0 - put_at) < 60, "due_ms %d is not about now" % due)
    with case("runs: GET /v1/runs/{id} returns that run"):
        expect(manual_run, "no run to look up")
        r = srv.get("/v1/runs/" + manual_run["id"])
        expect(r.status == 200, "got %r" % r)
        v = r.json()
        expect(v.get("id") == manual_run["id"] and v.get("state") == "finished", "got %r" % v)
    with case("runs: stdout and stderr of a run (echo out; echo err >&2)"):
        run = wait_run(srv, "p2_outerr", lambda x: x.get("state") in ENDED, 15, "ended run")
        expect(run["state"] == "finished", "state %r" % run["state"])
        o = srv.get("/v1/runs/%s/stdout" % run["id"])
        e = srv.get("/v1/runs/%s/stderr" % run["id"])
        expect(o.status == 200 and o.body == b"out\n", "stdout %r" % o)
        expect(e.status == 200 and e.body == b"err\n", "stderr %r" % e)
        expect((o.header("Content-Type") or "").startswith("text/plain"),
               "Content-Type %r" % o.header("Content-Type"))
    with case("runs: job=, state=, limit= filter; newest first"):
        v = get_runs(srv, "job=p2_manual")
        expect(v and all(x.get("job") == "p2_manual" for x in v), "job= %r" % v[:3])
        v = get_runs(srv, "state=finished")
        expect(v and all(x.get("state") == "finished" for x in v), "state=finished %r" % v[:3])
        v = get_runs(srv, "state=ended")
        expect(v and all(x.get("state") in ENDED for x in v), "state=ended %r" % v[:3])
        v = get_runs(srv, "state=active")
        expect(all(x.get("state") in ACTIVE for x in v), "state=active %r" % v[:3])
        v = get_runs(srv, "limit=1")
        expect(len(v) == 1, "limit=1 gave %d" % len(v))
        v = get_runs(srv)
        expect(len(v) >= 4, "only %d runs" % len(v))
        at = [x.get("scheduledAt") or "" for x in v]
        expect(at == sorted(at, reverse=True), "not newest first: %s" % at[:6])

    with case("task/kill: DELETE task/kill/{name} ends a `sleep 30` run as killed"):
        wait_marker("sleeper", "started")
        r = need(srv.request("DELETE", S + "/task/kill/p2_sleeper"), "DELETE task/kill")
        expect_204(r, "DELETE task/kill")
        t = time.monotonic()

        def killed():
            try:
                runs = get_runs(srv, "job=p2_sleeper")
                if any(x.get("state") == "killed" for x in runs):
                    return True
            except (Fail, Missing, ValueError):
                pass
            r = srv.get(S + "/job/p2_sleeper/status")
            return r.status == 200 and r.json().get("lastRunState") == "killed"

        expect(poll(killed, 15, 0.1), "the run did not end as killed within 15 s")
        expect(time.monotonic() - t < 15, "took too long")
        expect("done" not in read_marker("sleeper"), "the task ran to its end")

    marked = False
    with case("job/success: PUT answers 200 text/plain 'marked job <name> as successful: true'"):
        r = need(srv.request("PUT", S + "/job/success/p2_succ_p"), "PUT job/success")
        marked = r.status == 200
        expect(r.status == 200, "got %r" % r)
        expect(r.text.strip() == "marked job p2_succ_p as successful: true", "body %r" % r.text)
        expect((r.header("Content-Type") or "").startswith("text/plain"),
               "Content-Type %r" % r.header("Content-Type"))
    with case("job/success: successCount increments and lastSuccess is set"):
        expect(marked, "job/success did not answer 200")
        got = poll(lambda: srv.job("p2_succ_p").get("successCount") == 1, 5)
        j = srv.job("p2_succ_p")
        expect(got, "successCount %r" % j.get("successCount"))
        expect(ISO_RE.match(j.get("lastSuccess") or ""), "lastSuccess %r" % j.get("lastSuccess"))
    with case("job/success: the job's dependents fire"):
        expect(marked, "job/success did not answer 200")
        wait_marker("succ_c", "child")
    with case("job/success: POST works too"):
        r = srv.request("POST", S + "/job/success/p2_succ_post")
        expect(r.status == 200 and "p2_succ_post" in r.text and "true" in r.text, "got %r" % r)

    with case("metrics: chronos_runs_started_total increases after runs"):
        after = read_metric(srv, "chronos_runs_started_total")
        expect(started_before is not None and after is not None,
               "no chronos_runs_started_total (before %r, after %r)" % (started_before, after))
        expect(after >= started_before + 3, "before %r, after %r" % (started_before, after))

    with case("job/stat: a job that never ran: zero histogram, empty taskStatHistory"):
        r = srv.get(S + "/job/stat/p2_basic")
        expect(r.status == 200, "got %r" % r)
        v = r.json()
        h = v.get("histogram")
        keys = ["75thPercentile", "95thPercentile", "98thPercentile", "99thPercentile", "median",
                "mean", "count"]
        expect(isinstance(h, dict) and all(k in h for k in keys), "histogram %r" % h)
        expect(all(is_number(h[k]) and h[k] == 0 for k in keys), "not zeros: %r" % h)
        expect(v.get("taskStatHistory") == [], "taskStatHistory %r" % v.get("taskStatHistory"))
    with case("job/stat: after a run: count > 0 and a Success entry in taskStatHistory"):
        r = srv.get(S + "/job/stat/p2_manual")
        expect(r.status == 200, "got %r" % r)
        v = r.json()
        expect(v["histogram"]["count"] >= 1, "histogram %r" % v["histogram"])
        hist = v.get("taskStatHistory") or []
        expect(hist, "empty taskStatHistory")
        e = hist[0]
        bad = [k for k in ("taskId", "jobName", "slaveId", "startTime", "endTime", "duration",
                           "status") if k not in e]
        expect(not bad, "missing %s in %r" % (bad, e))
        tre = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d$")
        expect(e["jobName"] == "p2_manual" and e["status"] == "Success", "entry %r" % e)
        expect(tre.match(e["startTime"]) and tre.match(e["endTime"]), "times %r" % e)
        expect(re.match(r"^(\d+d)?(\d+h)?(\d+m)?\d+s$", e["duration"]), "duration %r" % e["duration"])
        expect(str(e["taskId"]).startswith("ct:"), "taskId %r" % e["taskId"])

    for pct in ["median", "mean", "75thPercentile", "95thPercentile", "98thPercentile",
                "99thPercentile"]:
        with case("stats/%s: jobs slowest first, never-run jobs with time 0" % pct):
            r = srv.get(S + "/stats/" + pct)
            expect(r.status == 200, "got %r" % r)
            v = r.json()
            expect(isinstance(v, list) and all(set(x) >= {"jobNameLabel", "time"} for x in v),
                   "body %r" % v[:3])
            by = {x["jobNameLabel"]: x["time"] for x in v}
            expect(by.get("p2_basic") == 0, "never-run p2_basic: %r" % by.get("p2_basic"))
            expect("p2_manual" in by, "p2_manual missing")
            times = [x["time"] for x in v]
            expect(times == sorted(times, reverse=True), "not slowest first")
    return follow_run


def part2_graph(srv):
    with case("graph/dot: a text/plain Graphviz digraph with the chain's nodes and edges"):
        r = srv.get(S + "/graph/dot")
        expect(r.status == 200, "got %r" % r)
        expect((r.header("Content-Type") or "").startswith("text/plain"),
               "Content-Type %r" % r.header("Content-Type"))
        expect("digraph" in r.text, "no digraph: %r" % r.text[:100])
        missing = [n for n in ["t_a", "t_b", "t_c", "p2_dep"] if n not in r.text]
        expect(not missing, "missing %s" % missing)
        expect(r.text.count("->") >= 3, "%d edges" % r.text.count("->"))
    with case("graph/csv: node lines then link lines, no header"):
        r = srv.get(S + "/graph/csv")
        expect(r.status == 200, "got %r" % r)
        expect((r.header("Content-Type") or "").startswith("text/plain"),
               "Content-Type %r" % r.header("Content-Type"))
        lines = [x for x in r.text.splitlines() if x]
        bad = [x for x in lines if not (x.startswith("node,") or x.startswith("link,"))]
        expect(not bad, "other lines %r" % bad[:3])
        nodes = [x.split(",") for x in lines if x.startswith("node,")]
        links = [x for x in lines if x.startswith("link,")]
        expect(all(len(n) == 4 and n[2] in ("success", "failure", "fresh") and STATE_RE.match(n[3])
                   for n in nodes), "node lines %r" % nodes[:3])
        expect({n[1] for n in nodes} == {j["name"] for j in srv.jobs()}, "nodes differ from jobs")
        for link in ["link,t_a,t_b", "link,t_b,t_c", "link,p2_basic,p2_dep"]:
            expect(link in links, "no %s" % link)
        last_node = max(i for i, x in enumerate(lines) if x.startswith("node,"))
        first_link = min(i for i, x in enumerate(lines) if x.startswith("link,"))
        expect(last_node < first_link, "links before nodes")
        expect([x for x in nodes if x[1] == "p2_manual"][0][2] == "success", "p2_manual not success")


def second_sunday_march(y):
    d = datetime.date(y, 3, 1)
    first = d + datetime.timedelta(days=(6 - d.weekday()) % 7)
    return first + datetime.timedelta(days=7)


def first_sunday_november(y):
    d = datetime.date(y, 11, 1)
    return d + datetime.timedelta(days=(6 - d.weekday()) % 7)


def part2_next(srv):
    def nxt(name, q="count=3"):
        r = srv.get(S + "/job/%s/next?%s" % (name, q))
        expect(r.status == 200, "got %r" % r)
        return r.json()

    with case("next: R/2030-01-01T00:00:00Z/PT1H, count=3"):
        create(srv, {"name": "p2_next", "command": "true", "schedule": FUTURE})
        v = nxt("p2_next")
        expect(v.get("name") == "p2_next" and v.get("schedule") == FUTURE, "got %r" % v)
        expect("timezone" in v, "no timezone key")
        expect(v.get("next") == ["2030-01-01T00:00:00.000Z", "2030-01-01T01:00:00.000Z",
                                 "2030-01-01T02:00:00.000Z"], "next %r" % v.get("next"))
    with case("next: count defaults to 10"):
        v = nxt("p2_next", "")
        expect(len(v.get("next", [])) == 10 and v["next"][9] == "2030-01-01T09:00:00.000Z",
               "next %r" % v.get("next"))
    now = datetime.datetime.now(datetime.timezone.utc)
    # 02:30 on the 2nd Sunday of March does not exist in New York: shifted
    # by the gap to 03:30 EDT = 07:30Z.
    spring = [utc_ms(d.year, 3, d.day, 7, 30) for d in
              (second_sunday_march(y) for y in range(now.year, now.year + 5))]
    spring = [iso_ms(t) for t in spring if t > now.timestamp() * 1000][:3]
    with case("next: cron '30 2 * 3 0#2' in America/New_York (DST gap)"):
        create(srv, {"name": "p2_dst_spring", "command": "true", "schedule": "30 2 * 3 0#2",
                     "scheduleTimeZone": "America/New_York"})
        v = nxt("p2_dst_spring")
        expect(v.get("next") == spring, "next %r, want %r" % (v.get("next"), spring))
        expect(v.get("timezone") == "America/New_York", "timezone %r" % v.get("timezone"))
    # 01:30 on the 1st Sunday of November happens twice: the earlier, EDT = 05:30Z.
    fall = [utc_ms(d.year, 11, d.day, 5, 30) for d in
            (first_sunday_november(y) for y in range(now.year, now.year + 5))]
    fall = [iso_ms(t) for t in fall if t > now.timestamp() * 1000][:3]
    with case("next: cron '30 1 * 11 0#1' in America/New_York (DST overlap)"):
        create(srv, {"name": "p2_dst_fall", "command": "true", "schedule": "30 1 * 11 0#1",
                     "scheduleTimeZone": "America/New_York"})
        v = nxt("p2_dst_fall")
        expect(v.get("next") == fall, "next %r, want %r" % (v.get("next"), fall))
    with case("next: R/2030-03-09T02:30:00/P1D in America/New_York keeps 02:30 across DST"):
        create(srv, {"name": "p2_dst_iso", "command": "true",
                     "schedule": "R/2030-03-09T02:30:00/P1D", "scheduleTimeZone": "America/New_York"})
        v = nxt("p2_dst_iso")
        want = ["2030-03-09T07:30:00.000Z", "2030-03-10T07:30:00.000Z", "2030-03-11T06:30:00.000Z"]
        expect(v.get("next") == want, "next %r" % v.get("next"))
    with case("preview: POST preview?count=3 answers the instants and stores nothing"):
        r = srv.post(S + "/preview?count=3", {"name": "p2_preview", "command": "true",
                                              "schedule": "R/2030-01-01T00:00:00Z/P1D"})
        expect(r.status == 200, "got %r" % r)
        v = r.json()
        expect(v.get("next") == ["2030-01-01T00:00:00.000Z", "2030-01-02T00:00:00.000Z",
                                 "2030-01-03T00:00:00.000Z"], "next %r" % v.get("next"))
        expect(srv.get(S + "/job/p2_preview").status == 400, "the preview job was stored")


def part2_delete(srv):
    with case("names: a.b-c_d percent-encoded in paths (GET, PUT, DELETE)"):
        create(srv, {"name": "a.b-c_d", "command": "echo enc >> %s" % marker("enc"),
                     "schedule": FUTURE})
        r = srv.get(S + "/job/a%2Eb%2Dc%5Fd")
        expect(r.status == 200 and r.json().get("name") == "a.b-c_d", "GET %r" % r)
        expect_204(srv.request("PUT", S + "/job/a%2eb%2dc%5fd"), "PUT")
        wait_marker("enc", "enc")
        expect_204(srv.request("DELETE", S + "/job/%61.b-c_d"), "DELETE")
        expect(srv.get(S + "/job/a.b-c_d").status == 400, "still there")
    with case("delete: DELETE answers 204, empty body; then GET is 400 not found"):
        create(srv, {"name": "p2_del", "command": "true", "schedule": FUTURE})
        expect_204(srv.request("DELETE", S + "/job/p2_del"), "DELETE")
        r = srv.get(S + "/job/p2_del")
        expect(r.status == 400 and "not found" in r.text and "p2_del" in r.text, "GET %r" % r)
        expect("p2_del" not in [x["name"] for x in srv.jobs()], "still listed")
    with case("delete: via the 2.x alias /scheduler/job/{name}"):
        create(srv, {"name": "p2_del2", "command": "true", "schedule": FUTURE})
        expect_204(srv.request("DELETE", "/scheduler/job/p2_del2"), "DELETE")
        expect(srv.get(S + "/job/p2_del2").status == 400, "still there")
    with case("delete: a parent with children is refused with 400 naming them"):
        create(srv, {"name": "p2_par", "command": "true", "schedule": FUTURE})
        for k in ("p2_kid1", "p2_kid2"):
            create(srv, {"name": k, "command": "true", "parents": ["p2_par"]}, path=S + "/dependency")
        r = srv.request("DELETE", S + "/job/p2_par")
        expect(r.status == 400 and "p2_kid1" in r.text and "p2_kid2" in r.text, "got %r" % r)
        expect(srv.get(S + "/job/p2_par").status == 200, "deleted anyway")
    with case("delete: once its children are gone the parent can be deleted"):
        for k in ("p2_kid1", "p2_kid2", "p2_par"):
            expect_204(srv.request("DELETE", S + "/job/" + k), "DELETE " + k)
    with case("kill: task/kill of a job with nothing running answers 204"):
        expect_204(srv.request("DELETE", S + "/task/kill/p2_basic"), "DELETE task/kill")


def part2_clients(srv):
    """What chronos-python, the node mesos client and sync tools do (issue 16)."""
    job = {"name": "p2_conv", "command": "true", "schedule": "R/2031-01-01T00:00:00Z/PT1H",
           "retries": 1}
    with case("2.x: PUT /scheduler/iso8601 creates and updates (chronos-python's update)"):
        expect_204(srv.request("PUT", "/scheduler/iso8601", body=json.dumps(job).encode()), "PUT")
        job["retries"] = 3
        expect_204(srv.request("PUT", "/scheduler/iso8601", body=json.dumps(job).encode()), "PUT")
        expect(srv.job("p2_conv")["retries"] == 3, "not updated")
    with case("2.x: PUT /scheduler/dependency updates a dependent job"):
        kid = {"name": "p2_conv_kid", "command": "true", "parents": ["p2_conv"]}
        expect_204(srv.request("PUT", "/scheduler/dependency", body=json.dumps(kid).encode()), "PUT")
        expect(srv.job("p2_conv_kid")["parents"] == ["p2_conv"], "no parents")
    with case("2.x: PUT /scheduler/task/{id} {statusCode} answers 204, unknown ids too"):
        expect_204(srv.request("PUT", "/scheduler/task/ct:1:0:ghost",
                               body=b'{"statusCode":0}'), "task callback")
    with case("convergence: posting the stored definition again changes nothing"):
        before = srv.job("p2_conv")
        expect_204(srv.post(S + "/iso8601", job), "POST")
        after = srv.job("p2_conv")
        expect(before == after, "changed: %r -> %r" % (before, after))
    with case("convergence: a GET posted back with its counters is accepted, no Warning"):
        r = srv.post(S + "/iso8601?strict=true", srv.job("p2_conv"))
        expect_204(r, "POST")
        expect(r.header("Warning") is None, "Warning %r" % r.header("Warning"))
    with case("convergence: a job that ran, GET and posted back (v1 POST, 2.x PUT): a no-op"):
        expect_204(srv.post(S + "/iso8601", {"name": "p2_ran", "command": "true"}), "POST")
        expect(poll(lambda: any(x.get("state") == "finished"
                                for x in get_runs(srv, "job=p2_ran")), 15), "it never ran")
        before, runs = srv.job("p2_ran"), get_runs(srv, "job=p2_ran")
        expect(before["successCount"] == 1 and not PROGRESS & set(before), "GET %r" % before)
        r = srv.post(S + "/iso8601?strict=true", before)
        expect_204(r, "POST")
        expect(r.header("Warning") is None, "Warning %r" % r.header("Warning"))
        v2 = srv.get("/scheduler/job/p2_ran").json()
        expect(v2.get("async") is False, "2.x GET without async: %r" % v2)
        expect_204(srv.request("PUT", "/scheduler/iso8601", body=json.dumps(v2).encode()), "PUT")
        expect(srv.job("p2_ran") == before, "changed: %r -> %r" % (before, srv.job("p2_ran")))
        expect(get_runs(srv, "job=p2_ran") == runs, "a run was launched")
        srv.request("DELETE", S + "/job/p2_ran")
    with case("unknown field: 204 with a Warning naming it; ?strict=true: 400"):
        bad = dict(job, schedulee="R/2031-01-01T00:00:00Z/PT2H")
        r = srv.post(S + "/iso8601", bad)
        expect_204(r, "POST")
        expect("unknown field 'schedulee'" in (r.header("Warning") or ""), "Warning %r" %
               r.header("Warning"))
        r = srv.post(S + "/iso8601?strict=true", bad)
        expect(r.status == 400 and "schedulee" in r.text, "got %r" % r)
    srv.request("DELETE", S + "/job/p2_conv_kid")
    srv.request("DELETE", S + "/job/p2_conv")


def part2_metrics(srv):
    with case("metrics: /metrics is Prometheus text to Prometheus's Accept, a # TYPE per family"):
        r = srv.get("/metrics", headers=PROM_ACCEPT)
        expect(r.status == 200, "got %r" % r)
        ct = r.header("Content-Type") or ""
        expect(ct.startswith("text/plain") and "0.0.4" in ct, "Content-Type %r" % ct)
        types, samples = metric_families(r.text)
        expect(samples, "no samples")
        orphans = set()
        for s in samples:
            if s in types:
                continue
            base = re.sub(r"_(bucket|sum|count)$", "", s)
            if types.get(base) not in ("histogram", "summary"):
                orphans.add(s)
        expect(not orphans, "samples without # TYPE: %s" % sorted(orphans)[:5])
        for fam in ("chronos_jobs", "chronos_runs_started_total"):
            expect(fam in types, "no family %s (have %s)" % (fam, sorted(types)[:12]))
        expect(types["chronos_runs_started_total"] == "counter", "not a counter")
    with case("metrics: /metrics?format=json is JSON"):
        r = srv.get("/metrics?format=json")
        expect(r.status == 200, "got %r" % r)
        expect(isinstance(r.json(), dict), "not a JSON object")
    with case("metrics: /metrics with no Accept is Chronos's Dropwizard JSON (chronos-python)"):
        r = srv.get("/metrics")
        expect(r.status == 200, "got %r" % r)
        expect((r.header("Content-Type") or "").startswith("application/json"),
               "Content-Type %r" % r.header("Content-Type"))
        v = r.json()
        expect(all(k in v for k in ("gauges", "counters", "histograms", "meters", "timers")),
               "keys %r" % sorted(v))
    with case("metrics: per-job series in the Prometheus text"):
        t = srv.get("/metrics", headers=PROM_ACCEPT).text
        for fam in ("chronos_job_successes_total", "chronos_job_failures_total",
                    "chronos_job_last_duration_seconds", "chronos_metrics_jobs_omitted"):
            expect("# TYPE " + fam + " " in t, "no family " + fam)


def part2_cors(srv):
    """CORS is off unless --cors_origins names origins (issue 12)."""
    with case("cors: a preflight from another origin is 403 without CORS headers"):
        r = srv.request("OPTIONS", S + "/jobs", headers={
            "Origin": "http://example.com", "Access-Control-Request-Method": "POST"})
        expect(r.status == 403, "got %r" % r)
        expect(r.header("Access-Control-Allow-Origin") is None, "has the header")
        expect(r.header("Access-Control-Allow-Methods") is None, "allows methods")
    with case("cors: OPTIONS without an Origin answers 204 with Allow"):
        r = srv.request("OPTIONS", S + "/jobs")
        expect(r.status == 204 and "PUT" in (r.header("Allow") or ""), "got %r %r" % (
            r, r.header("Allow")))
    with case("cors: no Access-Control-Allow-Origin on any response (%d so far)" % len(CORS_SEEN)):
        bad = [(m, p, s) for (m, p, s, has) in CORS_SEEN if has]
        expect(not bad, "%d with it, e.g. %s" % (len(bad), bad[:4]))


def part2(srv):
    part2_basics(srv)
    part2_jobs(srv)
    part2_runs(srv)
    part2_graph(srv)
    part2_next(srv)
    part2_delete(srv)
    part2_clients(srv)
    part2_metrics(srv)
    part2_cors(srv)


# ---- auth and TLS ---------------------------------------------------------------------------

def part_auth():
    srv = Server("auth", ["--http_credentials", "user:secret", "--cors_origins",
                          "http://example.com"], creds="user:secret")
    with case("auth: a server with --http_credentials user:secret starts"):
        expect(srv.start(), "did not start: %s" % srv.log_tail())
    if not srv.alive():
        return
    try:
        with case("auth: /ping needs no credentials"):
            r = srv.get("/ping", auth=False)
            expect(r.status == 200, "got %r" % r)
        for method, path in [("GET", S + "/jobs"), ("GET", "/scheduler/jobs"), ("GET", "/metrics"),
                             ("GET", "/v1/runs"), ("GET", S + "/job/x"), ("PUT", S + "/job/x"),
                             ("DELETE", S + "/job/x"), ("GET", S + "/graph/csv"),
                             ("GET", S + "/leader")]:
            with case("auth: %s %s without credentials is 401 with WWW-Authenticate" % (method, path)):
                r = srv.request(method, path, auth=False)
                expect(r.status == 401, "got %r" % r)
                problems = check_error_body(r, (401,), [])
                expect(not problems, "; ".join(problems))
                wa = r.header("WWW-Authenticate") or ""
                expect(wa.startswith("Basic") and "realm=" in wa, "WWW-Authenticate %r" % wa)
        job = {"name": "auth_job", "command": "true", "schedule": FUTURE}
        for what, auth in [("no credentials", False), ("a wrong password", "user:wrong"),
                           ("a wrong user", "root:secret"), ("an empty password", "user:"),
                           ("a longer password", "user:secretx")]:
            with case("auth: POST iso8601 with %s is 401 and creates nothing" % what):
                r = srv.post(S + "/iso8601", job, auth=auth)
                expect(r.status == 401, "got %r" % r)
                expect("auth_job" not in [x["name"] for x in srv.jobs()], "the job was created")
        for what, value in [("malformed base64", "Basic !!!notbase64"),
                            ("a Bearer token", "Bearer dXNlcjpzZWNyZXQ="),
                            ("no colon", "Basic " + base64.b64encode(b"usersecret").decode())]:
            with case("auth: an Authorization header with %s is 401" % what):
                r = srv.request("GET", S + "/jobs", auth=False, headers={"Authorization": value})
                expect(r.status == 401, "got %r" % r)
        with case("auth: the right credentials: POST 204, GET job 200, /metrics 200"):
            expect_204(srv.post(S + "/iso8601", job), "POST")
            expect(srv.get(S + "/job/auth_job").status == 200, "GET job")
            expect(srv.get("/metrics").status == 200, "GET /metrics")
            expect(srv.get("/v1/runs").status == 200, "GET /v1/runs")
        with case("auth: a CORS preflight from a --cors_origins origin needs no credentials"):
            r = srv.request("OPTIONS", S + "/jobs", auth=False, headers={
                "Origin": "http://example.com", "Access-Control-Request-Method": "GET"})
            expect(r.status != 401 and r.status < 300, "got %r" % r)
            expect(r.header("Access-Control-Allow-Origin") == "http://example.com",
                   "Access-Control-Allow-Origin %r" % r.header("Access-Control-Allow-Origin"))
    finally:
        srv.stop()


def part_tls():
    cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
    with case("tls: openssl makes a self-signed certificate"):
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
                            "-keyout", key, "-out", cert], capture_output=True, timeout=60)
        expect(p.returncode == 0, p.stderr.decode(errors="replace")[-200:])
    if not os.path.exists(cert):
        return
    ctx = ssl.create_default_context(cafile=cert)
    srv = Server("tls", ["--ssl_cert", cert, "--ssl_key", key], tls=ctx)
    with case("tls: a server with --ssl_cert/--ssl_key answers GET /ping over HTTPS"):
        expect(srv.start(), "did not start or no HTTPS ping: %s" % srv.log_tail())
    if not srv.alive():
        return
    try:
        with case("tls: POST and GET a job over HTTPS"):
            expect_204(srv.post(S + "/iso8601", {"name": "tls_job", "command": "true",
                                                 "schedule": FUTURE}), "POST")
            expect(srv.job("tls_job")["name"] == "tls_job", "GET")
        with case("tls: plain HTTP on the TLS port gets no valid response"):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            try:
                conn.request("GET", "/ping")
                r = conn.getresponse()
                body = r.read()
                expect(r.status >= 400, "plain HTTP got %d %r" % (r.status, body[:60]))
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
    finally:
        srv.stop()


# ---- main ---------------------------------------------------------------------------------------

def main():
    signal.alarm(int(RUN_BUDGET) + 5)
    try:
        if not os.access(CHRONOS, os.X_OK):
            fail("chronos binary", "%s is not executable (set CHRONOS)" % CHRONOS)
            return
        # jobs/chronos3_full.json runs as nobody: a user the server must allow.
        srv = Server("main", ["--allowed_users", "nobody"])
        with case("server: chronos serve starts and answers GET /ping"):
            expect(srv.start(), "did not start: %s" % srv.log_tail())
        if not srv.alive():
            return
        srv = part1(srv)
        if srv.alive():
            try:
                part2(srv)
            except Budget:
                raise
            except Exception as e:  # noqa: BLE001
                fail("part 2", "%s: %s" % (type(e).__name__, e))
        with case("server: still alive after every request"):
            expect(srv.alive(), "exited with %r: %s" % (srv.proc.poll(), srv.log_tail()))
        srv.stop()
        with case("server: exits 0 on SIGTERM"):
            expect(srv.proc.returncode == 0, "exit status %r: %s" % (srv.proc.returncode,
                                                                   srv.log_tail()))
        part_auth()
        part_tls()
    except Budget as e:
        fail("time budget", e)
    finally:
        signal.alarm(0)
        cleanup()
        print("%d passed, %d failed" % (PASSED, FAILED), flush=True)


if __name__ == "__main__":
    main()
    sys.exit(1 if FAILED else 0)
