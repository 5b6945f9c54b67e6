#!/usr/bin/python3
"""double.py - a strict Apache Mesos master test double (v1 scheduler API).

Serves POST /api/v1/scheduler as a Mesos ~1.5 master does (status codes and
body texts of master/http.cpp, RecordIO event stream, heartbeats), with fake
agents whose tasks run as local processes in per-task sandboxes, each agent
with its own HTTP port (/state, /files/read).  Every call is validated
against the Debian protos (protojson.py) and the stricter rules listed in
tests/mesos/README.md ("Violations"); each breach is recorded as a violation with
the call and a sentence, and the call still gets the answer a real master
would give.  Every event the double emits is validated too: a bug in the
double is recorded as a double error and fails the final report.

A control API for tests lives on the same port under /double/ (see
tests/mesos/README.md).  Prints one JSON line with its ports on stdout once
ready; SIGTERM stops it, killing every task process it started.

It must never touch the network beyond its own ports (and ZooKeeper when
--zk is given), never fetch URIs, and never run as a real master would for
anything but tests.
"""
import argparse
import base64
import json
import os
import queue
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protojson  # noqa: E402
from resources import Res  # noqa: E402

TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE",
            "TASK_LOST", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"}
MAX_REFUSE = 31536000.0
MAX_BODY = 8 << 20
MAX_LOG = 50000
PAGE16 = os.sysconf("SC_PAGE_SIZE") * 16
VERSION = "1.5.0"
SUBMSG = {"SUBSCRIBE": "subscribe", "ACCEPT": "accept", "DECLINE": "decline",
          "ACCEPT_INVERSE_OFFERS": "accept_inverse_offers", "DECLINE_INVERSE_OFFERS": "decline_inverse_offers",
          "REVIVE": "revive", "SUPPRESS": "suppress", "KILL": "kill", "SHUTDOWN": "shutdown",
          "ACKNOWLEDGE": "acknowledge", "RECONCILE": "reconcile", "MESSAGE": "message", "REQUEST": "request"}
OPTIONAL_SUB = {"REVIVE", "SUPPRESS"}


def log(msg):
    sys.stderr.write("%s double: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def b64uuid():
    return base64.b64encode(uuidlib.uuid4().bytes).decode()


def ip_uint32(ip):
    """MasterInfo.ip: the IPv4 address in network byte order read as a host
    (little-endian) uint32, as Mesos writes it."""
    return int.from_bytes(socket.inet_aton(ip), "little")


class Reply:
    def __init__(self, status, body="", headers=None, stream=None):
        self.status, self.body, self.headers, self.stream = status, body, headers or {}, stream


# ---- The event stream --------------------------------------------------------

class Stream:
    CLOSE, DROP = object(), object()

    def __init__(self, double, fw_id):
        self.d = double
        self.id = str(uuidlib.uuid4())
        self.fw_id = fw_id
        self.q = queue.Queue()
        self.frozen = False
        self.dead = False
        self.sock = None

    def put(self, data):
        self.q.put(data)

    def close(self):
        self.q.put(Stream.CLOSE)

    def drop(self):
        self.dead = True
        self.q.put(Stream.DROP)
        try:
            if self.sock:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _peer_closed(self):
        try:
            r, _, _ = select.select([self.sock], [], [], 0)
            if r:
                return self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
        return False

    def serve(self, handler):
        """Runs in the SUBSCRIBE request's thread until the stream ends."""
        self.sock = handler.connection
        w = handler.wfile
        try:
            while True:
                try:
                    item = self.q.get(timeout=0.1)
                except queue.Empty:
                    if self.d.stopping.is_set() or self._peer_closed():
                        break
                    continue
                while self.frozen and not self.dead and item is not Stream.CLOSE:
                    time.sleep(0.05)
                if item is Stream.DROP or self.dead:
                    break
                if item is Stream.CLOSE:
                    w.write(b"0\r\n\r\n")
                    w.flush()
                    break
                for chunk in self.d.chunks(item):
                    w.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                w.flush()
        except OSError:
            pass
        finally:
            handler.close_connection = True
            self.dead = True
            self.d.stream_ended(self)


# ---- Agents and tasks ----------------------------------------------------------

class Agent:
    def __init__(self, spec, index):
        self.id = spec.get("id") or "double-S%d" % index
        self.hostname = spec.get("hostname", "127.0.0.1")
        res = []
        for name in ("cpus", "mem", "disk"):
            v = spec.get(name, {"cpus": 4, "mem": 4096, "disk": 10000}[name])
            if v:
                res.append({"name": name, "type": "SCALAR", "scalar": {"value": v}, "role": "*"})
        ports = spec.get("ports", [[31000, 31099]])
        if ports:
            res.append({"name": "ports", "type": "RANGES", "role": "*",
                        "ranges": {"range": [{"begin": b, "end": e} for b, e in ports]}})
        rsv = spec.get("reserved")
        if rsv:
            for name in ("cpus", "mem", "disk"):
                if rsv.get(name):
                    res.append({"name": name, "type": "SCALAR", "scalar": {"value": rsv[name]},
                                "role": rsv["role"]})
        self.total = Res.parse(res)
        self.attributes = spec.get("attributes", [])
        self.port = None
        self.server = None


class Task:
    def __init__(self, task_id, fw_id, agent, info, resources, role):
        self.id = task_id
        self.fw_id = fw_id
        self.agent = agent
        self.info = info
        self.resources = resources
        self.role = role
        self.state = "TASK_STAGING"
        self.container = str(uuidlib.uuid4())
        self.sandbox = None
        self.proc = None
        self.kill_requested = False
        self.outbox = []          # agent-side updates: the head is sent until acked
        self.head_sent = None     # when the head was last delivered
        self.history = []         # every status created for the task
        self.completed = False    # its terminal update was acknowledged
        self.forgotten = False
        self.launched_at = time.time()
        self.ended_at = None

    def live(self):
        return not self.completed and not self.forgotten


class Offer:
    def __init__(self, oid, agent, res, role):
        self.id, self.agent, self.res, self.role = oid, agent, res, role
        self.status = "outstanding"
        self.created = time.time()
        self.ended = None


# ---- The double ------------------------------------------------------------------

class Double:
    def __init__(self, args, schema):
        self.a = args
        self.s = schema
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.rng = random.Random(args.seed)
        self.master_id = args.master_id or str(uuidlib.uuid4())
        self.seq = 0
        self.violations, self.calls, self.events, self.double_errors = [], [], [], []
        self.ack_log = []
        # the framework
        self.fw_id = args.framework_id
        self.fw_info = None
        self.fw_removed = False
        self.stream = None
        self.reconciled = False
        self.suppressed = set()
        self.filters = {}
        self.next_hb = 0.0
        # offers, tasks, updates
        self.agents = [Agent(sp, i + 1) for i, sp in enumerate(args.agent_specs)]
        self.offers = {}
        self.offer_seq = 0
        self.next_alloc = 0.0
        self.tasks = {}
        self.uuids = {}
        # faults
        self.fail_next = []
        self.redirect = None
        self.no_leader = False
        self.recover_until = 0.0
        self.dup_next = 0
        self.delay = 0.0
        self.allow_teardown = args.allow_teardown
        # ZooKeeper
        self.zk = None
        self.zk_node = None
        self.zk_leader = True
        self.zk_dirty = threading.Event()
        self.port = None

    # ---- records ----

    def next_seq(self):
        self.seq += 1
        return self.seq

    def _append(self, lst, item):
        lst.append(item)
        if len(lst) > MAX_LOG:
            del lst[: len(lst) - MAX_LOG]

    def violate(self, kind, sentence, call=None):
        v = {"seq": self.next_seq(), "time": time.time(), "kind": kind, "message": sentence}
        if call is not None:
            v["call_seq"] = call["seq"]
            v["call_type"] = call.get("type")
            v["call"] = call.get("body")
        self._append(self.violations, v)
        log("VIOLATION [%s] %s" % (kind, sentence))

    def double_error(self, sentence):
        self._append(self.double_errors, {"time": time.time(), "message": sentence})
        log("DOUBLE ERROR (a bug in the double): " + sentence)

    def chunks(self, data):
        """The HTTP chunks one RecordIO record is written in: whole, or (with
        --chunking split) cut at random points so readers must buffer."""
        if self.a.chunking != "split" or len(data) < 3:
            return [data]
        cuts = sorted(self.rng.sample(range(1, len(data)), min(2, len(data) - 1)))
        return [data[i:j] for i, j in zip([0] + cuts, cuts + [len(data)])]

    # ---- events ----

    def emit(self, ev, stream=None):
        """Validates an event against mesos.scheduler.Event and queues it on
        the stream (the current one by default).  Returns False when it was
        not sent."""
        soft, hard, _, _ = self.s.check("mesos.scheduler.Event", ev)
        if soft or hard:
            self.double_error("invalid %s event: %s" % (ev.get("type"), "; ".join(soft + hard)))
            return False
        stream = stream or self.stream
        if stream is None or stream.dead:
            return False
        data = json.dumps(ev, separators=(",", ":")).encode()
        self._append(self.events, {"seq": self.next_seq(), "time": time.time(), "type": ev["type"],
                                   "stream_id": stream.id, "body": ev})
        stream.put(b"%d\n%s" % (len(data), data))
        return True

    def master_info(self):
        ip = self.a.host
        return {"id": self.master_id, "ip": ip_uint32(ip), "port": self.port,
                "pid": "master@%s:%d" % (ip, self.port), "hostname": self.a.hostname or ip,
                "version": VERSION,
                "address": {"hostname": self.a.hostname or ip, "ip": ip, "port": self.port}}

    # ---- the scheduler endpoint ----

    def handle_call(self, method, headers, body):
        with self.lock:
            call = {"seq": self.next_seq(), "time": time.time(), "type": None, "status": None,
                    "body": None, "stream_id": headers.get("Mesos-Stream-Id")}
            try:
                reply = self._call(method, headers, body, call)
            except Exception:  # a bug in the double, never the client's fault
                self.double_error("exception handling a call: " + traceback.format_exc())
                reply = Reply(500, "double error")
            call["status"] = reply.status
            self._append(self.calls, call)
            log("call %s -> %d%s" % (call["type"] or "?", reply.status,
                                     (" " + reply.body.strip()) if reply.body and reply.status >= 300 else ""))
            return reply

    def _call(self, method, headers, body, call):
        if self.fail_next:
            status, text = self.fail_next.pop(0)
            try:
                call["body"] = json.loads(body)
                call["type"] = call["body"].get("type")
            except (ValueError, AttributeError):
                pass
            return Reply(status, text)
        if time.time() < self.recover_until:
            return Reply(503, "Master has not finished recovery")
        if not self.leading():
            target = self.redirect_target()
            if target:
                return Reply(307, "", {"Location": "//%s/api/v1/scheduler" % target})
            return Reply(503, "No leader elected")
        if method != "POST":
            self.violate("method", "%s /api/v1/scheduler: only POST is allowed" % method, call)
            return Reply(405, "Expecting one of { 'POST' }, but received '%s'" % method, {"Allow": "POST"})
        ctype = headers.get("Content-Type")
        if ctype is None:
            self.violate("content_type", "no Content-Type header", call)
            return Reply(400, "Expecting 'Content-Type' to be present")
        if ctype == "application/x-protobuf":
            self.violate("content_type", "Content-Type application/x-protobuf: chronos sends JSON", call)
            return self._protobuf_call(body, headers, call)
        if ctype != "application/json":
            self.violate("content_type", "Content-Type '%s' is not exactly 'application/json'" % ctype, call)
            return Reply(415, "Expecting 'Content-Type' of application/json or application/x-protobuf")
        try:
            raw = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            call["body"] = body[:2000].decode("utf-8", "replace")
            self.violate("json", "body is not JSON: %s" % e, call)
            return Reply(400, "Failed to parse body into JSON: %s" % e)
        call["body"] = raw
        if isinstance(raw, dict) and isinstance(raw.get("type"), str):
            call["type"] = raw["type"]
        soft, hard, view, msg = self.s.check("mesos.scheduler.Call", raw)
        for sentence in soft:
            self.violate("schema", sentence, call)
        if hard:
            for sentence in hard:
                self.violate("schema", sentence, call)
            return Reply(400, "Failed to convert JSON into Call protobuf: " + hard[0])
        return self._validated(view, msg, headers, call)

    def _protobuf_call(self, body, headers, call):
        msg = self.s.new("mesos.scheduler.Call")
        try:
            msg.ParseFromString(body)
        except Exception as e:
            return Reply(400, "Failed to parse body into Call protobuf: %s" % e)
        if not msg.IsInitialized():
            return Reply(400, "Failed to parse body into Call protobuf: Missing required fields: "
                         + ", ".join(msg.FindInitializationErrors()))
        from google.protobuf import json_format
        view = json_format.MessageToDict(msg, preserving_proto_field_name=True)
        call["body"], call["type"] = view, view.get("type")
        return self._validated(view, msg, headers, call)

    def _validated(self, view, msg, headers, call):
        err = self._call_rules(view, msg, call)
        if err:
            self.violate("call", err, call)
            return Reply(400, "Failed to validate scheduler::Call: " + err)
        t = view["type"]
        if t == "SUBSCRIBE":
            return self._subscribe_http(view, headers, call)
        fid = view["framework_id"]["value"]
        if self.fw_id is None or fid != self.fw_id or self.fw_info is None:
            self.violate("not_subscribed", "%s for framework '%s', which never subscribed here" % (t, fid), call)
            return Reply(400, "Framework cannot be found")
        if self.stream is None:
            self.violate("not_subscribed", "%s while the framework is not subscribed" % t, call)
            return Reply(403, "Framework is not subscribed")
        sid = headers.get("Mesos-Stream-Id")
        if sid is None:
            self.violate("stream_id", "%s without a Mesos-Stream-Id header" % t, call)
            return Reply(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header")
        if sid != self.stream.id:
            self.violate("stream_id", "%s with Mesos-Stream-Id '%s', the current stream is '%s'"
                         % (t, sid, self.stream.id), call)
            return Reply(400, "The stream ID '%s' included in this request didn't match the stream ID "
                         "currently associated with framework ID %s" % (sid, fid))
        if t == "UNKNOWN":
            self.violate("call", "call of type UNKNOWN", call)
            return Reply(501, "")
        getattr(self, "_do_" + t.lower())(view, msg, call)
        return Reply(202, "")

    def _call_rules(self, view, msg, call):
        """scheduler::call::validate (validation.cpp), plus: no sub-message
        that does not belong to the type (Mesos ignores those)."""
        t = view.get("type")
        if t is None:
            return "Expecting 'type' to be present"
        for ty, sub in SUBMSG.items():
            if sub in view and ty != t:
                self.violate("call", "%s call carries '%s', which belongs to %s" % (t, sub, ty), call)
        if t == "SUBSCRIBE":
            if "subscribe" not in view:
                return "Expecting 'subscribe' to be present"
            if view["subscribe"]["framework_info"].get("id") != view.get("framework_id"):
                return "'framework_id' differs from 'subscribe.framework_info.id'"
            return None
        if "framework_id" not in view:
            return "Expecting 'framework_id' to be present"
        sub = SUBMSG.get(t)
        if sub and t not in OPTIONAL_SUB and sub not in view:
            return "Expecting '%s' to be present" % sub
        if t == "ACKNOWLEDGE" and len(msg.acknowledge.uuid) != 16:
            return "Not a valid UUID"
        return None

    # ---- SUBSCRIBE ----

    def _subscribe_http(self, view, headers, call):
        if "Mesos-Stream-Id" in headers:
            self.violate("stream_id", "SUBSCRIBE with a Mesos-Stream-Id header", call)
            return Reply(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
        accept = headers.get("Accept")
        if accept is None:
            self.violate("accept", "SUBSCRIBE without an Accept header (send Accept: application/json)", call)
        elif not any(p.split(";")[0].strip() in ("application/json", "application/*", "*/*")
                     for p in accept.split(",")):
            self.violate("accept", "SUBSCRIBE with Accept '%s', which does not allow application/json" % accept,
                         call)
            return Reply(406, "Expecting 'Accept' to allow application/json or application/x-protobuf")
        fi = view["subscribe"]["framework_info"]
        self._framework_policy(fi, call)
        err, fw_id = self._framework_errors(fi, call)
        stream = Stream(self, fw_id)
        if err:
            self.violate("framework_info", err, call)
            self.emit({"type": "ERROR", "error": {"message": err}}, stream)
            stream.close()
            return Reply(200, stream=stream, headers={"Mesos-Stream-Id": stream.id})
        old = self.stream
        if old is not None:
            self.emit({"type": "ERROR", "error": {"message": "Framework failed over"}}, old)
            old.close()
            self._lose_stream(old, "failed over")
        self.fw_id = fw_id
        self.fw_info = fi
        self.stream = stream
        self.reconciled = False
        self.suppressed = set(view["subscribe"].get("suppressed_roles", []))
        ev = {"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": fw_id},
                                                    "heartbeat_interval_seconds": float(self.a.heartbeat),
                                                    "master_info": self.master_info()}}
        self.emit(ev, stream)
        self.next_hb = time.time()
        self.next_alloc = min(self.next_alloc, time.time() + 0.2)
        log("framework %s subscribed, stream %s" % (fw_id, stream.id))
        return Reply(200, stream=stream, headers={"Mesos-Stream-Id": stream.id})

    def _framework_policy(self, fi, call):
        """The project's policy (README.md, framework_info): violations, the master
        itself accepts these."""
        if not fi.get("failover_timeout", 0) > 0:
            self.violate("framework_info", "FrameworkInfo.failover_timeout must be > 0 (got %s)"
                         % fi.get("failover_timeout"), call)
        if fi.get("checkpoint") is not True:
            self.violate("framework_info", "FrameworkInfo.checkpoint must be true", call)

    def _framework_errors(self, fi, call):
        """What the master answers with an ERROR event; returns (error, id)."""
        caps = {c.get("type") for c in fi.get("capabilities", [])}
        roles = fi.get("roles", [])
        if "MULTI_ROLE" in caps and "role" in fi:
            return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable", None
        if "MULTI_ROLE" not in caps and roles:
            return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable", None
        if len(set(roles)) != len(roles):
            return "'FrameworkInfo.roles' contains duplicate items", None
        for r in roles + ([fi["role"]] if "role" in fi else []):
            bad = role_error(r)
            if bad:
                return "Role '%s' is invalid: %s" % (r, bad), None
        given = (fi.get("id") or {}).get("value")
        if given is None:
            if self.fw_id is not None and not self.a.multi_framework:
                self.violate("framework_id", "SUBSCRIBE without framework id although framework %s exists: "
                             "chronos must reuse its framework id" % self.fw_id, call)
            return None, self._new_framework_id()
        if self.fw_removed and given == self.fw_id:
            return "Framework has been removed", None
        if self.fw_id is not None and given != self.fw_id:
            self.violate("framework_id", "resubscribed with framework id %s, the double knows %s"
                         % (given, self.fw_id), call)
            return "Framework %s is unknown to this master (it knows %s)" % (given, self.fw_id), None
        if self.fw_info is not None:
            for f in ("user", "checkpoint", "principal"):
                if self.fw_info.get(f) != fi.get(f):
                    return "Updating 'FrameworkInfo.%s' is unsupported" % f, None
        return None, given

    def _new_framework_id(self):
        self.fw_removed = False
        self.fw_info = None
        return "%s-%04d" % (self.master_id, self.rng.randrange(10000))

    def _lose_stream(self, stream, why):
        if self.stream is not stream:
            return
        self.stream = None
        for o in self.offers.values():
            if o.status == "outstanding":
                o.status, o.ended = "removed", time.time()
        log("stream %s ended (%s): framework disconnected" % (stream.id, why))

    def stream_ended(self, stream):
        with self.lock:
            self._lose_stream(stream, "connection closed")

    def fw_caps(self):
        return {c.get("type") for c in (self.fw_info or {}).get("capabilities", [])}

    def fw_roles(self):
        fi = self.fw_info or {}
        if "MULTI_ROLE" in self.fw_caps():
            return list(fi.get("roles", []))
        return [fi.get("role", "*")]

    def partition_aware(self):
        return "PARTITION_AWARE" in self.fw_caps()

    # ---- offers ----

    def _check_offer_ids(self, ids, call, verb):
        """Returns (offers, error): the valid offers among ids, and the reason
        the set is invalid (None when it is valid)."""
        good, err, seen = [], None, set()
        for oid in ids:
            o = self.offers.get(oid)
            if oid in seen:
                self.violate("offer_reused", "%s names offer %s twice" % (verb, oid), call)
                err = err or "Offer %s is duplicated" % oid
                continue
            seen.add(oid)
            if o is None:
                self.violate("offer_unknown", "%s of offer %s, which the double never made" % (verb, oid), call)
                err = err or "Offer %s is no longer valid" % oid
            elif o.status == "rescinded":
                if time.time() - o.ended > self.a.rescind_grace:
                    self.violate("offer_rescinded", "%s of offer %s after it was rescinded" % (verb, oid), call)
                else:
                    log("%s of offer %s within %.2fs of its RESCIND: a race, not counted"
                        % (verb, oid, self.a.rescind_grace))
                err = err or "Offer %s is no longer valid" % oid
            elif o.status in ("accepted", "declined"):
                self.violate("offer_reused", "%s of offer %s, which was already %s" % (verb, oid, o.status), call)
                err = err or "Offer %s is no longer valid" % oid
            elif o.status == "removed":
                self.violate("offer_stale", "%s of offer %s from an earlier subscription" % (verb, oid), call)
                err = err or "Offer %s is no longer valid" % oid
            else:
                good.append(o)
        if len({o.agent.id for o in good}) > 1:
            err = err or "Aggregated offers must belong to one single agent"
        return good, err

    def _filters(self, sub, call):
        refuse = (sub.get("filters") or {}).get("refuse_seconds", 5.0)
        if not 0 <= refuse <= MAX_REFUSE:
            self.violate("refuse_seconds", "filters.refuse_seconds %s is outside [0, %d]"
                         % (refuse, MAX_REFUSE), call)
            refuse = min(max(refuse, 0), MAX_REFUSE)
        return refuse

    def _filter(self, agent, res, refuse):
        if refuse > 0 and not res.empty():
            self.filters[agent.id] = (time.time() + refuse, res.with_alloc(None))

    def _do_decline(self, view, msg, call):
        d = view["decline"]
        refuse = self._filters(d, call)
        ids = [o["value"] for o in d.get("offer_ids", [])]
        if not ids:
            self.violate("offer_unknown", "DECLINE without offer ids", call)
        good, _ = self._check_offer_ids(ids, call, "DECLINE")
        for o in good:
            o.status, o.ended = "declined", time.time()
            self._filter(o.agent, o.res, refuse)

    def _do_accept(self, view, msg, call):
        acc = view["accept"]
        refuse = self._filters(acc, call)
        tasks = []
        for i, op in enumerate(acc.get("operations", [])):
            if op.get("type") != "LAUNCH" or "launch" not in op:
                self.violate("operation", "operations[%d] is %s: the double (and chronos) only use LAUNCH "
                             "with a 'launch' field" % (i, op.get("type")), call)
                continue
            tasks.extend(op["launch"].get("task_infos", []))
        if tasks and not self.reconciled:
            self.violate("reconcile_first", "ACCEPT with LAUNCH before any RECONCILE since SUBSCRIBED", call)
        ids = [o["value"] for o in acc.get("offer_ids", [])]
        if not ids:
            self.violate("offer_unknown", "ACCEPT without offer ids", call)
        good, err = self._check_offer_ids(ids, call, "ACCEPT")
        for o in good:
            o.status, o.ended = "accepted", time.time()
        if err or not ids:
            err = err or "No offers specified"
            for ti in tasks:
                state = "TASK_DROPPED" if self.partition_aware() else "TASK_LOST"
                self._master_update(ti["task_id"]["value"], ti.get("agent_id", {}).get("value"), state,
                                    "REASON_INVALID_OFFERS", "Task launched with invalid offers: " + err)
            return
        agent = good[0].agent
        role = good[0].role
        pool = Res()
        for o in good:
            pool = pool.add(o.res)
        seen = set()
        for ti in tasks:
            tid = ti["task_id"]["value"]
            res, terr = self._task_error(ti, agent, role, pool, seen)
            seen.add(tid)
            if terr:
                self.violate("task_invalid", "task %s: %s" % (tid, terr), call)
                self._master_update(tid, agent.id, "TASK_ERROR", "REASON_TASK_INVALID", terr)
                continue
            pool = pool.sub(res)
            self._launch(ti, agent, res, role)
        self._filter(agent, pool, refuse)

    def _task_error(self, ti, agent, role, pool, seen):
        """master/validation.cpp task checks: returns (resources, error)."""
        tid = ti["task_id"]["value"]
        bad = id_error(tid)
        if bad:
            return None, bad
        if tid in seen or (tid in self.tasks and self.tasks[tid].live()):
            return None, "Task has duplicate ID: %s" % tid
        if ti["agent_id"]["value"] != agent.id:
            return None, "Task uses invalid agent: %s" % ti["agent_id"]["value"]
        if ("command" in ti) == ("executor" in ti):
            return None, "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
        if "executor" in ti:
            return None, "custom executors are not supported by the double (chronos uses the command executor)"
        cmd = ti["command"]
        if not cmd.get("value") and not ti.get("container"):
            return None, "CommandInfo.value must be set (shell %s)" % cmd.get("shell", True)
        if cmd.get("shell", True) is False and cmd.get("arguments") and not cmd.get("value"):
            return None, "CommandInfo.shell is false but 'value' (the executable) is not set"
        gp = (ti.get("kill_policy") or {}).get("grace_period")
        if gp and gp["nanoseconds"] < 0:
            return None, "Task's 'kill_policy.grace_period' must be non-negative"
        if not ti.get("resources"):
            return None, "Task uses no resources"
        multi = "MULTI_ROLE" in self.fw_caps()
        if multi:
            for r in ti["resources"]:
                if (r.get("allocation_info") or {}).get("role") != role:
                    return None, ("resource '%s' has allocation_info %s, the offer is allocated to role '%s'"
                                  % (r["name"], r.get("allocation_info"), role))
        try:
            res = Res.parse(ti["resources"], alloc_role=None if multi else role, use_alloc_info=multi)
        except ValueError as e:
            return None, "Invalid resources: %s" % e
        if not pool.contains(res):
            return None, "Task uses more resources %s than available %s" % (res, pool)
        return res, None

    def allocate(self):
        """One allocation round: each agent's free resources, per role of the
        framework that is not suppressed, unless a filter covers them."""
        if self.stream is None or self.fw_info is None:
            return
        now = time.time()
        multi = "MULTI_ROLE" in self.fw_caps()
        for agent in self.agents:
            free = self.free(agent)
            for role in sorted(self.fw_roles()):
                if role in self.suppressed:
                    continue
                res = free.filter_roles({"*", role})
                if res.scalar("cpus") < 0.01 and res.scalar("mem") < 32:
                    continue
                f = self.filters.get(agent.id)
                if f and now < f[0] and f[1].contains(res):
                    continue
                self.offer_seq += 1
                o = Offer("%s-O%d" % (self.master_id, self.offer_seq), agent, res.with_alloc(role), role)
                self.offers[o.id] = o
                free = free.sub(res)
                offer = {"id": {"value": o.id}, "framework_id": {"value": self.fw_id},
                         "agent_id": {"value": agent.id}, "hostname": agent.hostname,
                         "url": {"scheme": "http", "address": {"hostname": agent.hostname, "ip": self.a.host,
                                                               "port": agent.port}, "path": "/slave(1)"},
                         "resources": o.res.to_list(with_alloc=multi)}
                if agent.attributes:
                    offer["attributes"] = agent.attributes
                if multi:
                    offer["allocation_info"] = {"role": role}
                self.emit({"type": "OFFERS", "offers": {"offers": [offer]}})

    def free(self, agent):
        free = agent.total
        for t in self.tasks.values():
            if t.agent is agent and t.state not in TERMINAL and not t.forgotten:
                free = free.sub(t.resources.with_alloc(None))
        for o in self.offers.values():
            if o.agent is agent and o.status == "outstanding":
                free = free.sub(o.res.with_alloc(None))
        return free

    def rescind(self, o):
        o.status, o.ended = "rescinded", time.time()
        self.emit({"type": "RESCIND", "rescind": {"offer_id": {"value": o.id}}})

    # ---- other calls ----

    def _do_revive(self, view, msg, call):
        roles = (view.get("revive") or {}).get("roles") or self.fw_roles()
        self.suppressed -= set(roles)
        self.filters.clear()
        self.next_alloc = min(self.next_alloc, time.time() + 0.05)

    def _do_suppress(self, view, msg, call):
        roles = (view.get("suppress") or {}).get("roles") or self.fw_roles()
        self.suppressed |= set(roles)

    def _do_teardown(self, view, msg, call):
        if not self.allow_teardown:
            self.violate("teardown", "TEARDOWN: chronos must never tear its framework down", call)
        for t in self.tasks.values():
            if t.live():
                self._kill_process(t, 0)
                t.completed = True
                if t.state not in TERMINAL:
                    t.state = "TASK_KILLED"
                t.outbox = []
        self.fw_removed = True
        self.fw_info = None
        stream = self.stream
        self._lose_stream(stream, "TEARDOWN")
        stream.close()

    def _do_kill(self, view, msg, call):
        k = view["kill"]
        tid = k["task_id"]["value"]
        t = self.tasks.get(tid)
        if t is None or not t.live() or t.fw_id != self.fw_id:
            state = "TASK_UNKNOWN" if self.partition_aware() else "TASK_LOST"
            self._master_update(tid, (k.get("agent_id") or {}).get("value"), state, "REASON_RECONCILIATION",
                                "Attempted to kill an unknown task")
            return
        if t.state in TERMINAL or t.kill_requested:
            return
        gp = (k.get("kill_policy") or t.info.get("kill_policy") or {}).get("grace_period")
        grace = gp["nanoseconds"] / 1e9 if gp else self.a.kill_grace
        t.kill_requested = True
        if "TASK_KILLING_STATE" in self.fw_caps():
            self._agent_update(t, "TASK_KILLING", None, None)
        self._kill_process(t, grace)

    def _do_acknowledge(self, view, msg, call):
        a = view["acknowledge"]
        u = a["uuid"]
        rec = self.uuids.get(u)
        tid, aid = a["task_id"]["value"], a["agent_id"]["value"]
        entry = {"time": time.time(), "uuid": u, "task_id": tid, "agent_id": aid, "ok": False}
        self._append(self.ack_log, entry)
        if rec is None:
            self.violate("ack_unknown", "ACKNOWLEDGE of uuid %s, which no update carried" % u, call)
            return
        if rec["task_id"] != tid or rec["agent_id"] != aid:
            self.violate("ack_mismatch", "ACKNOWLEDGE of uuid %s names task %s on %s, the update was for task %s "
                         "on %s" % (u, tid, aid, rec["task_id"], rec["agent_id"]), call)
        if rec["acks"] >= rec["deliveries"]:
            self.violate("ack_twice", "ACKNOWLEDGE of uuid %s (task %s, %s) again: %d deliveries, %d acks before"
                         % (u, tid, rec["state"], rec["deliveries"], rec["acks"]), call)
            return
        rec["acks"] += 1
        entry["ok"] = True
        t = self.tasks.get(rec["task_id"])
        if t and t.outbox and t.outbox[0]["status"]["uuid"] == u:
            t.outbox.pop(0)
            t.head_sent = None
            if rec["state"] in TERMINAL:
                t.completed = True
            self.pump_task(t, time.time())

    def _do_reconcile(self, view, msg, call):
        self.reconciled = True
        asked = view["reconcile"].get("tasks", [])
        if not asked:
            for t in self.tasks.values():
                if t.live() and t.fw_id == self.fw_id:
                    self._master_update(t.id, t.agent.id, t.state, "REASON_RECONCILIATION",
                                        "Reconciliation: Latest task state")
            return
        for rt in asked:
            tid = rt["task_id"]["value"]
            aid = (rt.get("agent_id") or {}).get("value")
            t = self.tasks.get(tid)
            if t and t.live() and t.fw_id == self.fw_id:
                self._master_update(tid, t.agent.id, t.state, "REASON_RECONCILIATION",
                                    "Reconciliation: Latest task state")
                continue
            known_agent = aid is not None and any(a.id == aid for a in self.agents)
            if not self.partition_aware():
                state = "TASK_LOST"
            else:
                state = "TASK_GONE" if known_agent else "TASK_UNKNOWN"
            self._master_update(tid, aid, state, "REASON_RECONCILIATION",
                                "Reconciliation: Task is unknown" + ("" if known_agent else " to the master"))

    def _do_shutdown(self, view, msg, call):
        self.violate("call", "SHUTDOWN: chronos uses no custom executors", call)

    def _do_message(self, view, msg, call):
        self.violate("call", "MESSAGE: chronos uses no custom executors", call)

    def _do_request(self, view, msg, call):
        pass

    def _do_accept_inverse_offers(self, view, msg, call):
        pass

    def _do_decline_inverse_offers(self, view, msg, call):
        pass

    # ---- status updates ----

    def _status(self, tid, aid, state, source, reason, message, with_uuid):
        st = {"task_id": {"value": tid}, "state": state, "source": source, "timestamp": time.time()}
        if aid:
            st["agent_id"] = {"value": aid}
        if source == "SOURCE_EXECUTOR":
            st["executor_id"] = {"value": tid}
        if reason:
            st["reason"] = reason
        if message:
            st["message"] = message
        if with_uuid:
            st["uuid"] = b64uuid()
        return st

    def _master_update(self, tid, aid, state, reason, message):
        """An update the master makes itself: no uuid, never acknowledged."""
        st = self._status(tid, aid, state, "SOURCE_MASTER", reason, message, False)
        self.emit({"type": "UPDATE", "update": {"status": st}})

    def _agent_update(self, t, state, reason, message, source="SOURCE_EXECUTOR"):
        """An update from the task's agent: a uuid, queued behind the task's
        unacknowledged ones, retried until acknowledged."""
        st = self._status(t.id, t.agent.id, state, source, reason, message, True)
        t.state = state
        t.history.append({"state": state, "time": st["timestamp"], "uuid": st["uuid"], "reason": reason,
                          "message": message})
        self.uuids[st["uuid"]] = {"task_id": t.id, "agent_id": t.agent.id, "state": state,
                                  "deliveries": 0, "acks": 0}
        t.outbox.append({"status": st, "not_before": time.time() + self.delay})
        if state in TERMINAL:
            t.ended_at = time.time()
        self.pump_task(t, time.time())

    def pump_task(self, t, now):
        if not t.outbox or self.stream is None or t.fw_id != self.fw_id:
            return
        head = t.outbox[0]
        if now < head["not_before"]:
            return
        if t.head_sent is not None and now - t.head_sent < self.a.update_retry:
            return
        copies = 1
        if self.dup_next > 0:
            self.dup_next -= 1
            copies = 2
        for _ in range(copies):
            if self.emit({"type": "UPDATE", "update": {"status": head["status"]}}):
                self.uuids[head["status"]["uuid"]]["deliveries"] += 1
        t.head_sent = now

    # ---- tasks as processes ----

    def _launch(self, ti, agent, res, role):
        t = Task(ti["task_id"]["value"], self.fw_id, agent, ti, res, role)
        self.tasks[t.id] = t
        t.sandbox = os.path.join(self.a.work_dir, "slaves", agent.id, "frameworks", self.fw_id, "executors",
                                 t.id, "runs", t.container)
        os.makedirs(t.sandbox, exist_ok=True)
        cmd = ti.get("command", {})
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
               "MESOS_SANDBOX": t.sandbox, "MESOS_DIRECTORY": t.sandbox, "MESOS_TASK_ID": t.id,
               "MESOS_FRAMEWORK_ID": self.fw_id, "MESOS_AGENT_ID": agent.id, "MESOS_EXECUTOR_ID": t.id}
        for v in (cmd.get("environment") or {}).get("variables", []):
            if v.get("type", "VALUE") == "VALUE":
                env[v["name"]] = v.get("value", "")
        if self.a.send_starting:
            self._agent_update(t, "TASK_STARTING", None, None)
        value = cmd.get("value")
        if not value:
            argv, exe = ["true"], None  # a container task with no command: the image's own
        elif cmd.get("shell", True):
            argv, exe = ["/bin/sh", "-c", value], None
        else:
            argv, exe = list(cmd.get("arguments") or [value]), value
        try:
            with open(os.path.join(t.sandbox, "stdout"), "wb") as out, \
                    open(os.path.join(t.sandbox, "stderr"), "wb") as err:
                t.proc = subprocess.Popen(argv, executable=exe, cwd=t.sandbox, env=env, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=err, start_new_session=True)
        except OSError as e:
            self._agent_update(t, "TASK_FAILED", "REASON_COMMAND_EXECUTOR_FAILED", "Failed to launch: %s" % e)
            return
        self._agent_update(t, "TASK_RUNNING", None, None)
        threading.Thread(target=self._wait_task, args=(t,), daemon=True).start()
        log("task %s launched on %s (pid %d)" % (t.id, agent.id, t.proc.pid))

    def _wait_task(self, t):
        rc = t.proc.wait()
        with self.lock:
            if t.state in TERMINAL or t.forgotten:
                return
            if t.kill_requested:
                self._agent_update(t, "TASK_KILLED", None, "Command terminated with signal %s" % sig_name(-rc)
                                   if rc < 0 else "Command exited with status %d" % rc)
            elif rc == 0:
                self._agent_update(t, "TASK_FINISHED", None, "Command exited with status 0")
            elif rc > 0:
                self._agent_update(t, "TASK_FAILED", "REASON_COMMAND_EXECUTOR_FAILED",
                                   "Command exited with status %d" % rc)
            else:
                self._agent_update(t, "TASK_FAILED", "REASON_COMMAND_EXECUTOR_FAILED",
                                   "Command terminated with signal %s" % sig_name(-rc))

    def _kill_process(self, t, grace):
        p = t.proc
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
        except OSError:
            return
        if grace > 0:
            def later():
                time.sleep(grace)
                try:
                    if p.poll() is None:
                        os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
            threading.Thread(target=later, daemon=True).start()

    # ---- the clock ----

    def tick(self):
        now = time.time()
        s = self.stream
        if s is not None and not s.frozen and now >= self.next_hb:
            self.emit({"type": "HEARTBEAT"})
            self.next_hb = now + self.a.heartbeat
        if self.a.offer_timeout > 0:
            for o in list(self.offers.values()):
                if o.status == "outstanding" and now - o.created >= self.a.offer_timeout:
                    self.rescind(o)
        if now >= self.next_alloc:
            self.allocate()
            self.next_alloc = now + self.a.alloc_interval
        for t in list(self.tasks.values()):
            self.pump_task(t, now)

    def run_ticker(self):
        while not self.stopping.wait(0.05):
            if self.zk is not None and self.zk_dirty.is_set():
                self.zk_dirty.clear()
                self.zk_recheck()
            with self.lock:
                try:
                    self.tick()
                except Exception:
                    self.double_error("exception in the ticker: " + traceback.format_exc())

    # ---- leadership (faults and ZooKeeper) ----

    def leading(self):
        return not self.no_leader and self.redirect is None and self.zk_leader

    def redirect_target(self):
        if self.no_leader:
            return None
        if self.redirect:
            return self.redirect
        return getattr(self, "zk_leader_addr", None)

    def zk_start(self):
        from kazoo.client import KazooClient
        spec = self.a.zk[5:] if self.a.zk.startswith("zk://") else self.a.zk
        hosts, _, path = spec.partition("/")
        self.zk_path = "/" + path.rstrip("/") if path else "/mesos"
        self.zk = KazooClient(hosts=hosts, timeout=self.a.zk_timeout)
        self.zk.start(timeout=30)
        self.zk.ensure_path(self.zk_path)
        self.zk_leader = False
        self.zk_join()
        self.zk.ChildrenWatch(self.zk_path, lambda children: self.zk_dirty.set())
        self.zk_recheck()

    def zk_join(self):
        mi = self.master_info()
        soft, hard, _, _ = self.s.check("mesos.MasterInfo", mi)
        if soft or hard:
            self.double_error("invalid MasterInfo: " + "; ".join(soft + hard))
        self.zk_node = self.zk.create(self.zk_path + "/json.info_", json.dumps(mi).encode(), ephemeral=True,
                                      sequence=True)
        log("joined ZooKeeper as %s" % self.zk_node)

    def zk_resign(self):
        node, self.zk_node = self.zk_node, None
        if node:
            try:
                self.zk.delete(node)
            except Exception as e:
                log("could not delete %s: %s" % (node, e))
        self.zk_dirty.set()

    def zk_recheck(self):
        try:
            kids = [c for c in self.zk.get_children(self.zk_path) if c.startswith("json.info_")]
        except Exception as e:
            log("ZooKeeper: %s" % e)
            return
        kids.sort(key=lambda c: int(c[len("json.info_"):]))
        leader = kids[0] if kids else None
        own = os.path.basename(self.zk_node) if self.zk_node else None
        addr = None
        if leader and leader != own:
            try:
                mi = json.loads(self.zk.get(self.zk_path + "/" + leader)[0])
                ad = mi.get("address") or {}
                addr = "%s:%d" % (ad.get("hostname") or mi.get("hostname"), ad.get("port") or mi.get("port"))
            except Exception as e:
                log("ZooKeeper: cannot read %s: %s" % (leader, e))
        with self.lock:
            was = self.zk_leader
            self.zk_leader = own is not None and own == leader
            self.zk_leader_addr = addr
            if was != self.zk_leader:
                log("ZooKeeper: %s" % ("elected leader" if self.zk_leader else "not the leader (%s)" % addr))
            if was and not self.zk_leader and self.stream is not None:
                s = self.stream
                self._lose_stream(s, "lost leadership")
                s.drop()

    # ---- control API ----

    def control(self, method, path, query, body):
        with self.lock:
            try:
                req = json.loads(body or b"{}") if method == "POST" else {}
            except ValueError:
                return 400, {"error": "body is not JSON"}
            since = int(query.get("since", ["0"])[0])
            name = path[len("/double/"):]
            if method == "GET":
                fn = getattr(self, "get_" + name.replace("/", "_"), None)
                if fn is None:
                    return 404, {"error": "no such control endpoint: GET %s" % path}
                return 200, fn(since)
            fn = getattr(self, "post_" + name.replace("/", "_"), None)
            if fn is None:
                return 404, {"error": "no such control endpoint: POST %s" % path}
            try:
                return 200, fn(req) or {"ok": True}
            except (KeyError, ValueError, TypeError) as e:
                return 400, {"error": "bad request: %r" % (e,)}

    def get_violations(self, since):
        return [v for v in self.violations if v["seq"] > since]

    def get_calls(self, since):
        return [c for c in self.calls if c["seq"] > since]

    def get_events(self, since):
        return [e for e in self.events if e["seq"] > since]

    def get_errors(self, since):
        return self.double_errors

    def get_acks(self, since):
        unacked = [dict(uuid=u, **r) for u, r in self.uuids.items() if r["acks"] == 0]
        return {"acks": self.ack_log, "unacked": unacked}

    def get_tasks(self, since):
        out = []
        for t in self.tasks.values():
            out.append({"task_id": t.id, "framework_id": t.fw_id, "agent_id": t.agent.id, "state": t.state,
                        "live": t.live(), "completed": t.completed, "forgotten": t.forgotten,
                        "sandbox": t.sandbox, "pid": t.proc.pid if t.proc else None, "task_info": t.info,
                        "resources": t.resources.to_list(), "history": t.history,
                        "pending_updates": [u["status"]["state"] for u in t.outbox]})
        return out

    def get_offers(self, since):
        return [{"id": o.id, "agent_id": o.agent.id, "role": o.role, "status": o.status, "created": o.created,
                 "resources": o.res.to_list()} for o in self.offers.values()]

    def get_state(self, since):
        return {"framework_id": self.fw_id, "subscribed": self.stream is not None,
                "stream_id": self.stream.id if self.stream else None, "reconciled": self.reconciled,
                "leading": self.leading(), "suppressed_roles": sorted(self.suppressed),
                "framework_info": self.fw_info, "port": self.port, "master_id": self.master_id,
                "zk_node": self.zk_node,
                "agents": [{"id": a.id, "hostname": a.hostname, "port": a.port,
                            "total": a.total.to_list(), "free": self.free(a).to_list()} for a in self.agents]}

    def get_report(self, since):
        by_type = {}
        for c in self.calls:
            by_type[c["type"] or "?"] = by_type.get(c["type"] or "?", 0) + 1
        acks = self.get_acks(0)
        return {"violations": len(self.violations), "double_errors": len(self.double_errors),
                "violation_kinds": sorted({v["kind"] for v in self.violations}),
                "calls_by_type": by_type, "unacked_updates": len(acks["unacked"]),
                "tasks": len(self.tasks), "events": len(self.events)}

    def post_clear(self, req):
        self.violations, self.calls, self.events, self.ack_log = [], [], [], []

    def post_drop_stream(self, req):
        s = self.stream
        if s is None:
            return {"ok": False, "error": "no stream"}
        self._lose_stream(s, "dropped by the test")
        s.drop()

    def post_freeze(self, req):
        if self.stream is None:
            return {"ok": False, "error": "no stream"}
        self.stream.frozen = bool(req.get("on", True))
        if not self.stream.frozen:
            self.next_hb = time.time()

    def post_error(self, req):
        s = self.stream
        if s is None:
            return {"ok": False, "error": "no stream"}
        self.emit({"type": "ERROR", "error": {"message": req.get("message", "Framework failed over")}})
        self._lose_stream(s, "ERROR sent by the test")
        s.close()

    def post_fail_next(self, req):
        self.fail_next = [(int(req.get("status", 503)), req.get("body", "Master has not finished recovery"))] \
            * int(req.get("count", 1))

    def post_leader(self, req):
        self.redirect = req.get("redirect")
        self.no_leader = bool(req.get("no_leader", False))
        if not self.leading() and self.stream is not None and not req.get("keep_stream", False):
            s = self.stream
            self._lose_stream(s, "not the leader any more")
            s.drop()

    def post_duplicate_updates(self, req):
        self.dup_next = int(req.get("count", 1))

    def post_delay_updates(self, req):
        self.delay = float(req.get("seconds", 0))

    def post_rescind(self, req):
        ids = [req["offer_id"]] if req.get("offer_id") else \
            [o.id for o in self.offers.values() if o.status == "outstanding"]
        done = []
        for oid in ids:
            o = self.offers.get(oid)
            if o and o.status == "outstanding":
                self.rescind(o)
                done.append(oid)
        return {"ok": True, "rescinded": done}

    def post_task_status(self, req):
        tid = req["task_id"]
        state = req.get("state", "TASK_LOST")
        if state not in self.s.enum_names("mesos.TaskState"):
            raise ValueError("state %r is not a mesos.TaskState" % state)
        reason = req.get("reason")
        if reason is not None and reason not in self.s.enum_names("mesos.TaskStatus.Reason"):
            raise ValueError("reason %r is not a mesos.TaskStatus.Reason" % reason)
        t = self.tasks.get(tid)
        aid = req.get("agent_id") or (t.agent.id if t else None)
        if t is not None:
            if state in TERMINAL or req.get("forget", False):
                self._kill_process(t, 0)
            if req.get("forget", False):
                t.forgotten = True
                t.outbox = []
            elif req.get("agent", False):
                self._agent_update(t, state, req.get("reason"), req.get("message"), "SOURCE_AGENT")
                return
            else:
                t.state = state
                if state in TERMINAL:
                    t.completed = True
                    t.outbox = []
        self._master_update(tid, aid, state, req.get("reason", "REASON_AGENT_REMOVED"),
                            req.get("message", "injected by the test"))

    def post_restart(self, req):
        s = self.stream
        if s is not None:
            self._lose_stream(s, "master restart")
            s.drop()
        self.fw_info = dict(self.fw_info or {}) if self.fw_info else None
        self.recover_until = time.time() + float(req.get("recovery_seconds", 0))

    def post_allow_teardown(self, req):
        self.allow_teardown = bool(req.get("allowed", True))

    def post_zk_resign(self, req):
        if self.zk is None:
            return {"ok": False, "error": "not started with --zk"}
        self.zk_resign()

    def post_zk_join(self, req):
        if self.zk is None:
            return {"ok": False, "error": "not started with --zk"}
        self.zk_join()
        self.zk_dirty.set()

    # ---- agents' HTTP API ----

    def agent_state(self, agent):
        with self.lock:
            fws = {}
            for t in self.tasks.values():
                if t.agent is not agent:
                    continue
                fw = fws.setdefault(t.fw_id, {"id": t.fw_id, "name": (self.fw_info or {}).get("name", ""),
                                              "executors": [], "completed_executors": []})
                task = {"id": t.id, "name": t.info.get("name"), "framework_id": t.fw_id, "executor_id": "",
                        "slave_id": agent.id, "state": t.state, "resources": {}}
                ex = {"id": t.id, "name": "Command Executor (Task: %s)" % t.id, "source": t.id,
                      "container": t.container, "directory": t.sandbox, "tasks": [], "completed_tasks": []}
                if t.state in TERMINAL:
                    ex["completed_tasks"].append(task)
                    fw["completed_executors"].append(ex)
                else:
                    ex["tasks"].append(task)
                    fw["executors"].append(ex)
            done = [f for fid, f in fws.items() if self.fw_removed and fid == self.fw_id]
            live = [f for fid, f in fws.items() if not (self.fw_removed and fid == self.fw_id)]
            return {"id": agent.id, "hostname": agent.hostname, "pid": "slave(1)@%s:%d" % (self.a.host, agent.port),
                    "version": VERSION, "frameworks": live, "completed_frameworks": done}

    def master_state(self):
        """The master's /state as Mesos shapes it, for what a scheduler reads
        there: its tasks (live and completed, with their agent) and the
        agents' addresses."""
        with self.lock:
            live, done = [], []
            for t in self.tasks.values():
                if t.forgotten:
                    continue
                task = {"id": t.id, "name": t.info.get("name"), "framework_id": t.fw_id,
                        "slave_id": t.agent.id, "state": t.state}
                (done if t.state in TERMINAL else live).append(task)
            fws = []
            if self.fw_id:
                fws.append({"id": self.fw_id, "name": (self.fw_info or {}).get("name", ""),
                            "active": self.stream is not None, "tasks": live, "completed_tasks": done})
            return {"version": VERSION, "id": self.master_id, "hostname": self.a.host,
                    "frameworks": fws, "completed_frameworks": [],
                    "slaves": [{"id": a.id, "hostname": a.hostname, "port": a.port,
                                "pid": "slave(1)@%s:%d" % (self.a.host, a.port)} for a in self.agents]}

    def sandbox_path(self, path):
        """The real file a /files/read path names, or None when it is not
        inside a sandbox of a task."""
        real = os.path.realpath(path)
        with self.lock:
            for t in self.tasks.values():
                if t.sandbox and (real == t.sandbox or real.startswith(t.sandbox + "/")):
                    return real
        return None

    def shutdown(self):
        self.stopping.set()
        with self.lock:
            if self.stream is not None:
                self.stream.close()
            for t in self.tasks.values():
                self._kill_process(t, 0)
        for t in list(self.tasks.values()):
            if t.proc is not None:
                try:
                    t.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self.zk is not None:
            try:
                self.zk.stop()
                self.zk.close()
            except Exception:
                pass


def sig_name(n):
    try:
        return signal.strsignal(n) or str(n)
    except ValueError:
        return str(n)


def id_error(s):
    """common/validation.cpp validateID."""
    if not s:
        return "ID must not be empty"
    if len(s) > 255:
        return "ID must not be greater than 255 characters"
    if s in (".", ".."):
        return "'%s' is disallowed" % s
    if any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in s):
        return "'%s' contains invalid characters" % s
    return None


def role_error(r):
    """roles::validate."""
    if r == "":
        return "Empty role name is invalid"
    if r in (".", ".."):
        return "Role name '.' and '..' are invalid"
    if r.startswith("-"):
        return "Role name must not start with '-'"
    for part in r.split("/"):
        if part in ("", ".", ".."):
            return "Role path component is invalid"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in r):
        return "Role name contains invalid characters"
    return None


# ---- HTTP --------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chronos-mesos-double"
    double = None

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline(64)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    self.rfile.readline(64)
                    return out
                out += self.rfile.read(n)
                self.rfile.readline(8)
                if len(out) > MAX_BODY:
                    raise ValueError("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="text/plain; charset=utf-8", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj):
        self.send(status, json.dumps(obj, indent=None, default=str), "application/json")

    def do_any(self):
        try:
            body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            return self.send(413, str(e))
        url = urllib.parse.urlsplit(self.path)
        self.route(url.path, urllib.parse.parse_qs(url.query), body)

    do_GET = do_POST = do_PUT = do_DELETE = do_any


class MasterHandler(Handler):
    def route(self, path, query, body):
        d = self.double
        if path == "/api/v1/scheduler":
            hdrs = {k: self.headers[k] for k in ("Content-Type", "Accept", "Mesos-Stream-Id") if k in self.headers}
            r = d.handle_call(self.command, hdrs, body)
            if r.stream is None:
                return self.send(r.status, r.body, headers=r.headers)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Mesos-Stream-Id", r.stream.id)
            self.end_headers()
            self.wfile.flush()
            r.stream.serve(self)
            return None
        if path.startswith("/double/"):
            status, obj = d.control(self.command, path, query, body)
            return self.send_json(status, obj)
        if path in ("/master/state", "/state", "/state.json", "/master/state.json"):
            return self.send_json(200, d.master_state())
        return self.send(404, "")


class AgentHandler(Handler):
    agent = None

    def route(self, path, query, body):
        d = self.double
        if path in ("/state", "/slave(1)/state", "/state.json", "/slave(1)/state.json"):
            return self.send_json(200, d.agent_state(self.agent))
        if path in ("/files/read", "/files/read.json"):
            return self.files_read(query)
        return self.send(404, "")

    def files_read(self, query):
        """files/files.cpp FilesProcess::read."""
        path = (query.get("path") or [""])[0]
        if not path:
            return self.send(400, "Expecting 'path=value' in query.\n")
        try:
            offset = int(query["offset"][0]) if "offset" in query else -1
        except ValueError as e:
            return self.send(400, "Failed to parse offset: %s.\n" % e)
        try:
            length = int(query["length"][0]) if "length" in query else -1
        except ValueError as e:
            return self.send(400, "Failed to parse length: %s.\n" % e)
        real = self.double.sandbox_path(path)
        if real is None or not os.path.exists(real):
            return self.send(404, "")
        if os.path.isdir(real):
            return self.send(400, "Cannot read a directory.\n")
        with open(real, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if offset == -1:
                offset = size
            if length == -1:
                length = size - offset
            length = min(length, PAGE16)
            if offset >= size:
                return self.send_json(200, {"data": "", "offset": size})
            f.seek(offset)
            data = f.read(max(length, 0))
        return self.send_json(200, {"data": data.decode("utf-8", "replace"), "offset": offset})


def serve(handler_cls, host, port, **attrs):
    cls = type(handler_cls.__name__, (handler_cls,), attrs)
    srv = ThreadingHTTPServer((host, port), cls)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return srv


# ---- main --------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description="A strict Mesos master test double (see tests/mesos/README.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind and to advertise")
    p.add_argument("--hostname", default=None, help="hostname in MasterInfo (default: --host)")
    p.add_argument("--port", type=int, default=0, help="master port (0: any free one)")
    p.add_argument("--work-dir", required=True, help="sandboxes and the compiled descriptor set go here")
    p.add_argument("--agents", type=int, default=1, help="number of default agents (4 cpus, 4096 mem, ...)")
    p.add_argument("--agents-json", default=None, help="agent specs: a JSON list, or @FILE")
    p.add_argument("--heartbeat", type=float, default=15.0, help="heartbeat_interval_seconds")
    p.add_argument("--alloc-interval", type=float, default=1.0, help="seconds between offer rounds")
    p.add_argument("--offer-timeout", type=float, default=0.0, help="rescind offers older than this (0: never)")
    p.add_argument("--update-retry", type=float, default=10.0, help="redeliver an unacknowledged update after")
    p.add_argument("--kill-grace", type=float, default=3.0, help="SIGTERM to SIGKILL when no kill_policy")
    p.add_argument("--no-starting", dest="send_starting", action="store_false", help="no TASK_STARTING")
    p.add_argument("--rescind-grace", type=float, default=0.25,
                   help="an ACCEPT/DECLINE this soon after RESCIND is a race, not a violation")
    p.add_argument("--chunking", choices=["record", "split"], default="record",
                   help="one HTTP chunk per record, or records split across chunks")
    p.add_argument("--allow-teardown", action="store_true")
    p.add_argument("--multi-framework", action="store_true",
                   help="a SUBSCRIBE without id while a framework exists is not a violation")
    p.add_argument("--framework-id", default=None, help="a framework id known from the start")
    p.add_argument("--master-id", default=None)
    p.add_argument("--zk", default=None, help="host:port/path: join the master group there")
    p.add_argument("--zk-timeout", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--report", default=None, help="write the final report (JSON) here on exit")
    p.add_argument("--violations-fatal", action="store_true", help="exit 1 when any violation was recorded")
    a = p.parse_args(argv)
    if a.agents_json:
        text = open(a.agents_json[1:]).read() if a.agents_json.startswith("@") else a.agents_json
        a.agent_specs = json.loads(text)
    else:
        a.agent_specs = [{} for _ in range(a.agents)]
    a.work_dir = os.path.abspath(a.work_dir)
    return a


def main(argv):
    a = parse_args(argv)
    os.makedirs(a.work_dir, exist_ok=True)
    schema = protojson.Schema(protojson.compile_descriptors(os.path.join(a.work_dir, ".descriptors")))
    d = Double(a, schema)
    master = serve(MasterHandler, a.host, a.port, double=d)
    d.port = master.server_address[1]
    for agent in d.agents:
        agent.server = serve(AgentHandler, a.host, 0, double=d, agent=agent)
        agent.port = agent.server.server_address[1]
    if a.zk:
        d.zk_start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    ticker = threading.Thread(target=d.run_ticker, daemon=True)
    ticker.start()
    print(json.dumps({"port": d.port, "pid": os.getpid(), "master_id": d.master_id,
                      "agents": [{"id": ag.id, "hostname": ag.hostname, "port": ag.port} for ag in d.agents]}),
          flush=True)
    log("master on %s:%d, %d agent(s)" % (a.host, d.port, len(d.agents)))
    while not stop.wait(0.2):
        pass
    d.shutdown()
    with d.lock:
        report = d.get_report(0)
        report["violation_list"] = d.violations
        report["double_error_list"] = d.double_errors
    if a.report:
        with open(a.report, "w") as f:
            json.dump(report, f, indent=1, default=str)
    log("stopped: %d violation(s), %d double error(s)" % (report["violations"], report["double_errors"]))
    master.shutdown()
    if report["double_errors"]:
        return 2
    if a.violations_fatal and report["violations"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
