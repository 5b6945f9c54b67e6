"""The malformed-request table of tests/integration/api_test.py.

Each case is a Case(name, method, path, body, headers, status, expect):
  body    bytes or None
  status  the acceptable status codes (a 4xx)
  expect  substrings the error message must contain, case-insensitive; every
          item must match, an item that is a tuple matches if any of its
          alternatives does.
Every case must also leave the job list unchanged.  The expected substrings
come from the API contract (the message names the field or thing that is
wrong) and Chronos's semantics, not from what the server happens to answer.

The seed jobs the table relies on (created by api_test.py before it runs):
  t_sched  scheduled, R/2030-01-01T00:00:00Z/PT1H
  t_a      scheduled, R/2030-01-01T00:00:00Z/P1D
  t_b      dependent on t_a
  t_c      dependent on t_b
"""
import json
from collections import namedtuple

Case = namedtuple("Case", "name method path body headers status expect")

ISO = "/v1/scheduler/iso8601"
DEP = "/v1/scheduler/dependency"
S = "/v1/scheduler"
JSON_HDR = {"Content-Type": "application/json"}

SEEDS = [
    (ISO, {"name": "t_sched", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT1H"}),
    (ISO, {"name": "t_a", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/P1D"}),
    (DEP, {"name": "t_b", "command": "true", "parents": ["t_a"]}),
    (DEP, {"name": "t_c", "command": "true", "parents": ["t_b"]}),
]

BASE = {"name": "tbad", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT1H"}
BASE_DEP = {"name": "tbad", "command": "true", "parents": ["t_a"]}
DROP = object()


def merged(base, over):
    d = dict(base)
    for k, v in over.items():
        if v is DROP:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def enc(obj):
    return json.dumps(obj).encode()


def sched(**over):
    return enc(merged(BASE, over))


def dep(**over):
    return enc(merged(BASE_DEP, over))


CASES = []


def add(name, method, path, body, expect, status=(400,), headers=None):
    if isinstance(status, int):
        status = (status,)
    if isinstance(expect, (str, tuple)):
        expect = [expect]
    CASES.append(Case(name, method, path, body, headers or JSON_HDR, tuple(status), list(expect)))


def post(name, body, expect, status=(400,), path=ISO):
    add(name, "POST", path, body, expect, status)


# ---- 1. JSON syntax ---------------------------------------------------------
GOOD = b'{"name":"tbad","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT1H"'
post("json: empty body", b"", "JSON")
post("json: whitespace only", b"   \n ", "JSON")
post("json: truncated object", b'{"name":"tbad","command":"tr', "JSON")
post("json: truncated after comma", GOOD + b",", "JSON")
post("json: missing closing brace", GOOD, "JSON")
post("json: trailing garbage", GOOD + b"} xyz", "JSON")
post("json: two objects", GOOD + b"}" + GOOD + b"}", "JSON")
post("json: NaN", GOOD + b',"cpus":NaN}', "JSON")
post("json: Infinity", GOOD + b',"mem":Infinity}', "JSON")
post("json: -Infinity", GOOD + b',"disk":-Infinity}', "JSON")
post("json: block comment", b"/* c */ " + GOOD + b"}", "JSON")
post("json: line comment", GOOD + b"} // c", "JSON")
post("json: single quotes", b"{'name':'tbad','command':'true'}", "JSON")
post("json: unquoted keys", b'{name:"tbad",command:"true"}', "JSON")
post("json: trailing comma", GOOD + b",}", "JSON")
post("json: leading zero number", GOOD + b',"retries":01}', "JSON")
post("json: hex number", GOOD + b',"retries":0x10}', "JSON")
post("json: raw newline in string", b'{"name":"tbad","command":"a\nb","schedule":"R/2030-01-01T00:00:00Z/PT1H"}', "JSON")
post("json: bad escape", b'{"name":"tbad","command":"a\\qb","schedule":"R/2030-01-01T00:00:00Z/PT1H"}', "JSON")
post("json: lone surrogate escape", GOOD + b',"description":"\\ud800"}', ("JSON", "unicode", "UTF-8"))
post("json: duplicate keys", b'{"name":"tbad","name":"tbad2","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT1H"}', "duplicate")
post("json: top-level array", b"[]", "object")
post("json: top-level array of job", b"[" + GOOD + b"}]", "object")
post("json: top-level string", b'"tbad"', "object")
post("json: top-level number", b"42", "object")
post("json: top-level null", b"null", "object")
post("json: top-level true", b"true", "object")
post("json: deeply nested arrays", GOOD + b',"description":' + b"[" * 30000 + b"]" * 30000 + b"}", ("JSON", "depth", "description"))
post("json: deeply nested objects", GOOD + b',"container":' + b'{"a":' * 10000 + b"1" + b"}" * 10000 + b"}", ("JSON", "depth", "container"))
post("json: invalid UTF-8 byte", GOOD + b',"description":"caf\xe9"}', ("UTF-8", "JSON"))
post("json: invalid UTF-8 overlong", GOOD + b',"description":"\xc0\xaf"}', ("UTF-8", "JSON"))
post("json: invalid UTF-8 in name", b'{"name":"\xff\xfe","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT1H"}', ("UTF-8", "JSON", "name"))
post("json: truncated UTF-8 sequence", GOOD + b',"owner":"\xe2\x82"}', ("UTF-8", "JSON"))
post("json: UTF-16 body", '{"name":"tbad"}'.encode("utf-16"), ("UTF-8", "JSON"))
post("json: number too large (1e400)", GOOD + b',"cpus":1e400}', ("cpus", "overflow", "range"))
post("json: integer too large", GOOD + b',"retries":99999999999999999999999}', ("retries", "too big", "range", "overflow"))

# ---- 2. wrong types, field by field -------------------------------------------
WRONG = [
    ("name", [42, True, [], {}]),
    ("command", [42, [], {}, True]),
    ("shell", ["yes", 1, []]),
    ("arguments", ["x", [1], [None], {}]),
    ("retries", ["abc", 1.5, True, [], {}]),
    ("cpus", ["abc", True, [], {}]),
    ("mem", ["x", [], False]),
    ("disk", ["0x10", {}]),
    ("disabled", ["maybe", 0, []]),
    ("concurrent", ["nope", 1]),
    ("highPriority", [1, "x"]),
    ("softError", [[], "yes"]),
    ("dataProcessingJobType", [2, {}]),
    ("async", ["x"]),
    ("retryBackoff", ["x"]),
    ("owner", [5, [], {}]),
    ("ownerName", [5, True]),
    ("description", [5, {}]),
    ("executor", [5]),
    ("executorFlags", [[]]),
    ("taskInfoData", [{}]),
    ("runAsUser", [5]),
    ("epsilon", [5]),
    ("environmentVariables", ["x", {}, [1], ["A=b"]]),
    ("constraints", ["x", {}, [1], [["rack", "EQUALS"]], [[1, 2, 3]]]),
    ("fetch", ["x", {}, [1]]),
    ("uris", ["x", {}, [1]]),
    ("container", ["x", [], 5]),
    ("schedule", [5, [], {}, True]),
    ("scheduleTimeZone", [5, [], True]),
    ("maxCompletionTime", ["abc", 1.5, True]),
    ("retryDelaySeconds", ["x", []]),
    ("startingDeadlineSeconds", ["x"]),
]
for field, values in WRONG:
    for v in values:
        post("type: %s = %s" % (field, json.dumps(v)), sched(**{field: v}), field)
for v in ["t_a", 5, [5], [None], {}]:
    post("type: parents = %s" % json.dumps(v), dep(parents=v), "parents", path=DEP)

# element-level problems in lists and objects
ENV = "environmentVariables"
post("env: element missing name", sched(**{ENV: [{"value": "v"}]}), ENV)
post("env: element missing value", sched(**{ENV: [{"name": "A"}]}), ENV)
post("env: name not a string", sched(**{ENV: [{"name": 1, "value": "v"}]}), ENV)
post("env: value not a string", sched(**{ENV: [{"name": "A", "value": 2}]}), ENV)
post("env: empty name", sched(**{ENV: [{"name": "", "value": "v"}]}), ENV)
post("env: name with '='", sched(**{ENV: [{"name": "A=B", "value": "v"}]}), ENV)
post("env: name with NUL", sched(**{ENV: [{"name": "A\u0000B", "value": "v"}]}), ENV)
post("constraints: unknown operator", sched(constraints=[["rack", "BOGUS", "x"]]), "constraints")
post("constraints: four elements", sched(constraints=[["rack", "EQUALS", "x", "y"]]), "constraints")
post("constraints: unclosed bracket", sched(constraints=[["rack", "LIKE", "r[1-"]]), "constraints")
post("constraints: Java-only (?i)", sched(constraints=[["rack", "UNLIKE", "(?i)r1"]]), "constraints")
post("constraints: (a*)* (exponential in regcomp)", sched(constraints=[["rack", "LIKE", "(a*)*"]]),
     "constraints")
post("constraints: empty attribute", sched(constraints=[["", "EQUALS", "x"]]), "constraints")
post("fetch: element missing uri", sched(fetch=[{}]), "fetch")
post("fetch: uri not a string", sched(fetch=[{"uri": 5}]), "fetch")
post("fetch: extract not a bool", sched(fetch=[{"uri": "http://x/f", "extract": "maybe"}]), "fetch")
post("fetch: executable a number", sched(fetch=[{"uri": "http://x/f", "executable": 3}]), "fetch")
post("uris: empty string", sched(uris=[""]), "uris")
post("container: no image", sched(container={}), ("container", "image"))
post("container: image a number", sched(container={"image": 5}), ("container", "image"))
post("container: unknown type", sched(container={"image": "busybox", "type": "LXC"}), ("container", "type"))
post("container: unknown network", sched(container={"image": "busybox", "network": "WEIRD"}), ("container", "network"))
post("container: volumes not an array", sched(container={"image": "busybox", "volumes": "x"}), ("container", "volumes"))
post("container: volume without containerPath", sched(container={"image": "busybox", "volumes": [{"hostPath": "/a"}]}), ("container", "containerPath"))
post("container: volume bad mode", sched(container={"image": "busybox", "volumes": [{"containerPath": "/a", "mode": "XX"}]}), ("container", "mode"))
post("container: forcePullImage not a bool", sched(container={"image": "busybox", "forcePullImage": "perhaps"}), ("container", "forcePullImage"))
post("container: parameter without key", sched(container={"image": "busybox", "parameters": [{"value": "v"}]}), ("container", "parameters"))
post("container: networkInfo without name", sched(container={"image": "busybox", "networkInfos": [{"protocol": "IPv4"}]}), ("container", "networkInfos"))
post("arguments: element an object", sched(arguments=["ok", {}]), "arguments")

# numbers written as strings that are not numbers
for field, v in [("cpus", "abc"), ("cpus", ""), ("cpus", "NaN"), ("cpus", "inf"), ("mem", "1e"),
                 ("disk", " 5"), ("retries", "3.5"), ("retries", ""), ("retries", "two"),
                 ("maxCompletionTime", "1h"), ("retryDelaySeconds", "-")]:
    post("string number: %s = %s" % (field, json.dumps(v)), sched(**{field: v}), field)

# ---- 3. out of range -----------------------------------------------------------
for field, v in [("retries", -1), ("retries", 101), ("retries", 2 ** 40), ("cpus", -0.5), ("cpus", -1),
                 ("cpus", 1e6), ("mem", -5), ("mem", 1e300), ("disk", -1), ("disk", 1e15),
                 ("maxCompletionTime", -1), ("maxCompletionTime", 10 ** 12),
                 ("retryDelaySeconds", -1), ("retryDelaySeconds", 86401), ("startingDeadlineSeconds", -5)]:
    post("range: %s = %s" % (field, json.dumps(v)), sched(**{field: v}), field)
post("range: replace t_a with retries -1", enc({"name": "t_a", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/P1D", "retries": -1}), "retries")

# ---- 4. sizes ------------------------------------------------------------------------
post("size: body over 64 KiB", sched(description="x" * 70000), ("65536", "64 KiB", "large", "limit", "body"), status=413)
post("size: body of 1 MiB", sched(command="x" * (1 << 20)), ("65536", "64 KiB", "large", "limit", "body"), status=413)
post("size: body over 64 KiB on dependency", dep(description="x" * 66000), ("65536", "64 KiB", "large", "limit", "body"), status=413, path=DEP)

def chunked(data, size=8192):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


add("size: chunked body over 64 KiB", "POST", ISO, chunked(sched(description="x" * 70000)),
    ("65536", "64 KiB", "large", "limit", "body"), 413,
    headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
post("size: command over 16 KiB", sched(command="x" * (16 * 1024 + 1)), "command")
post("size: name of 201 bytes", sched(name="n" * 201), "name")
post("size: description over 4 KiB", sched(description="d" * 4097), "description")
post("size: owner over 4 KiB", sched(owner="o" * 4097), "owner")
post("size: 101 parents", dep(parents=["p%d" % i for i in range(101)]), "parents", path=DEP)
post("size: 257 environment variables", sched(**{ENV: [{"name": "V%d" % i, "value": "v"} for i in range(257)]}), ENV)
post("size: 257 arguments", sched(arguments=["a"] * 257), "arguments")
post("size: argument over 4 KiB", sched(arguments=["a" * 4097]), "arguments")
post("size: env name over 256 bytes", sched(**{ENV: [{"name": "N" * 257, "value": "v"}]}), ENV)
post("size: env value over 4 KiB", sched(**{ENV: [{"name": "N", "value": "v" * 4097}]}), ENV)
post("size: schedule over 512 bytes", sched(schedule="R/2030-01-01T00:00:00Z/PT1H" + " " * 600), "schedule")
post("size: 65 constraints", sched(constraints=[["a", "EQUALS", "b"]] * 65), "constraints")
post("size: 65 fetch entries", sched(fetch=[{"uri": "http://x/%d" % i} for i in range(65)]), "fetch")
post("size: 65 uris", sched(uris=["http://x/%d" % i for i in range(65)]), "uris")
post("size: 65 container volumes", sched(container={"image": "b", "volumes": [{"containerPath": "/a"}] * 65}), ("container", "volumes"))

# ---- 5. parents and cycles ---------------------------------------------------------------
post("parents: unknown parent", dep(parents=["nosuchparent"]), ["parents", "nosuchparent"], path=DEP)
post("parents: one of two unknown", dep(parents=["t_a", "nosuchparent2"]), ["nosuchparent2"], path=DEP)
post("parents: unknown parent via iso8601", dep(parents=["nosuchparent3"]), ["nosuchparent3"])
post("parents: empty list", dep(parents=[]), "parents", path=DEP)
post("parents: missing on dependency", dep(parents=DROP), "parents", path=DEP)
post("parents: null on dependency", dep(parents=None), "parents", path=DEP)
post("parents: self (new job)", dep(name="selfy", parents=["selfy"]), ["parents", "selfy"], path=DEP)
post("parents: self (existing t_b)", dep(name="t_b", parents=["t_b"]), ["parents", "t_b"], path=DEP)
post("parents: duplicate", dep(parents=["t_a", "t_a"]), ["parents", "t_a"], path=DEP)
post("parents: invalid name", dep(parents=["a/b"]), "parents", path=DEP)
post("parents: empty name", dep(parents=[""]), "parents", path=DEP)
post("cycle: 2 jobs (t_a <- t_b)", dep(name="t_a", parents=["t_b"]), "cycle", path=DEP)
post("cycle: 3 jobs (t_a <- t_c)", dep(name="t_a", parents=["t_c"]), "cycle", path=DEP)
post("cycle: t_b <- t_c", dep(name="t_b", parents=["t_c"]), "cycle", path=DEP)
post("cycle: with an extra harmless parent", dep(name="t_a", parents=["t_sched", "t_c"]), "cycle", path=DEP)
post("cycle: via the iso8601 endpoint", dep(name="t_a", parents=["t_c"]), "cycle")
post("cycle: via the 2.x alias", dep(name="t_a", parents=["t_b"]), "cycle", path="/scheduler/dependency")

# ---- 6. schedules and zones --------------------------------------------------------------------
for s in ["garbage", "R/x/PT1H", "R/2030-01-01T00:00:00Z/P", "R/2030-01-01T00:00:00Z/PT0S",
          "R/2030-01-01T00:00:00Z/PT", "R/1960-01-01T00:00:00Z/PT1H", "R/1969-12-31T23:59:59Z/P1D",
          "R-1/2030-01-01T00:00:00Z/PT1H", "R/2030-13-01T00:00:00Z/PT1H", "R/2030-02-30T00:00:00Z/PT1H",
          "R/2030-01-01T25:00:00Z/PT1H", "r/2030-01-01T00:00:00Z/PT1H", "R/2030-01-01T00:00:00Z/PT1H/x",
          "R99999999999999999999/2030-01-01T00:00:00Z/PT1H", " R/2030-01-01T00:00:00Z/PT1H",
          "R/2030-01-01T00:00:00+19:00/PT1H", "R/2030-01-01T00:00:00Z/P1H", "R/2030-01-01/PT1H1M1H",
          "61 * * * *", "* 24 * * *", "* * * *", "0 0 * * * *", "@reboot", "@every 5m", "0 0 30 2 *",
          "0 0 * * 8", "*/0 * * * *", "5-1 * * * *", "1,,2 * * * *", "0 0 * FOO *", "0 0 L-40 * *"]:
    post("schedule: %s" % json.dumps(s), sched(schedule=s), "schedule")
post("schedule: empty string", sched(schedule=""), "schedule")
for z in ["Mars/Olympus", "../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd", "A" * 300,
          "America/New_York\u0000x", "UTC ", "Etc/GMT+99", "zone.tab", "Europe"]:
    post("zone: %s" % json.dumps(z[:40]), sched(scheduleTimeZone=z), "scheduleTimeZone")

# ---- 7. names --------------------------------------------------------------------------------------
for n in ["", " ", "a b", "a/b", "..", ".", "a%2Fb", "j\u00f6b", "a\u0000b", "a#b", "a\nb", "~x", "a:b", "*"]:
    post("name: %s" % json.dumps(n), sched(name=n), "name")
post("name: missing", sched(name=DROP), "name")
post("name: null", sched(name=None), "name")
post("name: invalid on dependency", dep(name="a b"), "name", path=DEP)

# ---- 8. uris and fetch, kinds ------------------------------------------------------------------------
post("uris and fetch both given", sched(uris=["http://x/a"], fetch=[{"uri": "http://x/b"}]), ["uris", "fetch"])

# ---- 9. names in URLs -----------------------------------------------------------------------------------
URL_NAME_MSG = ("name", "not found", "endpoint")
for method in ["GET", "PUT", "DELETE"]:
    add("url: %s job/..%%2F..%%2Fetc" % method, method, S + "/job/..%2F..%2Fetc", None, URL_NAME_MSG, (400, 404))
    add("url: %s job/%%2e%%2e" % method, method, S + "/job/%2e%2e", None, ("..", "name"), (400, 404))
add("url: GET job/..", "GET", S + "/job/..", None, URL_NAME_MSG, (400, 404))
add("url: GET job/%2F", "GET", S + "/job/%2F", None, URL_NAME_MSG, (400, 404))
add("url: GET job/a%20b", "GET", S + "/job/a%20b", None, URL_NAME_MSG, (400, 404))
add("url: GET job/a%00b", "GET", S + "/job/a%00b", None, URL_NAME_MSG, (400, 404))
add("url: GET job/t_sched%00x (NUL after an existing name)", "GET", S + "/job/t_sched%00x", None, URL_NAME_MSG, (400, 404))
add("url: PUT job/t_sched%00x (NUL after an existing name)", "PUT", S + "/job/t_sched%00x", None, URL_NAME_MSG, (400, 404))
add("url: DELETE job/t_sched%00x (NUL after an existing name)", "DELETE", S + "/job/t_sched%00x", None, URL_NAME_MSG, (400, 404))
add("url: GET job/%zz", "GET", S + "/job/%zz", None, URL_NAME_MSG, (400, 404))
add("url: GET job name of 201 bytes", "GET", S + "/job/" + "n" * 201, None, URL_NAME_MSG, (400, 404))
add("url: GET job/t_a/extra", "GET", S + "/job/t_a/extra", None, ("endpoint", "not found", "name"), (400, 404))
add("url: GET unknown job", "GET", S + "/job/nosuchjob", None, ["nosuchjob", "not found"])
add("url: GET unknown job via 2.x alias", "GET", "/scheduler/job/nosuchjob", None, ["nosuchjob", "not found"])
add("url: PUT unknown job", "PUT", S + "/job/nosuchjob", None, ["nosuchjob", "not found"])
add("url: DELETE unknown job", "DELETE", S + "/job/nosuchjob", None, ["nosuchjob", "not found"])
add("url: DELETE a parent (t_b) names its child", "DELETE", S + "/job/t_b", None, "t_c")
add("url: DELETE a grandparent (t_a) names its child", "DELETE", S + "/job/t_a", None, "t_b")
add("url: job/success of unknown job", "PUT", S + "/job/success/nosuchjob", None, ["nosuchjob", "not found"])
add("url: job/stat of unknown job", "GET", S + "/job/stat/nosuchjob", None, ["nosuchjob", "not found"])
add("url: task/kill of unknown job", "DELETE", S + "/task/kill/nosuchjob", None, ["nosuchjob", "not found"])
add("url: next of unknown job", "GET", S + "/job/nosuchjob/next", None, ["nosuchjob", "not found"])

# ---- 10. wrong methods and unknown endpoints ---------------------------------------------------------------
WRONG_METHOD = ("method", "endpoint", "not allowed", "not found")
for method, path in [("GET", ISO), ("PUT", ISO), ("DELETE", ISO), ("GET", DEP), ("DELETE", DEP),
                     ("POST", S + "/jobs"), ("DELETE", S + "/jobs"), ("PATCH", S + "/job/t_a"),
                     ("POST", S + "/job/t_a"), ("POST", S + "/graph/dot"), ("DELETE", S + "/graph/csv"),
                     ("POST", S + "/jobs/summary"), ("DELETE", "/ping"), ("POST", "/metrics"),
                     ("DELETE", "/v1/runs"), ("GET", S + "/task/kill/t_a"), ("DELETE", S + "/job/stat/t_a")]:
    add("method: %s %s" % (method, path), method, path, None, WRONG_METHOD, (404, 405))
for path in [S + "/nope", "/v2/scheduler/jobs", S, S + "/", S + "/jobs/extra", "/v1/runsx",
             "/scheduler/nope", "/v1/scheduler/iso8601/extra", "/pingx", "/v1/scheduler/stats"]:
    add("endpoint: GET %s" % path, "GET", path, None, ("endpoint", "not found"), 404)

# ---- 11. query parameters ------------------------------------------------------------------------------------
for q, word in [("limit=-1", "limit"), ("limit=abc", "limit"), ("offset=-1", "offset"), ("offset=x", "offset"),
                ]:
    add("query: jobs/search?%s" % q, "GET", S + "/jobs/search?" + q, None, word)
for q, word in [("limit=0", "limit"), ("limit=10001", "limit"), ("limit=abc", "limit"), ("limit=-5", "limit"),
                ("state=bogus", "state"), ("state=RUNNINGx", "state"), ("job=nosuchjob", "nosuchjob"),
                ("job=a%2Fb", ("job", "name", "a/b"))]:
    add("query: /v1/runs?%s" % q, "GET", "/v1/runs?" + q, None, word)
for q in ["count=0", "count=1000000", "count=1001", "count=abc", "count=-5"]:
    add("query: job/t_sched/next?%s" % q, "GET", S + "/job/t_sched/next?" + q, None, "count")
add("query: next of a dependent job", "GET", S + "/job/t_b/next", None, ("dependent", "schedule", "parents"))
add("query: stats/bogusPercentile", "GET", S + "/stats/bogusPercentile", None, ("bogusPercentile", "percentile"))
add("query: stats/99percentile (wrong case)", "GET", S + "/stats/99percentile", None, ("99percentile", "percentile"))
add("runs: unknown run id", "GET", "/v1/runs/ct:1:0:nosuchjob", None, "not found", 404)
add("runs: garbage run id", "GET", "/v1/runs/garbage", None, "not found", 404)
add("runs: stdout of an unknown run", "GET", "/v1/runs/ct:1:0:nosuchjob/stdout", None, "not found", 404)
add("runs: stderr of an unknown run", "GET", "/v1/runs/ct:1:0:nosuchjob/stderr", None, "not found", 404)

# ---- 12. preview with a bad job ---------------------------------------------------------------------------------
PV = S + "/preview"
post("preview: bad retries", sched(retries=-1), "retries", path=PV)
post("preview: bad schedule", sched(schedule="R/x/PT1H"), "schedule", path=PV)
post("preview: bad zone", sched(scheduleTimeZone="Mars/Olympus"), "scheduleTimeZone", path=PV)
post("preview: invalid JSON", b"{", "JSON", path=PV)
post("preview: empty body", b"", "JSON", path=PV)
post("preview: count=0", sched(), "count", path=PV + "?count=0")
post("preview: count=1001", sched(), "count", path=PV + "?count=1001")

# ---- 13. the 2.x alias is validated the same way -----------------------------------------------------------------
post("alias: /scheduler/iso8601 bad retries", sched(retries=101), "retries", path="/scheduler/iso8601")
post("alias: /scheduler/iso8601 bad schedule", sched(schedule="nope"), "schedule", path="/scheduler/iso8601")
post("alias: /scheduler/dependency unknown parent", dep(parents=["ghost"]), "ghost", path="/scheduler/dependency")
