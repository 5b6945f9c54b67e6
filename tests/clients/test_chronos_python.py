#!/usr/bin/env python3
"""The chronos-python client (vendored in tests/clients/chronos_python, MIT)
against a running chronos server, on both of its API versions:
scheduler_api_version='v1' (Chronos 3's /v1/scheduler/..., adds with POST)
and None (Chronos 2.x's /scheduler/..., updates with PUT, jobs need `async`).

Every call the client makes is checked by reading back through the HTTP API
itself (urllib, not the client), so a client that merely did not raise
passes nothing.  Prints one "ok   ..." or "FAIL ..." line per check and ends
with "N passed, N failed".

    python3 tests/clients/test_chronos_python.py 127.0.0.1:PORT TMPDIR
"""
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "chronos_python"))
import chronos  # noqa: E402  (the vendored client)

SERVER, TMP = sys.argv[1], sys.argv[2]
BASE = "http://" + SERVER
FUTURE = "R/2030-01-01T00:00:00Z/PT1H"
passed = failed = 0


class Captured(logging.Handler):
    """The client logs a refusal's message, then raises a generic error."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


captured = Captured()
logging.getLogger("chronos").addHandler(captured)
logging.getLogger("chronos").setLevel(logging.DEBUG)
logging.getLogger("chronos").propagate = False


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print("ok   " + name, flush=True)
    except Exception as e:  # a failed check names what it saw
        failed += 1
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def http(method, path):
    """(status, parsed body or text) of a request made without the client."""
    req = urllib.request.Request(BASE + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    try:
        return status, json.loads(body.decode()) if body else None
    except ValueError:
        return status, body.decode()


def job(name):
    status, body = http("GET", "/v1/scheduler/job/" + name)
    expect(status == 200, "GET job/%s: %d %r" % (name, status, body))
    return body


def gone(name):
    status, body = http("GET", "/v1/scheduler/job/" + name)
    return status == 400 and "not found" in body.get("message", "")


def poll(fn, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.1)
    return fn()


def one_version(label, api_version):
    c = chronos.connect([SERVER], scheduler_api_version=api_version)
    v2 = api_version is None
    p, k = "py%s_parent" % label, "py%s_child" % label
    out = os.path.join(TMP, "%s.out" % p)
    parent = {"name": p, "command": "echo ran >> %s" % out, "owner": "ops@example.com",
              "disabled": False, "schedule": FUTURE, "retries": 1}
    child = {"name": k, "command": "true", "owner": "", "disabled": False, "parents": [p]}
    if v2:  # the client requires it on the 2.x API
        parent["async"] = False
        child["async"] = True

    def add():
        expect(c.add(parent) is None, "add answered a body")
        j = job(p)
        expect(j["command"] == parent["command"] and j["schedule"] == FUTURE and
               j["owner"] == "ops@example.com" and j["retries"] == 1, "stored %r" % j)
    check("%s: add a scheduled job (POST %s/iso8601)" % (label, "/scheduler" if v2 else
                                                           "/v1/scheduler"), add)

    def add_dependent():
        c.add(child)
        j = job(k)
        expect(j.get("parents") == [p] and "schedule" not in j, "stored %r" % j)
        if v2:
            expect(j.get("async") is True, "async not kept: %r" % j.get("async"))
    check("%s: add a dependent job (dependency)" % label, add_dependent)

    def listing():
        jobs = c.list()
        by = {x["name"]: x for x in jobs}
        expect(p in by and k in by, "names %r" % sorted(by))
        _, raw = http("GET", "/v1/scheduler/jobs")
        expect({x["name"] for x in raw} == set(by), "list differs from GET /v1/scheduler/jobs")
        if v2:  # as 2.x wrote it: on every job
            expect(all("async" in x for x in jobs), "a 2.x job without async")
            expect(by[p]["async"] is False and by[k]["async"] is True, "async values")
        else:
            expect("async" not in by[p], "a /v1 job shows async false")
        expect(not any("nextRunAt" in x for x in jobs), "progress in the job JSON")
    check("%s: list shows both, as GET jobs does" % label, listing)

    def update():
        changed = dict(parent, command=parent["command"], retries=3, description="updated")
        expect(c.update(changed) is None, "update answered a body")
        j = job(p)
        expect(j["retries"] == 3 and j["description"] == "updated", "stored %r" % j)
    check("%s: update (%s iso8601) changes the stored job" % (label, "PUT" if v2 else "POST"),
          update)

    def unchanged():
        before = job(p)
        again = dict(parent, retries=3, description="updated")
        c.update(again)
        expect(job(p) == before, "a re-sent job changed something")
    check("%s: update with the same job changes nothing" % label, unchanged)

    def search():
        found = c.search(name=p.upper())
        expect([x["name"] for x in found] == [p], "found %r" % [x["name"] for x in found])
    check("%s: search by name (case-insensitive)" % label, search)

    def run():
        expect(c.run(p) is None, "run answered a body")
        expect(poll(lambda: os.path.exists(out) and "ran" in open(out).read(), 20),
               "the job's command never ran")
        status, runs = http("GET", "/v1/runs?job=%s" % p)
        expect(status == 200 and any(r["cause"] == "manual" for r in runs), "runs %r" % runs)
        # the parent's success fires its dependent
        expect(poll(lambda: any(r["state"] == "finished" for r in
                                http("GET", "/v1/runs?job=%s" % k)[1]), 20),
               "the dependent never ran")
    check("%s: run (PUT job/NAME) runs it, and its dependent after it" % label, run)

    def stats():
        st = c.job_stat(p)
        expect("histogram" in st and st["histogram"]["count"] >= 1, "job_stat %r" % st)
        s99 = c.scheduler_stat_99th()
        expect(isinstance(s99, list) and any(x["jobNameLabel"] == p for x in s99), "99th %r" % s99)
        expect(isinstance(c.scheduler_stat_mean(), list), "mean")
        graph = c.scheduler_graph()
        expect("link,%s,%s" % (p, k) in graph.splitlines(), "graph %r" % graph)
    check("%s: job_stat, stats and the graph" % label, stats)

    def metrics():
        m = c.metrics()
        expect(isinstance(m, dict) and "gauges" in m and "counters" in m, "metrics %r" % m)
        expect(m["counters"].get("jobs.run.success.%s" % p, {}).get("count", 0) >= 1,
               "no jobs.run.success.%s in %r" % (p, sorted(m["counters"])[:20]))
    check("%s: metrics is Chronos's Dropwizard JSON, counting the run" % label, metrics)

    def refused():
        captured.lines.clear()
        try:
            c.add(dict(parent, name=p + "_bad", retries=1000))
        except chronos.ChronosAPIError:
            expect(any("retries" in line for line in captured.lines),
                   "the refusal's message: %r" % captured.lines)
            expect(gone(p + "_bad"), "the refused job exists")
            return
        raise AssertionError("a job with retries 1000 was accepted")
    check("%s: a refused job raises, the server's message naming the field" % label, refused)

    def kill():
        expect(c.delete_tasks(p) is None, "task/kill answered a body")
    check("%s: delete_tasks (task/kill)" % label, kill)

    def delete():
        try:
            c.delete(p)  # its child depends on it: refused
            raise AssertionError("a parent was deleted under its child")
        except chronos.ChronosAPIError:
            pass
        expect(not gone(p), "the refused delete removed the parent")
        c.delete(k)
        c.delete(p)
        expect(gone(k) and gone(p), "still there")
        expect(p not in [x["name"] for x in c.list()], "still listed")
    check("%s: delete (child first; a parent under its child is refused)" % label, delete)


one_version("v1", "v1")
one_version("v2", None)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
