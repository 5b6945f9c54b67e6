#!/usr/bin/python3
"""notify_recv.py DIR [HTTP_PORT] - the receivers of the notification tests
(tests/integration/test_notify.sh, test_notify_ha.sh) on loopback ports of
their own (HTTP_PORT: the HTTP receiver's, so that a test can stop it and
start it again where the server sends): a minimal SMTP server (RFC 5321's
commands that libcurl sends; no STARTTLS, no AUTH) and an HTTP receiver.
Python's stdlib only (smtpd left the stdlib in 3.12).

Writes DIR/ports ("smtp N" and "http N") once both listen.  Each mail is
DIR/mail-<n>.eml, its first line "X-Rcpt: <a>,<b>"; each webhook request is
a line of DIR/hooks.jsonl ({"t": ms, "status": code, "path": "/...",
"headers": {...}, "body": "..."}).  How the HTTP receiver answers comes from DIR/http_mode,
read per request: "ok" (or absent), "fail N" (500 for the next N requests,
then ok), "hang" (holds the request 30 s before answering 200).  DIR/smtp_mode
"fail" answers 451 to MAIL FROM.
"""
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
lock = threading.Lock()
count = [0]


def mode(name):
    try:
        with open(os.path.join(DIR, name)) as f:
            return f.read().split()
    except OSError:
        return []


def append(name, line):
    with lock, open(os.path.join(DIR, name), "a") as f:
        f.write(line + "\n")


class Smtp(socketserver.StreamRequestHandler):
    def say(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.say("220 test SMTP ready")
        rcpts, data = [], None
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data is not None:
                if line == ".":
                    with lock:
                        count[0] += 1
                        n = count[0]
                    path = os.path.join(DIR, "mail-%d.eml" % n)
                    with open(path + ".tmp", "w") as f:
                        f.write("X-Rcpt: %s\n" % ",".join(rcpts))
                        f.write("\n".join(data) + "\n")
                    os.rename(path + ".tmp", path)
                    rcpts, data = [], None
                    self.say("250 OK queued")
                else:
                    data.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.say("250 test")
            elif verb == "MAIL":
                if mode("smtp_mode")[:1] == ["fail"]:
                    self.say("451 try again later")
                else:
                    self.say("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                self.say("250 OK")
            elif verb == "DATA":
                data = []
                self.say("354 go on")
            elif verb == "QUIT":
                self.say("221 bye")
                return
            else:
                self.say("250 OK")


class Hook(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        m = mode("http_mode")
        status = 200
        if m[:1] == ["hang"]:
            append("hooks.jsonl", json.dumps({"t": int(time.time() * 1000), "status": -1,
                                              "path": self.path,
                                              "headers": dict(self.headers),
                                              "body": body.decode("utf-8", "replace")}))
            time.sleep(30)
        elif m[:1] == ["fail"] and int(m[1]) > 0:
            with lock, open(os.path.join(DIR, "http_mode"), "w") as f:
                f.write("fail %d\n" % (int(m[1]) - 1))
            status = 500
        append("hooks.jsonl", json.dumps({"t": int(time.time() * 1000), "status": status,
                                          "path": self.path,
                                          "headers": dict(self.headers),
                                          "body": body.decode("utf-8", "replace")}))
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


smtp = SmtpServer(("127.0.0.1", 0), Smtp)
http = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Hook)
http.daemon_threads = True
threading.Thread(target=smtp.serve_forever, daemon=True).start()
with open(os.path.join(DIR, "ports.tmp"), "w") as f:
    f.write("smtp %d\nhttp %d\n" % (smtp.server_address[1], http.server_address[1]))
os.rename(os.path.join(DIR, "ports.tmp"), os.path.join(DIR, "ports"))
http.serve_forever()
