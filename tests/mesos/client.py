"""client.py - a small Mesos v1 scheduler client for driving the master double
in tests (stdlib only): a SUBSCRIBE stream read as RecordIO into a queue of
events, calls on separate connections with any headers or body, and the
double's control API.

It must stay dumb on purpose: it sends exactly what a test tells it to, so
tests can send wrong things too.
"""
import base64
import http.client
import json
import queue
import socket
import threading
import time


class Stream:
    """One SUBSCRIBE response: its status, its Mesos-Stream-Id, its events."""

    def __init__(self, host, port, body, headers, timeout=5):
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.conn.request("POST", "/api/v1/scheduler", body=data, headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = self.resp.headers
        self.id = self.resp.headers.get("Mesos-Stream-Id")
        self.events = queue.Queue()
        self.seen = []
        self.closed = threading.Event()
        self.error = None
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.body = self.resp.read()
            self.closed.set()

    def _read(self):
        try:
            self.conn.sock.settimeout(None)
            while True:
                line = self.resp.readline()
                if not line:
                    break
                n = int(line.strip())
                data = self.resp.read(n)
                if len(data) != n:
                    raise ValueError("short record: %d of %d bytes" % (len(data), n))
                ev = json.loads(data)
                self.seen.append(ev)
                self.events.put(ev)
        except Exception as e:  # the test decides what a broken stream means
            self.error = e
        finally:
            self.closed.set()

    def next(self, types=None, timeout=5.0, pred=None):
        """The next event of one of `types` (any when None) for which pred
        holds, skipping others; None on timeout."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if (types is None or ev["type"] in types) and (pred is None or pred(ev)):
                return ev

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()


class Client:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.fw_id = None
        self.stream = None

    def subscribe(self, framework_info, headers=None, framework_id=None):
        body = {"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}}
        if framework_id:
            body["framework_id"] = {"value": framework_id}
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        s = Stream(self.host, self.port, body, {k: v for k, v in h.items() if v is not None})
        return s

    def call(self, body, headers=None, method="POST", raw=None, stream_id=True):
        """Sends one call; returns (status, headers, body text)."""
        h = {"Content-Type": "application/json"}
        if stream_id is True and self.stream is not None:
            h["Mesos-Stream-Id"] = self.stream.id
        elif isinstance(stream_id, str):
            h["Mesos-Stream-Id"] = stream_id
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        data = raw if raw is not None else json.dumps(body).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, "/api/v1/scheduler", body=data, headers=h)
            r = conn.getresponse()
            return r.status, r.headers, r.read().decode()
        finally:
            conn.close()

    def fw(self):
        return {"value": self.fw_id}

    def ack(self, status, **kw):
        return self.call({"type": "ACKNOWLEDGE", "framework_id": self.fw(),
                          "acknowledge": {"agent_id": status["agent_id"], "task_id": status["task_id"],
                                          "uuid": status["uuid"]}}, **kw)

    def control(self, method, path, body=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, "/double/" + path, body=json.dumps(body or {}).encode() if method == "POST" else None,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            return json.loads(r.read())
        finally:
            conn.close()


def get_json(host, port, path):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return r.status, (json.loads(body) if body and r.status == 200 else body)
    finally:
        conn.close()


def uuid_b64(raw):
    return base64.b64encode(raw).decode()
