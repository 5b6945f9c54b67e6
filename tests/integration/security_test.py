#!/usr/bin/env python3
"""Security tests of `chronos serve` through the real binary (issue 12).

    CHRONOS=build/chronos python3 tests/integration/security_test.py

Each reproduction of the security probe, and what the fix promises:
  users     runAsUser only from --user/--allowed_users (root never unless
            named; a user that does not exist refused at POST), checked
            again at launch; a server that is not root runs tasks as itself
  browsers  JSON-only mutations (415), Host must name the server (421),
            Origin of another site refused (403), CORS off by default
  kill      a task that escapes with setsid, a double fork and setpgrp:
            after task/kill, maxCompletionTime or DELETE, nothing of it is
            left, with and without cgroups; mem stops a task that
            allocates past it, cpus is its CPU quota (where this host lets
            the server make cgroups; skipped with the reason where not)
  secrets   --http_credentials wiped from argv with a warning; the file
            variant refused when others may read it; the environment
            variable not inherited; the CLI's --user, CHRONOS_USER /
            CHRONOS_PASSWORD and ~/.netrc, never printed
  args      ?arguments= are argv (x;id runs nothing), repeatable; the
            CLI's run --args words each one argument
  hygiene   a raw NUL or control byte in the request line is a 400 and
            changes nothing; TLS 1.0/1.1 and non-forward-secret suites
            refused

Prints "ok   name" / "FAIL name: why" per case and last "N passed, N failed".
Servers bind 127.0.0.1 on ports picked here; every process started here
(servers, supervisors, tasks: found by the temp dir in their command line,
and their descendants) is killed by pid on exit, even on failure.  Nothing
waits a fixed time: conditions are polled with a deadline.
"""
import atexit
import base64
import hashlib
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

CHRONOS = os.path.realpath(os.environ.get("CHRONOS", "build/chronos"))
BUDGET = 400.0
T0 = time.monotonic()
TMP = tempfile.mkdtemp(prefix="chronos-sec.")
os.chmod(TMP, 0o755)  # tasks running as other users read the scripts here
S = "/v1/scheduler"
FUTURE = "R/2030-01-01T00:00:00Z/PT1H"
ME = pwd.getpwuid(os.geteuid()).pw_name
ROOT = os.geteuid() == 0
PASSED = FAILED = 0
PROCS = []


def ok(name):
    global PASSED
    PASSED += 1
    print("ok   " + name, flush=True)


def fail(name, why):
    global FAILED
    FAILED += 1
    print("FAIL %s: %s" % (name, str(why).replace("\n", "\\n")[:3000]), flush=True)


def skip(name, why):
    print("skip %s: %s" % (name, why), flush=True)


class Fail(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Fail(why)


class case:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            ok(self.name)
        elif issubclass(et, Fail):
            fail(self.name, ev)
        elif issubclass(et, Exception):
            fail(self.name, "%s: %s" % (et.__name__, ev))
        else:
            return False
        return True


def poll(fn, timeout, interval=0.05):
    deadline = time.monotonic() + min(timeout, max(0.0, BUDGET - (time.monotonic() - T0)))
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---- processes ------------------------------------------------------------------------------

def proc_table():
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                stat = f.read().decode("latin-1")
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("latin-1")
            table[int(d)] = (int(stat[stat.rindex(")") + 2:].split()[1]), cmd)
        except (OSError, ValueError, IndexError):
            continue
    return table


def with_marker(marker):
    """Pids of live processes whose command line holds marker."""
    return [p for p, (_, cmd) in proc_table().items() if marker in cmd and p != os.getpid()]


def kill_ours():
    table = proc_table()
    roots = {p for p, (_, cmd) in table.items() if TMP in cmd and p != os.getpid()}
    roots |= {p.pid for p in PROCS if p.poll() is None}
    children = {}
    for p, (pp, _) in table.items():
        children.setdefault(pp, []).append(p)
    victims, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in victims or p in (os.getpid(), 1):
            continue
        victims.add(p)
        todo.extend(children.get(p, []))
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def cleanup():
    kill_ours()
    for p in PROCS:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    kill_ours()
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- a server --------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:200].decode("utf-8", "replace"))


class Server:
    def __init__(self, name, args=(), env=None, user=None, tls=None, creds=None):
        self.name, self.args, self.env, self.user = name, list(args), env, user
        self.tls, self.creds = tls, creds
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "log")
        self.proc = None
        self.port = None

    def start(self, expect_up=True):
        self.port = free_port()
        cmd = [CHRONOS, "serve", "--http_port", str(self.port), "--data_dir",
               os.path.join(self.dir, "data")] + self.args
        if self.user is not None:  # as another user (the test runs as root)
            os.chown(self.dir, pwd.getpwnam(self.user).pw_uid, pwd.getpwnam(self.user).pw_gid)
            cmd = ["setpriv", "--reuid", self.user, "--regid", str(pwd.getpwnam(self.user).pw_gid),
                   "--clear-groups", "--"] + cmd
        env = dict(os.environ)
        env.update(self.env or {})
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        PROCS.append(self.proc)
        if not expect_up:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            return self.proc.poll() is not None
        up = poll(lambda: self.proc.poll() is not None or self.ping(), 20)
        return up and self.proc.poll() is None

    def ping(self):
        try:
            return self.request("GET", "/ping", auth=False).status == 200
        except (OSError, http.client.HTTPException):
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def text_log(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, headers=None, auth=None, timeout=10):
        hdrs = dict(headers or {})
        auth = self.creds if auth is None else auth
        if auth:
            hdrs["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        if self.tls is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.tls)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def post(self, job, **kw):
        return self.request("POST", S + ("/dependency" if "parents" in job else "/iso8601"),
                            job, **kw)

    def jobs_digest(self):
        r = self.request("GET", S + "/jobs")
        expect(r.status == 200, "GET jobs: %r" % r)
        return hashlib.sha256(r.body).hexdigest()

    def runs(self, job):
        r = self.request("GET", "/v1/runs?job=" + job)
        return r.json() if r.status == 200 else []

    def wait_run(self, job, states, timeout=20):
        found = poll(lambda: [x for x in self.runs(job) if x["state"] in states], timeout, 0.1)
        expect(found, "no run of %s in %s; runs: %s" % (
            job, states, [(x["id"], x["state"], x["reason"]) for x in self.runs(job)][:4]))
        return found[0]

    def stdout(self, run_id):
        r = self.request("GET", "/v1/runs/%s/stdout" % run_id)
        return r.body.decode("utf-8", "replace") if r.status == 200 else None


def raw(port, data):
    """One raw request; the answer's bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            c = s.recv(65536)
            if not c:
                return out
            out += c
    finally:
        s.close()


def status_of(answer):
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def script(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLS 1.0/1.1 on purpose
ARGS_SH = script("args.sh", "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n")


# ---- 1. who a task runs as ---------------------------------------------------------------------

def uid_of(name):
    return pwd.getpwnam(name).pw_uid


def part_users():
    if not ROOT:
        skip("users", "needs root (runs tasks as other users)")
        return
    out = os.path.join(TMP, "users")
    os.makedirs(out)
    os.chmod(out, 0o777)
    srv = Server("users", ["--user", "nobody"])
    with case("users: chronos serve --user nobody starts"):
        expect(srv.start(), srv.text_log()[-300:])
    pwned = os.path.join(out, "pwned")
    with case("users: POST runAsUser root (the probe) is 400 naming runAsUser; nothing runs"):
        before = srv.jobs_digest()
        r = srv.post({"name": "x", "command": "id > %s" % pwned, "runAsUser": "root"})
        expect(r.status == 400 and "runAsUser" in r.json()["message"], "got %r" % r)
        expect(srv.jobs_digest() == before, "the job list changed")
        r = srv.request("PUT", S + "/job/x")
        expect(r.status == 400, "PUT job/x: %r" % r)
        expect(not os.path.exists(pwned), "the command ran")
    with case("users: a runAsUser that is no user on this host is 400 at POST"):
        r = srv.post({"name": "ghost", "command": "true", "runAsUser": "no_such_user_xyz",
                      "schedule": FUTURE})
        expect(r.status == 400 and "not a user on this host" in r.json()["message"], "%r" % r)
    with case("users: a task run as nobody cannot read the store (jobs' environments)"):
        f = os.path.join(out, "store")
        store = os.path.join(srv.dir, "data", "store")
        expect(srv.post({"name": "peek", "command": "ls %s > %s 2>&1; echo rc=$? >> %s"
                         % (store, f, f)}).status == 204, "POST")
        expect(poll(lambda: os.path.exists(f) and "rc=" in open(f).read(), 15), "never ran")
        expect("rc=0" not in open(f).read(), "it listed the store: %s" % open(f).read())
    with case("users: a job without runAsUser runs as --user (nobody)"):
        f = os.path.join(out, "uid")
        expect(srv.post({"name": "who", "command": "id -u > %s" % f}).status == 204, "POST")
        expect(poll(lambda: os.path.exists(f) and open(f).read().strip(), 15), "never ran")
        expect(int(open(f).read()) == uid_of("nobody"), "ran as uid %s" % open(f).read())
    srv.stop()

    srv = Server("users2", ["--user", "nobody", "--allowed_users", "daemon"])
    with case("users: --allowed_users daemon lets a job run as daemon, still not as root"):
        expect(srv.start(), srv.text_log()[-300:])
        f = os.path.join(out, "daemon")
        r = srv.post({"name": "d", "command": "id -u > %s" % f, "runAsUser": "daemon"})
        expect(r.status == 204, "POST daemon: %r" % r)
        expect(poll(lambda: os.path.exists(f) and open(f).read().strip(), 15), "never ran")
        expect(int(open(f).read()) == uid_of("daemon"), "ran as uid %s" % open(f).read())
        r = srv.post({"name": "r", "command": "true", "runAsUser": "root", "schedule": FUTURE})
        expect(r.status == 400, "root: %r" % r)
        expect(srv.post({"name": "later", "command": "id -u > %s/later" % out,
                         "runAsUser": "daemon", "schedule": FUTURE}).status == 204, "POST later")
    srv.stop()
    with case("users: a stored job whose user is no longer allowed fails at launch, naming it"):
        srv.args = ["--user", "nobody"]
        expect(srv.start(), srv.text_log()[-300:])
        expect(srv.request("PUT", S + "/job/later").status == 204, "PUT later")
        run = srv.wait_run("later", {"failed"})
        expect("runAsUser" in run["reason"], "reason %r" % run["reason"])
        expect(not os.path.exists(os.path.join(out, "later")), "it ran")
    srv.stop()

    srv = Server("users3", ["--allowed_users", "root"], user="nobody")
    with case("users: a server run as nobody refuses --allowed_users root"):
        expect(srv.start(expect_up=False) and srv.proc.returncode != 0, "it started")
        expect("not root" in srv.text_log(), srv.text_log()[-300:])
    srv = Server("users4", [], user="nobody")
    with case("users: a server run as nobody runs tasks as nobody and refuses runAsUser root"):
        expect(srv.start(), srv.text_log()[-300:])
        r = srv.post({"name": "x", "command": "true", "runAsUser": "root", "schedule": FUTURE})
        expect(r.status == 400 and "not root" in r.json()["message"], "%r" % r)
        f = os.path.join(out, "self")
        expect(srv.post({"name": "me", "command": "id -u > %s" % f}).status == 204, "POST")
        expect(poll(lambda: os.path.exists(f) and open(f).read().strip(), 15), "never ran")
        expect(int(open(f).read()) == uid_of("nobody"), "ran as uid %s" % open(f).read())
    srv.stop()


# ---- 2. browsers ------------------------------------------------------------------------------

def refused(srv, name, method, path, status, body=None, headers=None):
    with case(name):
        before = srv.jobs_digest()
        r = srv.request(method, path, body, headers)
        expect(r.status == status, "want %d, got %r" % (status, r))
        msg = r.json().get("message", "")
        expect(msg, "no message")
        expect(r.header("Access-Control-Allow-Origin") is None, "a CORS header")
        expect(srv.jobs_digest() == before, "the job list changed")
        return msg


def part_browsers():
    srv = Server("web", ["--user", ME, "--allowed_hosts", "chronos.test"])
    with case("web: the server starts"):
        expect(srv.start(), srv.text_log()[-300:])
    job = json.dumps({"name": "web", "command": "true", "schedule": FUTURE})
    refused(srv, "web: a text/plain POST (a cross-site form or fetch) is 415", "POST",
            S + "/iso8601", 415, job, {"Content-Type": "text/plain;charset=UTF-8"})
    refused(srv, "web: a form-encoded POST is 415", "POST", S + "/iso8601", 415, job,
            {"Content-Type": "application/x-www-form-urlencoded"})
    refused(srv, "web: a POST body without a Content-Type is 415", "POST", S + "/iso8601", 415,
            job, {})
    with case("web: application/json; charset=utf-8 is a JSON body (204)"):
        r = srv.request("POST", S + "/iso8601", job,
                        {"Content-Type": "application/json; charset=utf-8"})
        expect(r.status == 204, "%r" % r)
    msg = refused(srv, "web: a Host naming another site (DNS rebinding) is 421, reads too", "GET",
                  S + "/jobs", 421, None, {"Host": "rebind.attacker.example:%d" % srv.port})
    with case("web: the 421 names the Host header"):
        expect("Host" in msg, msg)
    refused(srv, "web: a rebound Host cannot create a job", "POST", S + "/iso8601", 421,
            job.replace('"web"', '"web2"'),
            {"Host": "rebind.attacker.example", "Content-Type": "application/json"})
    for host in ["127.0.0.1:%d" % srv.port, "localhost:%d" % srv.port, "localhost", "[::1]:%d" %
                 srv.port, "127.0.0.1", "chronos.test:8443", "LOCALHOST."]:
        with case("web: Host %s is this server (200)" % host):
            r = srv.request("GET", S + "/jobs", headers={"Host": host})
            expect(r.status == 200, "%r" % r)
    refused(srv, "web: a body-less PUT (run) from another site's page is 403", "PUT",
            S + "/job/web", 403, None, {"Origin": "http://attacker.example"})
    refused(srv, "web: a body-less POST job/success from another site's page is 403", "POST",
            S + "/job/success/web", 403, None, {"Origin": "null"})
    refused(srv, "web: a DELETE from another site's page is 403", "DELETE", S + "/job/web", 403,
            None, {"Origin": "https://attacker.example"})
    refused(srv, "web: a notification test from another site's page is 403", "POST",
            "/v1/notify/test", 403, "{}",
            {"Origin": "https://attacker.example", "Content-Type": "application/json"})
    refused(srv, "web: a text/plain notification test (a cross-site form) is 415", "POST",
            "/v1/notify/test", 415, "{}", {"Content-Type": "text/plain"})
    with case("web: the server's own page may run a job (same Origin: 204)"):
        r = srv.request("PUT", S + "/job/web",
                        headers={"Origin": "http://127.0.0.1:%d" % srv.port})
        expect(r.status == 204, "%r" % r)
    with case("web: PUT and DELETE without body or Content-Type keep working"):
        expect(srv.request("PUT", S + "/job/web").status == 204, "PUT")
        expect(srv.request("DELETE", S + "/task/kill/web").status == 204, "kill")
        expect(srv.request("DELETE", S + "/job/web").status == 204, "DELETE")
    with case("web: no CORS by default: no Access-Control-Allow-Origin, preflights refused"):
        r = srv.request("GET", S + "/jobs", headers={"Origin": "http://attacker.example"})
        expect(r.status == 200 and r.header("Access-Control-Allow-Origin") is None, "%r" % r)
        r = srv.request("OPTIONS", S + "/jobs", headers={
            "Origin": "http://attacker.example", "Access-Control-Request-Method": "DELETE"})
        expect(r.status == 403 and r.header("Access-Control-Allow-Methods") is None, "%r" % r)
    srv.stop()

    srv = Server("cors", ["--user", ME, "--cors_origins", "https://ui.example"])
    with case("web: --cors_origins lets that origin (only) call the API"):
        expect(srv.start(), srv.text_log()[-300:])
        r = srv.request("OPTIONS", S + "/jobs", headers={
            "Origin": "https://ui.example", "Access-Control-Request-Method": "PUT"})
        expect(r.status == 204, "preflight %r" % r)
        expect(r.header("Access-Control-Allow-Origin") == "https://ui.example", "ACAO")
        expect("PUT" in (r.header("Access-Control-Allow-Methods") or ""), "methods")
        r = srv.post({"name": "c", "command": "true", "schedule": FUTURE},
                     headers={"Origin": "https://ui.example"})
        expect(r.status == 204 and r.header("Access-Control-Allow-Origin") == "https://ui.example",
               "POST %r %r" % (r, r.headers))
        r = srv.post({"name": "d", "command": "true", "schedule": FUTURE},
                     headers={"Origin": "https://other.example"})
        expect(r.status == 403, "other origin %r" % r)
    srv.stop()


# ---- 3. a kill reaches every process; resources ----------------------------------------------

ESCAPE_SH = script("escape.sh", """#!/bin/sh
# Leaves the task's process group and session three ways, then waits.
M=$1
setsid sleep 3021.$M &
( sleep 3022.$M & ) &
/usr/bin/python3 -c 'import os, time; os.setpgrp(); time.sleep(3023)' "chr-setpgrp-$M" &
sleep 3024.$M
""")


def escapees_up(marker):
    table = proc_table()
    return all(any(m in cmd for (_, cmd) in table.values())
               for m in ("3021." + marker, "3022." + marker, "chr-setpgrp-" + marker,
                         "3024." + marker))


def kill_case(srv, label, how):
    marker = "%d%d" % (os.getpid() % 1000, int(time.monotonic() * 1000) % 100000)
    name = "esc" + marker
    job = {"name": name, "command": "%s %s" % (ESCAPE_SH, marker), "schedule": FUTURE}
    if how == "timeout":
        job["maxCompletionTime"] = 3
    with case("kill%s: after %s, no process of a task that ran setsid, a double fork and "
              "setpgrp survives" % (label, how)):
        expect(srv.post(job).status == 204, "POST")
        expect(srv.request("PUT", S + "/job/" + name).status == 204, "PUT")
        expect(poll(lambda: escapees_up(marker), 20), "the escapees never started: %s" %
               [c for (_, c) in proc_table().values() if marker in c])
        if how == "task/kill":
            expect(srv.request("DELETE", S + "/task/kill/" + name).status == 204, "kill")
        if how == "DELETE job":
            expect(srv.request("DELETE", S + "/job/" + name).status == 204, "delete")
            gone = poll(lambda: not with_marker(marker), 30, 0.1)
            expect(gone, "left: %s" % [proc_table()[p][1] for p in with_marker(marker)
                                       if p in proc_table()])
            return
        run = srv.wait_run(name, {"killed", "failed", "finished", "lost"}, 30)
        left = with_marker(marker)  # the run ends only when they are gone: no wait here
        expect(not left, "run %s (%s) but left: %s" % (run["state"], run["reason"], left))
        want = "killed" if how == "task/kill" else "failed"
        expect(run["state"] == want, "state %s (%s)" % (run["state"], run["reason"]))


def v1_memory_writable():
    """True when this host mounts the v1 memory controller and lets us make a
    cgroup in our own place there: the unambiguous case in which chronos must
    enforce mem (on v2 it depends on delegation; the server says what it can)."""
    if not ROOT:
        return False
    try:
        mounts = open("/proc/self/mountinfo").read().splitlines()
        mine = open("/proc/self/cgroup").read().splitlines()
    except OSError:
        return False
    for line in mounts:
        post = line.split(" - ")[1].split() if " - " in line else []
        f = line.split()
        if not (post and post[0] == "cgroup" and "memory" in post[2].split(",")) or f[3] != "/":
            continue
        rel = [x.split(":", 2)[2] for x in mine if "memory" in x.split(":")[1].split(",")]
        probe = os.path.join(f[4] + (rel[0] if rel and rel[0] != "/" else ""),
                             "chronos-probe-t%d" % os.getpid())
        try:
            os.mkdir(probe)
            os.rmdir(probe)
            return True
        except OSError:
            return False
    return False


def enforced(srv):
    """What the server says a run's cgroup enforces here (its start-up line)."""
    for line in srv.text_log().splitlines():
        if "a run's own cgroup enforces:" in line:
            return line.split("enforces:", 1)[1].split(";")[0].strip()
    return ""


def cgroup_dirs(srv, run_id):
    try:
        with open(os.path.join(srv.dir, "data", "runs", run_id, "cgroup")) as f:
            return dict(line.split(" ", 1) for line in f.read().splitlines())
    except OSError:
        return {}


def part_resources(srv, says):
    hog = "/usr/bin/python3 -c 'b = bytearray(%d * 1024 * 1024); print(len(b))'"
    with case("cgroups: the server says at start what a run's cgroup enforces"):
        expect(says, "no start-up line: %s" % srv.text_log()[-300:])
        expect("mem (" in says or not v1_memory_writable(),
               "this host has a writable v1 memory controller, yet: %s" % says)
    if "mem (" not in says:
        skip("mem", "this host lets no memory cgroup be made (the server says: %s): mem is "
             "not enforced here" % says)
    else:
        with case("mem: a task allocating 256 MB with mem 64 is stopped: failed, 'exceeded mem'"):
            expect(srv.post({"name": "hog", "command": hog % 256, "mem": 64, "retries": 0,
                             "schedule": FUTURE}).status == 204, "POST")
            expect(srv.request("PUT", S + "/job/hog").status == 204, "PUT")
            run = srv.wait_run("hog", {"failed", "finished", "killed"}, 60)
            expect(run["state"] == "failed" and "exceeded mem" in run["reason"],
                   "%s: %s" % (run["state"], run["reason"]))
        with case("mem: the same task with mem 512 finishes (the limit is what stopped it)"):
            expect(srv.post({"name": "fits", "command": hog % 256, "mem": 512,
                             "schedule": FUTURE}).status == 204, "POST")
            expect(srv.request("PUT", S + "/job/fits").status == 204, "PUT")
            run = srv.wait_run("fits", {"failed", "finished", "killed"}, 60)
            expect(run["state"] == "finished", "%s: %s" % (run["state"], run["reason"]))
    with case("cpus: the run's cgroup holds cpus as its CPU quota, removed when it ends"):
        expect(srv.post({"name": "cpu", "command": "sleep 30", "cpus": 0.5,
                         "schedule": FUTURE}).status == 204, "POST")
        expect(srv.request("PUT", S + "/job/cpu").status == 204, "PUT")
        run = srv.wait_run("cpu", {"running"})
        dirs = poll(lambda: cgroup_dirs(srv, run["id"]), 10)
        expect(dirs or says == "none", "no cgroup, yet the server says: %s" % says)
        quota = None
        if "v2" in dirs and os.path.exists(dirs["v2"] + "/cpu.max"):
            quota = open(dirs["v2"] + "/cpu.max").read().split()
            quota = int(quota[0]) / int(quota[1])
        elif "cpu" in dirs:
            quota = int(open(dirs["cpu"] + "/cpu.cfs_quota_us").read()) / int(
                open(dirs["cpu"] + "/cpu.cfs_period_us").read())
        expect("cpus (" not in says or quota == 0.5, "quota %r in %s" % (quota, dirs))
        expect(srv.request("DELETE", S + "/task/kill/cpu").status == 204, "kill")
        srv.wait_run("cpu", {"killed"})
        left = [d for d in dirs.values() if os.path.exists(d)]
        expect(not left, "cgroups left: %s" % left)


def part_kill():
    srv = Server("kill", ["--user", ME])
    with case("kill: the server starts"):
        expect(srv.start(), srv.text_log()[-300:])
    says = enforced(srv)
    print("     this host: a run's cgroup enforces %s" % says, flush=True)
    for how in ("task/kill", "timeout", "DELETE job"):
        kill_case(srv, " (no cgroups here)" if says == "none" else "", how)
    part_resources(srv, says)
    srv.stop()
    srv = Server("nocg", ["--user", ME, "--cgroups", "off"])
    with case("kill --cgroups off: the server starts"):
        expect(srv.start(), srv.text_log()[-300:])
    for how in ("task/kill", "timeout"):
        kill_case(srv, " --cgroups off", how)
    srv.stop()


# ---- 4. secrets -------------------------------------------------------------------------------

def proc_bytes(pid, what):
    with open("/proc/%d/%s" % (pid, what), "rb") as f:
        return f.read()


def cli(args, env=None, home=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("CHRONOS_")}
    e["HOME"] = home or os.path.join(TMP, "nohome")
    e.update(env or {})
    p = subprocess.run([CHRONOS] + args, capture_output=True, env=e, timeout=30,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def part_secrets():
    secret = "s3cr3t-%d" % os.getpid()
    srv = Server("argv", ["--user", ME, "--http_credentials", "admin:" + secret],
                 creds="admin:" + secret)
    with case("secrets: --http_credentials on argv: hidden in /proc/PID/cmdline, with a warning"):
        expect(srv.start(), srv.text_log()[-300:])
        expect(secret.encode() not in proc_bytes(srv.proc.pid, "cmdline"), "still in cmdline")
        expect("--http_credentials was given on the command line" in srv.text_log(),
               "no warning: %s" % srv.text_log()[-300:])
        expect(srv.request("GET", S + "/jobs").status == 200, "auth with it")
        expect(srv.request("GET", S + "/jobs", auth=False).status == 401, "auth without")
        expect(srv.request("POST", "/v1/notify/test", "{}", auth=False).status == 401,
               "a notification test without credentials")
    url = "http://127.0.0.1:%d" % srv.port
    for what, args, env, home in [
            ("--user USER:PASSWORD", ["--user", "admin:" + secret], {}, None),
            ("CHRONOS_USER and CHRONOS_PASSWORD", [], {"CHRONOS_USER": "admin",
                                                       "CHRONOS_PASSWORD": secret}, None),
            ("--user USER with CHRONOS_PASSWORD", ["--user", "admin"],
             {"CHRONOS_PASSWORD": secret}, None),
            ("~/.netrc", [], {}, "netrc")]:
        with case("secrets: the CLI authenticates with %s" % what):
            if home:
                home = os.path.join(TMP, home)
                os.makedirs(home, exist_ok=True)
                with open(os.path.join(home, ".netrc"), "w") as f:
                    f.write("machine 127.0.0.1 login admin password %s\n" % secret)
                os.chmod(os.path.join(home, ".netrc"), 0o600)
            rc, out, err = cli(["list", "--server", url] + args, env, home)
            expect(rc == 0, "rc %d: %s" % (rc, err))
    with case("secrets: without credentials the CLI is refused (exit 1), and says so"):
        rc, out, err = cli(["list", "--server", url])
        expect(rc == 1 and "authentication" in err, "rc %d: %s" % (rc, err))
    with case("secrets: credentials in the URL work, and no message prints them"):
        rc, out, err = cli(["list", "--server", "http://admin:%s@127.0.0.1:%d" % (secret, srv.port)])
        expect(rc == 0, "rc %d: %s" % (rc, err))
        dead = free_port()
        rc, out, err = cli(["list", "--server", "http://admin:%s@127.0.0.1:%d" % (secret, dead)])
        expect(rc == 3 and secret not in err + out and "127.0.0.1:%d" % dead in err,
               "rc %d: %s" % (rc, err))
        rc, out, err = cli(["list", "--server", url, "--user", "admin:wrong-" + secret])
        expect(rc == 1 and secret not in err + out, "rc %d: %s" % (rc, err))
    srv.stop()

    path = os.path.join(TMP, "creds")
    with open(path, "w") as f:
        f.write("admin:%s\n" % secret)
    for key in ("http_credentials_file", "zk_auth_file"):
        os.chmod(path, 0o644)
        bad = Server("mode-" + key, ["--user", ME, "--" + key, path])
        with case("secrets: --%s readable by others (0644) is refused at start" % key):
            expect(bad.start(expect_up=False) and bad.proc.returncode != 0, "it started")
            expect("chmod 600" in bad.text_log() and secret not in bad.text_log(),
                   bad.text_log()[-300:])
    os.chmod(path, 0o600)
    srv = Server("file", ["--user", ME, "--http_credentials_file", path], creds="admin:" + secret)
    with case("secrets: --http_credentials_file (0600) works; nothing secret in argv"):
        expect(srv.start(), srv.text_log()[-300:])
        expect(srv.request("GET", S + "/jobs").status == 200, "auth")
        expect(srv.request("GET", S + "/jobs", auth=False).status == 401, "no auth")
        expect(secret.encode() not in proc_bytes(srv.proc.pid, "cmdline"), "in cmdline")
    srv.stop()

    srv = Server("env", ["--user", ME], env={"CHRONOS_HTTP_CREDENTIALS": "admin:" + secret},
                 creds="admin:" + secret)
    with case("secrets: CHRONOS_HTTP_CREDENTIALS works and leaves the environment at once"):
        expect(srv.start(), srv.text_log()[-300:])
        expect(srv.request("GET", S + "/jobs").status == 200, "auth")
        expect(secret.encode() not in proc_bytes(srv.proc.pid, "environ"), "in environ")
    with case("secrets: supervisors and tasks never inherit it"):
        out = os.path.join(TMP, "envdump")
        expect(srv.post({"name": "envy", "command": "env > %s; sleep 30" % out}).status == 204,
               "POST")
        run = srv.wait_run("envy", {"running"})
        claim = os.path.join(srv.dir, "data", "runs", run["id"], "claim")
        sup = int(open(claim).read().split()[0])
        expect(secret.encode() not in proc_bytes(sup, "environ"), "in the supervisor's environ")
        expect(poll(lambda: os.path.exists(out) and os.path.getsize(out) > 0, 10), "no env dump")
        expect(secret not in open(out).read(), "in the task's environment")
        srv.request("DELETE", S + "/task/kill/envy")
    srv.stop()


# ---- 5. arguments are argv ---------------------------------------------------------------------

def part_args():
    srv = Server("args", ["--user", ME])
    with case("args: the server starts"):
        expect(srv.start(), srv.text_log()[-300:])
    srv.post({"name": "argv", "command": ARGS_SH, "shell": False, "arguments": ["own"],
              "schedule": FUTURE})
    srv.post({"name": "sh", "command": ARGS_SH, "schedule": FUTURE})

    def last_out(job, n_runs):
        """The stdout of the newest run once n_runs have finished (runs come newest first)."""
        runs = poll(lambda: (lambda f: f if len(f) >= n_runs else None)(
            [x for x in srv.runs(job) if x["state"] == "finished"]), 20, 0.1)
        expect(runs, "run %d of %s never finished: %s" % (n_runs, job, srv.runs(job)[:2]))
        return srv.stdout(runs[0]["id"])

    with case("args: shell:false ?arguments=x%3Bid is one argv element, nothing else runs"):
        expect(srv.request("PUT", S + "/job/argv?arguments=x%3Bid").status == 204, "PUT")
        out = last_out("argv", 1)
        expect(out == "[x;id]\n", "stdout %r" % out)
    with case("args: ?arguments=a&arguments=b%20c are two argv elements, in order"):
        expect(srv.request("PUT", S + "/job/argv?arguments=a&arguments=b%20c").status == 204, "PUT")
        out = last_out("argv", 2)
        expect(out == "[a]\n[b c]\n", "stdout %r" % out)
    with case("args: without ?arguments= the job's own arguments"):
        expect(srv.request("PUT", S + "/job/argv").status == 204, "PUT")
        out = last_out("argv", 3)
        expect(out == "[own]\n", "stdout %r" % out)
    words = ["it's", "a b", "$(id)", ";id", "`id`", "x\"y"]
    with case("args: shell:true: CLI run --args passes each word as one argument, quoted"):
        rc, _, err = cli(["run", "sh", "--server", "http://127.0.0.1:%d" % srv.port,
                          "--args"] + words)
        expect(rc == 0, "rc %d: %s" % (rc, err))
        out = last_out("sh", 1)
        expect(out == "".join("[%s]\n" % w for w in words), "stdout %r" % out)
    with case("args: more than 256 ?arguments= is 400 naming arguments"):
        r = srv.request("PUT", S + "/job/argv?" + "&".join(["arguments=a"] * 257))
        expect(r.status == 400 and "arguments" in r.json()["message"], "%r" % r)
    srv.stop()


# ---- 6. HTTP hygiene ------------------------------------------------------------------------------

def part_request_line():
    srv = Server("line", ["--user", ME])
    with case("line: the server starts"):
        expect(srv.start(), srv.text_log()[-300:])
    for name in ("ch", "x"):
        srv.post({"name": name, "command": "true", "schedule": FUTURE})
    for what, line in [
            ("a raw NUL in the path (the probe: DELETE job/ch\\0/../x)",
             b"DELETE /v1/scheduler/job/ch\0/../x HTTP/1.1"),
            ("a raw NUL at the end of the path", b"DELETE /v1/scheduler/job/ch\0 HTTP/1.1"),
            ("a raw NUL in the query", b"PUT /v1/scheduler/job/ch?arguments=a\0b HTTP/1.1"),
            ("a control byte in the path", b"DELETE /v1/scheduler/job/ch\x01 HTTP/1.1"),
            ("a tab in the path", b"DELETE /v1/scheduler/job/c\th HTTP/1.1"),
            ("DEL in the query", b"DELETE /v1/scheduler/job/ch?a=\x7f HTTP/1.1"),
            ("a control byte in the method", b"DEL\x02ETE /v1/scheduler/job/ch HTTP/1.1")]:
        with case("line: %s is 400 and changes nothing" % what):
            before = srv.jobs_digest()
            answer = raw(srv.port, line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            expect(status_of(answer) == 400, "got %r" % answer[:80])
            expect(srv.jobs_digest() == before, "the jobs changed")
            expect(srv.request("GET", S + "/job/ch").status == 200, "job ch is gone")
    with case("line: HTTP/1.1 without a Host is 400; HTTP/1.0 without one is served"):
        answer = raw(srv.port, b"DELETE /v1/scheduler/job/ch HTTP/1.1\r\nConnection: close\r\n\r\n")
        expect(status_of(answer) == 400, "1.1: %r" % answer[:80])
        expect(srv.request("GET", S + "/job/ch").status == 200, "job ch is gone")
        answer = raw(srv.port, b"GET /ping HTTP/1.0\r\n\r\n")
        expect(status_of(answer) == 200, "1.0: %r" % answer[:80])
    with case("line: %00 in the path is still refused as a name (400)"):
        r = srv.request("DELETE", S + "/job/ch%00/../x")
        expect(r.status == 400, "%r" % r)
        expect(srv.request("GET", S + "/job/ch").status == 200, "job ch is gone")
    srv.stop()


def tls_ctx(cert, version=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert)
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    if ciphers is not None or version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    return ctx


def handshake(port, ctx):
    """The negotiated (version, cipher), or None when the handshake fails."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                return t.version(), t.cipher()[0]
    except (ssl.SSLError, OSError):
        return None


def part_tls():
    cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
                        "-keyout", key, "-out", cert], capture_output=True, timeout=60)
    if p.returncode != 0:
        fail("tls: openssl makes a certificate", p.stderr[-200:])
        return
    old = [("TLS 1.0", ssl.TLSVersion.TLSv1, None), ("TLS 1.1", ssl.TLSVersion.TLSv1_1, None),
           ("TLS 1.2 with RSA key exchange (no forward secrecy)", ssl.TLSVersion.TLSv1_2,
            "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA")]
    # A server that allows everything shows which of these this client can speak at all.
    lax = Server("tls-lax", ["--user", ME, "--ssl_cert", cert, "--ssl_key", key,
                             "--tls_priorities", "NORMAL:+VERS-TLS1.1:+VERS-TLS1.0:+RSA"],
                 tls=tls_ctx(cert))
    speaks = set()
    with case("tls: --tls_priorities overrides the default (a lax server starts)"):
        expect(lax.start(), lax.text_log()[-300:])
        speaks = {what for what, v, c in old if handshake(lax.port, tls_ctx(cert, v, c))}
    lax.stop()
    srv = Server("tls", ["--user", ME, "--ssl_cert", cert, "--ssl_key", key], tls=tls_ctx(cert))
    with case("tls: by default TLS 1.2 and 1.3 work, with forward-secret suites"):
        expect(srv.start(), srv.text_log()[-300:])
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            got = handshake(srv.port, tls_ctx(cert, v))
            expect(got is not None, "%s refused" % v)
            expect(got[0] == "TLSv1.3" or got[1].startswith("ECDHE"), "negotiated %s" % (got,))
        expect(srv.request("GET", "/ping").status == 200, "ping")
    for what, v, c in old:
        if what not in speaks:
            skip("tls: %s is refused" % what, "this client cannot speak it to any server here")
            continue
        with case("tls: %s is refused by default" % what):
            got = handshake(srv.port, tls_ctx(cert, v, c))
            expect(got is None, "negotiated %s" % (got,))
    srv.stop()


def main():
    signal.signal(signal.SIGALRM, lambda s, f: (_ for _ in ()).throw(SystemExit("budget")))
    signal.alarm(int(BUDGET) + 20)
    try:
        if not os.access(CHRONOS, os.X_OK):
            fail("chronos binary", "%s is not executable (set CHRONOS)" % CHRONOS)
            return
        for part in (part_users, part_browsers, part_request_line, part_args, part_secrets,
                     part_kill, part_tls):
            try:
                part()
            except Exception as e:  # noqa: BLE001 - a part that breaks is one failure
                fail(part.__name__, "%s: %s" % (type(e).__name__, e))
        with case("no sanitizer report in any server's log"):
            bad = []
            for d in sorted(os.listdir(TMP)):
                log = os.path.join(TMP, d, "log")
                if os.path.exists(log):
                    text = open(log, "rb").read().decode("utf-8", "replace")
                    # Reports, as test_packs.sh counts them (not LeakSanitizer's own
                    # "encountered a fatal error", a tool failure under load).
                    at = max(text.find("ERROR: AddressSanitizer"), text.find("runtime error:"),
                             text.find("ERROR: LeakSanitizer"))
                    if at >= 0:
                        bad.append("%s: %s" % (d, text[max(0, at - 200):at + 1500]))
            expect(not bad, "reports in: %s" % bad)
    finally:
        signal.alarm(0)
        cleanup()
        print("%d passed, %d failed" % (PASSED, FAILED), flush=True)


if __name__ == "__main__":
    main()
    sys.exit(1 if FAILED else 0)
