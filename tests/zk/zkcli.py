#!/usr/bin/env python3
"""zkcli.py - the few ZooKeeper CLI commands the tests use, without a JVM.

    zkcli.py HOST:PORT [COMMAND ARGS...]     one command from the arguments
    zkcli.py HOST:PORT < commands            one per line, "quit" ends

Speaks ZooKeeper's wire protocol (jute, over one TCP session) for:
    get [-s] PATH        the data as text (and with -s "dataVersion = N" etc.)
    ls PATH              the children, as "[a, b]"
    create PATH [DATA]   a persistent node, open ACL
    set PATH DATA
    delete PATH
    deleteall PATH       the node and everything under it
Arguments are split as a shell would (single quotes keep JSON whole).  What
it prints follows ZooKeeperMain's output for these commands, errors
included ("Node does not exist: PATH", "Node already exists: PATH"), so a
test reads either.  A ZooKeeper CLI costs a JVM start (1-3 s of CPU); this
costs a Python start.
"""
import shlex
import socket
import struct
import sys

OPS = {"create": 1, "delete": 2, "getData": 4, "setData": 5, "getChildren": 8, "close": -11}
ERRORS = {-101: "Node does not exist", -110: "Node already exists",
          -111: "Node not empty", -103: "version No is not valid"}
STAT = [("cZxid", "q", True), ("mZxid", "q", True), ("ctime", "q", False),
        ("mtime", "q", False), ("dataVersion", "i", False), ("cversion", "i", False),
        ("aclVersion", "i", False), ("ephemeralOwner", "q", True),
        ("dataLength", "i", False), ("numChildren", "i", False), ("pzxid", "q", True)]
STAT_FMT = ">" + "".join(f for _, f, _ in STAT)


def jstr(s):
    b = s.encode() if s is not None else None
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


class Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return v

    def buf(self):
        (n,) = self.take(">i")
        if n < 0:
            return None
        b = self.data[self.at:self.at + n]
        self.at += n
        return b


class Session:
    def __init__(self, hostport):
        # The first server of a connect string ("h1:p1,h2:p2/chroot" too).
        host, port = hostport.split("/", 1)[0].split(",")[0].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        body = struct.pack(">iqiqi", 0, 0, 10000, 0, 16) + b"\0" * 16 + b"\0"
        self.send(body)
        r = Reader(self.recv())
        if r.take(">iiq")[2] == 0:
            raise OSError("ZooKeeper gave no session")
        self.xid = 0

    def send(self, body):
        self.sock.sendall(struct.pack(">i", len(body)) + body)

    def recv(self):
        head = self.exact(4)
        return self.exact(struct.unpack(">i", head)[0])

    def exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise OSError("ZooKeeper closed the connection")
            data += chunk
        return data

    def call(self, op, body):
        """One request; the reply's reader, or the error code (negative)."""
        self.xid += 1
        self.send(struct.pack(">ii", self.xid, OPS[op]) + body)
        while True:
            r = Reader(self.recv())
            xid, _zxid, err = r.take(">iqi")
            if xid == self.xid:
                return err if err != 0 else r
            # -1: a watch event, -2: a ping; neither is asked for here

    def close(self):
        try:
            self.call("close", b"")
        except OSError:
            pass
        self.sock.close()


def fail(err, path):
    print("%s: %s" % (ERRORS.get(err, "KeeperErrorCode = %d" % err), path))


def children(s, path):
    r = s.call("getChildren", jstr(path) + b"\0")
    if isinstance(r, int):
        return r, None
    (n,) = r.take(">i")
    return 0, [r.buf().decode() for _ in range(max(n, 0))]


def delete_all(s, path):
    err, kids = children(s, path)
    if err:
        return err
    for k in kids:
        err = delete_all(s, (path.rstrip("/") + "/" + k))
        if err and err != -101:
            return err
    r = s.call("delete", jstr(path) + struct.pack(">i", -1))
    return r if isinstance(r, int) else 0


def run(s, argv):
    cmd, args = argv[0], argv[1:]
    stat = "-s" in args
    args = [a for a in args if a != "-s"]
    if cmd == "get" and args:
        r = s.call("getData", jstr(args[0]) + b"\0")
        if isinstance(r, int):
            return fail(r, args[0])
        data = r.buf()
        print("null" if data is None else data.decode(errors="replace"))
        if stat:
            for (name, _f, hexa), v in zip(STAT, r.take(STAT_FMT)):
                print("%s = %s" % (name, hex(v) if hexa else v))
    elif cmd == "ls" and args:
        err, kids = children(s, args[0])
        if err:
            return fail(err, args[0])
        print("[" + ", ".join(sorted(kids)) + "]")
    elif cmd == "create" and args:
        data = args[1].encode() if len(args) > 1 else None
        acl = struct.pack(">ii", 1, 31) + jstr("world") + jstr("anyone")
        body = jstr(args[0]) + (struct.pack(">i", -1) if data is None else
                                struct.pack(">i", len(data)) + data) + acl + struct.pack(">i", 0)
        r = s.call("create", body)
        if isinstance(r, int):
            return fail(r, args[0])
        print("Created " + args[0])
    elif cmd == "set" and len(args) == 2:
        data = args[1].encode()
        r = s.call("setData", jstr(args[0]) + struct.pack(">i", len(data)) + data +
                   struct.pack(">i", -1))
        if isinstance(r, int):
            return fail(r, args[0])
    elif cmd == "delete" and args:
        r = s.call("delete", jstr(args[0]) + struct.pack(">i", -1))
        if isinstance(r, int):
            return fail(r, args[0])
    elif cmd == "deleteall" and args:
        err = delete_all(s, args[0])
        if err:
            return fail(err, args[0])
    else:
        print("Command not found or Usage: %s" % " ".join(argv))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: zkcli.py HOST:PORT [COMMAND ARGS...]")
    s = Session(sys.argv[1])
    try:
        if len(sys.argv) > 2:
            run(s, sys.argv[2:])
        else:
            for line in sys.stdin:
                argv = shlex.split(line)
                if not argv:
                    continue
                if argv[0] == "quit":
                    break
                run(s, argv)
                sys.stdout.flush()
    finally:
        s.close()


if __name__ == "__main__":
    main()
