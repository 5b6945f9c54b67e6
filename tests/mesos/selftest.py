"""selftest.py - drives a running master double (tests/mesos/double.py) and
checks what it answers: a valid flow records no violation, each class of
violation in README.md's table is recorded, faults behave.  Expects the double
to run with --agents 2 --heartbeat 1 --update-retry 1; leaves one task
(t-long, sleep 300) running for the caller's shutdown check.

    /usr/bin/python3 tests/mesos/selftest.py HOST PORT [teardown]

`teardown`: only subscribes and sends TEARDOWN (a violation by default).

Prints "ok NAME" / "FAIL NAME: why" lines, then "N passed, N failed".
It must never rely on timing tighter than a few seconds.
"""
import base64
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import Client, get_json  # noqa: E402

FI = {"user": "chronos-test", "name": "chronos", "failover_timeout": 604800.0, "checkpoint": True,
      "hostname": "127.0.0.1"}


class T:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.c = Client(host, port)
        self.cursor = 0
        self.passed = self.failed = 0
        self.offers = []

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   " + name)
        else:
            self.failed += 1
            print("FAIL %s%s" % (name, (": " + str(detail)[:600]) if detail else ""))
        sys.stdout.flush()
        return cond

    def new_violations(self):
        vs = self.c.control("GET", "violations?since=%d" % self.cursor)
        if vs:
            self.cursor = max(v["seq"] for v in vs)
        return vs

    def expect(self, name, got, want_status, kind, text=None):
        """A call answered want_status that recorded a violation of `kind`."""
        status, _, body = got
        vs = self.new_violations()
        kinds = [v["kind"] for v in vs]
        ok = status == want_status and kind in kinds and (text is None or text in body
                                                          or any(text in v["message"] for v in vs))
        self.check(name, ok, "status %d body %r violations %s" % (status, body, [(v["kind"], v["message"])
                                                                              for v in vs]))

    def clean(self, name):
        vs = self.new_violations()
        self.check(name, not vs, [(v["kind"], v["message"]) for v in vs])

    def call(self, body, **kw):
        return self.c.call(body, **kw)

    def fw(self):
        return {"value": self.c.fw_id}

    def offer(self, timeout=5.0, agent=None, cpus=1.0):
        """An offer with at least `cpus` from the stream (an agent may have
        several offers out, one of them just a finished task's resources)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ev = self.c.stream.next({"OFFERS"}, timeout=deadline - time.time())
            if ev is None:
                break
            for o in ev["offers"]["offers"]:
                have = sum(r["scalar"]["value"] for r in o["resources"] if r["name"] == "cpus")
                if (agent is None or o["agent_id"]["value"] == agent) and have >= cpus:
                    return o
        return None

    def revive(self):
        """Declines every outstanding offer (the double's list: the test's
        queue may have skipped some), then REVIVE: fresh offers follow."""
        out = [o["id"] for o in self.c.control("GET", "offers") if o["status"] == "outstanding"]
        if out:
            self.call({"type": "DECLINE", "framework_id": self.fw(),
                       "decline": {"offer_ids": [{"value": o} for o in out], "filters": {"refuse_seconds": 0}}})
        return self.call({"type": "REVIVE", "framework_id": self.fw()})

    def accept(self, offer_ids, tasks, refuse=None):
        acc = {"offer_ids": [{"value": o} for o in offer_ids],
               "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}] if tasks else []}
        if refuse is not None:
            acc["filters"] = {"refuse_seconds": refuse}
        return self.call({"type": "ACCEPT", "framework_id": self.fw(), "accept": acc})

    def update(self, tid, pred=None, timeout=6.0):
        return self.c.stream.next({"UPDATE"}, timeout=timeout,
                                  pred=lambda e: e["update"]["status"]["task_id"]["value"] == tid
                                  and (pred is None or pred(e["update"]["status"])))


def task(offer, tid, cmd, cpus=0.1, mem=32.0, shell=True):
    return {"name": tid, "task_id": {"value": tid}, "agent_id": offer["agent_id"],
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}, "role": "*"},
                          {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}, "role": "*"}],
            "command": {"value": cmd, "shell": shell,
                        "environment": {"variables": [{"name": "GREETING", "value": "hi"}]}}}


def before_subscribe(t):
    t.expect("a call before any SUBSCRIBE: 400 Framework cannot be found",
             t.call({"type": "REVIVE", "framework_id": {"value": "nope"}}, stream_id="x"), 400, "not_subscribed",
             "Framework cannot be found")
    body = {"type": "SUBSCRIBE", "framework_id": {"value": "other"}, "subscribe": {"framework_info": FI}}
    t.expect("SUBSCRIBE whose framework_id differs from framework_info.id: 400",
             t.call(body, stream_id=False, headers={"Accept": "application/json"}), 400, "call",
             "'framework_id' differs from 'subscribe.framework_info.id'")
    body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": FI}}
    t.expect("SUBSCRIBE with a Mesos-Stream-Id header: 400",
             t.call(body, stream_id="abc", headers={"Accept": "application/json"}), 400, "stream_id")
    no_user = dict(FI)
    del no_user["user"]
    t.expect("SUBSCRIBE without framework_info.user: 400 Missing required fields",
             t.call({"type": "SUBSCRIBE", "subscribe": {"framework_info": no_user}}, stream_id=False),
             400, "schema", "Missing required fields: subscribe.framework_info.user")
    t.expect("Content-Type with a charset: 415",
             t.call(body, stream_id=False, headers={"Content-Type": "application/json; charset=utf-8"}),
             415, "content_type")
    t.expect("GET /api/v1/scheduler: 405", t.call(body, method="GET", stream_id=False), 405, "method")
    t.expect("SUBSCRIBE with Accept: application/x-protobuf only: 406",
             t.call(body, stream_id=False, headers={"Accept": "application/x-protobuf"}), 406, "accept")
    bad = dict(FI, roles=["a"])
    s = t.c.subscribe(bad)
    s.closed.wait(5)
    first = s.seen[0] if s.seen else None
    vs = t.new_violations()
    t.check("roles without MULTI_ROLE: 200, an ERROR event, the stream closes",
            s.status == 200 and first and first["type"] == "ERROR" and "MULTI_ROLE" in first["error"]["message"]
            and s.closed.is_set() and [v for v in vs if v["kind"] == "framework_info"], (s.status, s.seen, vs))
    s.close()


def subscribe(t):
    s = t.c.subscribe(FI)
    t.c.stream = s
    ev = s.next(timeout=5)
    ok = s.status == 200 and s.id and ev and ev["type"] == "SUBSCRIBED"
    t.check("SUBSCRIBE: 200, Mesos-Stream-Id, first event SUBSCRIBED", ok, (s.status, s.id, ev))
    if not ok:
        return False
    t.c.fw_id = ev["subscribed"]["framework_id"]["value"]
    t.check("SUBSCRIBED carries heartbeat_interval_seconds 1 and master_info",
            ev["subscribed"].get("heartbeat_interval_seconds") == 1
            and ev["subscribed"]["master_info"]["port"] == t.port, ev)
    t.check("SUBSCRIBE is chunked", s.headers.get("Transfer-Encoding") == "chunked", dict(s.headers))
    hb = s.next({"HEARTBEAT"}, timeout=3)
    t.check("a HEARTBEAT comes within 3 s", hb is not None)
    return True


def valid_flow(t):
    t.check("implicit RECONCILE: 202", t.call({"type": "RECONCILE", "framework_id": t.fw(),
                                                "reconcile": {"tasks": []}})[0] == 202)
    o = t.offer()
    if not t.check("an OFFERS event comes", o is not None):
        return None
    ports = [r for r in o["resources"] if r["name"] == "ports"]
    t.check("offers carry url, hostname and ports as JSON numbers",
            o["url"]["address"]["port"] > 0 and o["hostname"] and ports
            and isinstance(ports[0]["ranges"]["range"][0]["begin"], int), o)
    st = t.accept([o["id"]["value"]], [task(o, "t-echo", 'printf "%s\\n" "$GREETING"; sleep 2'),
                                       task(o, "t-fail", "exit 3")])
    t.check("ACCEPT with LAUNCH of two tasks: 202", st[0] == 202, st)
    acked = []
    states = {}
    deadline = time.time() + 10
    rec_sent = False
    rec = None
    while time.time() < deadline and (states.get("t-echo") != "TASK_FINISHED"
                                      or states.get("t-fail") != "TASK_FAILED"):
        ev = t.c.stream.next({"UPDATE"}, timeout=1)
        if ev is None:
            continue
        s = ev["update"]["status"]
        tid = s["task_id"]["value"]
        if "uuid" not in s:
            if s.get("reason") == "REASON_RECONCILIATION":
                rec = s
            continue
        if len(base64.b64decode(s["uuid"])) != 16 or s.get("source") != "SOURCE_EXECUTOR":
            t.check("agent updates carry a 16-byte uuid and SOURCE_EXECUTOR", False, s)
        states[tid] = s["state"]
        if tid == "t-fail" and s["state"] == "TASK_FAILED":
            t.check("exit 3: TASK_FAILED 'Command exited with status 3'",
                    s.get("message") == "Command exited with status 3", s)
        t.check("ACKNOWLEDGE %s %s: 202" % (tid, s["state"]), t.c.ack(s)[0] == 202)
        acked.append(s)
        if tid == "t-echo" and s["state"] == "TASK_RUNNING" and not rec_sent:
            rec_sent = True
            t.call({"type": "RECONCILE", "framework_id": t.fw(),
                    "reconcile": {"tasks": [{"task_id": {"value": "t-echo"}, "agent_id": o["agent_id"]}]}})
    t.check("t-echo went RUNNING then FINISHED, t-fail FAILED",
            states.get("t-echo") == "TASK_FINISHED" and states.get("t-fail") == "TASK_FAILED", states)
    t.check("explicit RECONCILE of a running task: its state, no uuid, SOURCE_MASTER",
            rec is not None and rec["state"] in ("TASK_RUNNING", "TASK_STARTING")
            and rec["source"] == "SOURCE_MASTER", rec)
    st, state = get_json(t.host, o["url"]["address"]["port"], "/state")
    dirs = [e["directory"] for f in state.get("frameworks", []) for e in f["executors"] + f["completed_executors"]
            if e["id"] == "t-echo"] if st == 200 else []
    t.check("agent /state names t-echo's sandbox", len(dirs) == 1, state)
    if dirs:
        port = o["url"]["address"]["port"]
        st, r = get_json(t.host, port, "/files/read?path=%s/stdout&offset=0" % dirs[0])
        t.check("/files/read of stdout: 'hi\\n' at offset 0", st == 200 and r == {"data": "hi\n", "offset": 0}, r)
        st, r = get_json(t.host, port, "/files/read?path=%s/stdout&offset=-1" % dirs[0])
        t.check("/files/read offset -1: the length, no data", st == 200 and r == {"data": "", "offset": 3}, r)
        st, r = get_json(t.host, port, "/files/read?path=/etc/passwd&offset=0")
        t.check("/files/read outside a sandbox: 404", st == 404, (st, r))
    rep = t.c.control("GET", "acks")
    t.check("every update was acknowledged", not rep["unacked"], rep["unacked"])
    t.clean("the valid flow recorded no violation")
    return acked


def violations(t, acked):
    fin = [s for s in acked if s["state"] == "TASK_FINISHED"]
    if fin:
        t.expect("ACKNOWLEDGE the same update twice", t.c.ack(fin[0]), 202, "ack_twice")
    unknown = dict(fin[0] if fin else {"agent_id": {"value": "a"}, "task_id": {"value": "t"}})
    unknown["uuid"] = base64.b64encode(os.urandom(16)).decode()
    t.expect("ACKNOWLEDGE an unknown uuid", t.c.ack(unknown), 202, "ack_unknown")
    short = dict(unknown, uuid=base64.b64encode(b"12345678").decode())
    t.expect("ACKNOWLEDGE with an 8-byte uuid: 400 Not a valid UUID", t.c.ack(short), 400, "call",
             "Not a valid UUID")
    rec = {"type": "RECONCILE", "framework_id": t.fw(), "reconcile": {"tasks": []}}
    t.expect("no Mesos-Stream-Id: 400", t.call(rec, stream_id=False), 400, "stream_id")
    t.expect("a wrong Mesos-Stream-Id: 400", t.call(rec, stream_id="0000"), 400, "stream_id",
             "didn't match the stream ID")
    t.expect("a camelCase key (frameworkId) is recorded; Mesos would ignore it (202)",
             t.call(dict(rec, frameworkId=t.fw())), 202, "schema", "camelCase")
    t.expect("an integer enum: 400", t.call(dict(rec, type=9)), 400, "schema", "must be a name string")
    t.expect("KILL without kill.task_id: 400 Missing required fields",
             t.call({"type": "KILL", "framework_id": t.fw(), "kill": {}}), 400, "schema",
             "Missing required fields: kill.task_id")
    t.expect("refuse_seconds above one year",
             t.call({"type": "DECLINE", "framework_id": t.fw(), "decline": {"offer_ids": [],
                                                                            "filters": {"refuse_seconds": 1e9}}}),
             202, "refuse_seconds")
    t.revive()
    o = t.offer()
    if not t.check("an offer after REVIVE", o is not None):
        return
    oid = o["id"]["value"]
    t.check("ACCEPT without operations: 202", t.accept([oid], [])[0] == 202)
    t.clean("ACCEPT without operations recorded no violation")
    t.expect("ACCEPT the same offer twice", t.accept([oid], [task(o, "t-twice", "true")]), 202, "offer_reused")
    u = t.update("t-twice")
    t.check("...and its task gets TASK_LOST REASON_INVALID_OFFERS, no uuid",
            u and u["update"]["status"]["state"] == "TASK_LOST"
            and u["update"]["status"]["reason"] == "REASON_INVALID_OFFERS" and "uuid" not in u["update"]["status"], u)
    t.revive()
    o = t.offer()
    if not t.check("another offer", o is not None):
        return
    t.expect("a task using more cpus than offered",
             t.accept([o["id"]["value"]], [task(o, "t-big", "true", cpus=1000)]), 202, "task_invalid",
             "more resources")
    u = t.update("t-big")
    t.check("...gets TASK_ERROR REASON_TASK_INVALID", u and u["update"]["status"]["state"] == "TASK_ERROR"
            and u["update"]["status"]["reason"] == "REASON_TASK_INVALID", u)
    t.revive()
    o = t.offer()
    if not t.check("an offer for the ports test", o is not None):
        return
    inside = task(o, "t-port", "true")
    inside["resources"].append({"name": "ports", "type": "RANGES", "role": "*",
                                "ranges": {"range": [{"begin": 31005, "end": 31006}]}})
    outside = task(o, "t-port-out", "true")
    outside["resources"].append({"name": "ports", "type": "RANGES", "role": "*",
                                 "ranges": {"range": [{"begin": 31006, "end": 31006}]}})
    t.expect("a port already used by a sibling task of the same ACCEPT",
             t.accept([o["id"]["value"]], [inside, outside]), 202, "task_invalid", "t-port-out")
    u = t.update("t-port-out")
    ok = t.update("t-port")
    t.check("...gets TASK_ERROR while the sibling with ports 31005-31006 runs",
            u and u["update"]["status"]["state"] == "TASK_ERROR" and ok
            and ok["update"]["status"]["state"] in ("TASK_STARTING", "TASK_RUNNING"), (u, ok))
    if ok:
        t.c.ack(ok["update"]["status"])
        run_to(t, "t-port", "TASK_FINISHED")
    t.revive()
    o = t.offer()
    if not t.check("a third offer", o is not None):
        return
    oid = o["id"]["value"]
    r = t.c.control("POST", "rescind", {"offer_id": oid})
    ev = t.c.stream.next({"RESCIND"}, timeout=3)
    t.check("the control API rescinds an offer: RESCIND event",
            r.get("rescinded") == [oid] and ev and ev["rescind"]["offer_id"]["value"] == oid, (r, ev))
    time.sleep(0.5)
    t.expect("ACCEPT after RESCIND", t.accept([oid], [task(o, "t-late", "true")]), 202, "offer_rescinded")
    u = t.update("t-late")
    t.check("...gets TASK_LOST", u and u["update"]["status"]["state"] == "TASK_LOST", u)
    st = t.call({"type": "RECONCILE", "framework_id": t.fw(),
                 "reconcile": {"tasks": [{"task_id": {"value": "never-launched"}}]}})
    u = t.update("never-launched")
    t.check("RECONCILE of an unknown task: TASK_LOST, REASON_RECONCILIATION",
            st[0] == 202 and u and u["update"]["status"]["state"] == "TASK_LOST"
            and u["update"]["status"]["reason"] == "REASON_RECONCILIATION", (st, u))
    t.clean("nothing else was recorded")


def redelivery(t):
    t.revive()
    o = t.offer()
    if not t.check("an offer for the redelivery test", o is not None):
        return
    t.c.control("POST", "delay_updates", {"seconds": 1.0})
    t0 = time.time()
    t.accept([o["id"]["value"]], [task(o, "t-slow", "sleep 60")])
    first = t.update("t-slow")
    took = time.time() - t0
    t.c.control("POST", "delay_updates", {"seconds": 0})
    t.check("delay_updates 1 s: the first update comes after about 1 s", first and 0.9 <= took < 4, took)
    again = t.update("t-slow", timeout=4)
    s1 = first and first["update"]["status"]
    s2 = again and again["update"]["status"]
    t.check("an unacknowledged update is redelivered with the same uuid, the next one waits",
            s1 and s2 and s1["uuid"] == s2["uuid"] and s1["state"] == s2["state"], (s1, s2))
    if not (s1 and s2):
        return
    t.c.ack(s1)
    t.c.ack(s2)
    t.clean("acknowledging each delivery once is no violation")
    run = t.update("t-slow", pred=lambda s: s["uuid"] != s1["uuid"])
    t.check("then TASK_RUNNING", run and run["update"]["status"]["state"] == "TASK_RUNNING", run)
    if run:
        t.c.ack(run["update"]["status"])
    t.call({"type": "KILL", "framework_id": t.fw(), "kill": {"task_id": {"value": "t-slow"}}})
    k = t.update("t-slow", pred=lambda s: s["state"] == "TASK_KILLED")
    t.check("KILL: TASK_KILLED", k is not None, k)
    if k:
        t.c.ack(k["update"]["status"])
    t.clean("the redelivery test recorded no violation")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def run_to(t, tid, state):
    """Acknowledges tid's updates until one in `state`; returns it."""
    deadline = time.time() + 8
    while time.time() < deadline:
        u = t.update(tid, timeout=deadline - time.time())
        if u is None:
            return None
        st = u["update"]["status"]
        if "uuid" in st:
            t.c.ack(st)
        if st["state"] == state:
            return st
    return None


def more(t):
    t.revive()
    o = t.offer()
    if not t.check("an offer for more tasks", o is not None):
        return
    argv = task(o, "t-argv", "/bin/echo", shell=False)
    argv["command"]["arguments"] = ["echo", "a", "$GREETING"]
    stubborn = task(o, "t-stubborn", "trap '' TERM; sleep 60")
    stubborn["kill_policy"] = {"grace_period": {"nanoseconds": 500000000}}
    t.c.control("POST", "duplicate_updates", {"count": 1})
    t.accept([o["id"]["value"]], [argv, stubborn, task(o, "t-lost", "sleep 60")])
    # This accept's own updates: an answer to an earlier reconciliation (no
    # uuid) may still be on its way on a loaded machine.
    ours = {"t-argv", "t-stubborn", "t-lost"}
    mine = lambda ev: (ev["update"]["status"]["task_id"]["value"] in ours
                       and "uuid" in ev["update"]["status"])
    first = t.c.stream.next({"UPDATE"}, timeout=5, pred=mine)
    dup = t.c.stream.next({"UPDATE"}, timeout=5, pred=mine)
    t.check("duplicate_updates: the next update comes twice with one uuid",
            first and dup and first["update"]["status"]["uuid"] == dup["update"]["status"]["uuid"], (first, dup))
    if first and dup:
        t.c.ack(first["update"]["status"])
        t.c.ack(dup["update"]["status"])
    t.clean("acknowledging both copies is no violation")
    fin = run_to(t, "t-argv", "TASK_FINISHED")
    tasks = {x["task_id"]: x for x in t.c.control("GET", "tasks")}
    out = ""
    if "t-argv" in tasks:
        with open(os.path.join(tasks["t-argv"]["sandbox"], "stdout")) as f:
            out = f.read()
    t.check("shell false: value is the executable, arguments the argv (no shell expansion)",
            fin is not None and out == "a $GREETING\n", (fin, out))
    run_to(t, "t-stubborn", "TASK_RUNNING")
    t0 = time.time()
    t.call({"type": "KILL", "framework_id": t.fw(), "kill": {"task_id": {"value": "t-stubborn"}}})
    k = run_to(t, "t-stubborn", "TASK_KILLED")
    took = time.time() - t0
    t.check("KILL of a task ignoring SIGTERM: SIGKILL after kill_policy's 0.5 s",
            k is not None and 0.4 <= took < 3, (k, took))
    run_to(t, "t-lost", "TASK_RUNNING")
    pid = tasks.get("t-lost", {}).get("pid")
    t.c.control("POST", "task_status", {"task_id": "t-lost", "state": "TASK_LOST", "reason": "REASON_AGENT_REMOVED"})
    u = t.update("t-lost")
    st = u and u["update"]["status"]
    time.sleep(0.3)
    gone = pid is not None and not alive(pid)
    t.check("task_status TASK_LOST: an UPDATE from the master without uuid, the process killed",
            st and st["state"] == "TASK_LOST" and st["source"] == "SOURCE_MASTER" and "uuid" not in st and gone,
            (st, pid))
    fi = dict(FI, id=t.fw(), user="someone-else")
    s = t.c.subscribe(fi, framework_id=t.c.fw_id)
    s.closed.wait(5)
    t.check("resubscribe changing FrameworkInfo.user: ERROR, that stream closes, the current one stays",
            s.seen and s.seen[0]["type"] == "ERROR" and "user" in s.seen[0]["error"]["message"]
            and not t.c.stream.closed.is_set(), s.seen)
    t.new_violations()
    t.c.control("POST", "restart", {"recovery_seconds": 1})
    t.c.stream.closed.wait(3)
    r = t.c.subscribe(dict(FI, id=t.fw()), framework_id=t.c.fw_id)
    t.check("restart: the stream drops and SUBSCRIBE gets 503 while recovering",
            t.c.stream.closed.is_set() and r.status == 503, r.status)
    time.sleep(1.2)
    s = t.c.subscribe(dict(FI, id=t.fw()), framework_id=t.c.fw_id)
    ev = s.next(timeout=5)
    t.check("after recovery the framework resubscribes with its id",
            ev and ev["type"] == "SUBSCRIBED" and ev["subscribed"]["framework_id"]["value"] == t.c.fw_id, ev)
    t.c.stream = s
    t.call({"type": "RECONCILE", "framework_id": t.fw(), "reconcile": {"tasks": []}})
    t.clean("the tasks and fault tests recorded no violation")


def faults(t):
    rec = {"type": "RECONCILE", "framework_id": t.fw(), "reconcile": {"tasks": []}}
    t.c.control("POST", "fail_next", {"count": 1})
    st = t.call(rec)
    t.check("fail_next: the next call gets 503, the one after 202", st[0] == 503 and t.call(rec)[0] == 202, st)
    t.c.control("POST", "leader", {"redirect": "127.0.0.1:1234"})
    st = t.call(rec)
    t.check("not the leader: 307 with a protocol-relative Location",
            st[0] == 307 and st[1].get("Location") == "//127.0.0.1:1234/api/v1/scheduler", (st[0], dict(st[1])))
    t.c.stream.closed.wait(3)
    t.check("losing leadership drops the stream", t.c.stream.closed.is_set())
    t.c.control("POST", "leader", {})
    fi_id = dict(FI, id=t.fw())
    old = t.c.subscribe(fi_id, framework_id=t.c.fw_id)
    ev = old.next(timeout=5)
    t.check("resubscribe with the framework id: SUBSCRIBED with the same id",
            ev and ev["type"] == "SUBSCRIBED" and ev["subscribed"]["framework_id"]["value"] == t.c.fw_id, ev)
    t.new_violations()
    t.c.stream = old
    t.expect("ACCEPT with LAUNCH before RECONCILE after SUBSCRIBED",
             t.accept(["no-such-offer"], [task({"agent_id": {"value": "double-S1"}}, "t-early", "true")]),
             202, "reconcile_first")
    new = t.c.subscribe(fi_id, framework_id=t.c.fw_id)
    ev = new.next(timeout=5)
    old.closed.wait(5)
    t.check("a second SUBSCRIBE: the old stream gets ERROR 'Framework failed over' and closes",
            ev and ev["type"] == "SUBSCRIBED" and old.closed.is_set()
            and any(e["type"] == "ERROR" and e["error"]["message"] == "Framework failed over" for e in old.seen),
            old.seen[-2:])
    t.expect("a call with the old stream id: 400", t.call(rec, stream_id=old.id), 400, "stream_id")
    t.c.stream = new
    t.c.control("POST", "freeze", {"on": True})
    time.sleep(0.3)
    while not new.events.empty():
        new.events.get()
    quiet = new.next(timeout=2.5)
    t.c.control("POST", "freeze", {"on": False})
    hb = new.next({"HEARTBEAT"}, timeout=3)
    t.check("freeze: nothing for 2.5 heartbeat intervals; unfreeze: heartbeats again",
            quiet is None and hb is not None, quiet)
    t.c.control("POST", "drop_stream")
    new.closed.wait(3)
    t.check("drop_stream closes the stream", new.closed.is_set())
    t.expect("a call after the stream dropped: 403", t.call(rec), 403, "not_subscribed",
             "Framework is not subscribed")
    s = t.c.subscribe(fi_id, framework_id=t.c.fw_id)
    t.c.stream = s
    s.next({"SUBSCRIBED"}, timeout=5)
    t.call(rec)
    t.revive()
    o = t.offer()
    if t.check("an offer after resubscribing", o is not None):
        t.accept([o["id"]["value"]], [task(o, "t-long", "sleep 300")])
        u = t.update("t-long")
        if u and u["update"]["status"]["state"] == "TASK_STARTING":
            t.c.ack(u["update"]["status"])
            u = t.update("t-long", pred=lambda s: s["state"] == "TASK_RUNNING")
        t.check("t-long runs (left running for the shutdown test)", u is not None, u)
    rep = t.c.control("GET", "report")
    t.check("the double recorded no error of its own", rep["double_errors"] == 0, t.c.control("GET", "errors"))


def teardown(t):
    s = t.c.subscribe(FI)
    t.c.stream = s
    ev = s.next({"SUBSCRIBED"}, timeout=5)
    t.c.fw_id = ev and ev["subscribed"]["framework_id"]["value"]
    t.call({"type": "RECONCILE", "framework_id": t.fw(), "reconcile": {"tasks": []}})
    t.expect("TEARDOWN is a violation unless the test allows it",
             t.call({"type": "TEARDOWN", "framework_id": t.fw()}), 202, "teardown")
    s.closed.wait(3)
    t.check("TEARDOWN closes the stream", s.closed.is_set())


def main():
    t = T(sys.argv[1], int(sys.argv[2]))
    if sys.argv[3:] == ["teardown"]:
        teardown(t)
        print("%d passed, %d failed" % (t.passed, t.failed))
        return 1 if t.failed else 0
    before_subscribe(t)
    if subscribe(t):
        t.new_violations()
        acked = valid_flow(t)
        violations(t, acked or [])
        redelivery(t)
        more(t)
        faults(t)
    print("%d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
