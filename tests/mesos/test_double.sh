#!/bin/bash
# test_double.sh - the strict Mesos master double's own test: starts
# tests/mesos/double.py on 127.0.0.1 (ports it picks), drives it with
# selftest.py (a valid flow records no violation; every class of violation
# in README.md's table is recorded; faults), then checks that SIGTERM stops it
# with no task process left, its final report, --violations-fatal, and two
# doubles failing over through a real ZooKeeper (tests/zk/zk.sh).
# The doubles are stopped by pid on exit, even on failure.  About 30 s.
#
#   bash tests/mesos/test_double.sh        (KEEP=1 keeps the work dir)
set -u
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
D=tests/mesos
tmp=$(mktemp -d /tmp/chronos-mdouble.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -d "$tmp/zk" ] && bash tests/zk/zk.sh stop "$tmp/zk" >/dev/null 2>&1
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
finish() { echo "$passed passed, $failed failed"; exit $(( failed > 0 )); }

# start NAME ARGS...: starts a double; sets PID and PORT (empty on failure).
start() {
  local name=$1; shift
  PID=""; PORT=""
  $PY $D/double.py --work-dir "$tmp/$name" "$@" >"$tmp/$name.out" 2>"$tmp/$name.log" &
  PID=$!
  pids+=("$PID")
  for _ in $(seq 100); do
    if [ -s "$tmp/$name.out" ]; then
      PORT=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$tmp/$name.out")
      return 0
    fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -5 "$tmp/$name.log"
  return 1
}

# stop PID: SIGTERM, wait at most 10 s (then SIGKILL); sets RC.
stop() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  RC=$?
}

if ! start main --agents 2 --heartbeat 1 --update-retry 1 --report "$tmp/main.report"; then
  bad "the double starts and prints its port"
  finish
fi
ok "the double starts and prints its port"
timeout 60 $PY $D/selftest.py 127.0.0.1 "$PORT" >"$tmp/selftest.out" 2>&1
grep -E '^(ok|FAIL) ' "$tmp/selftest.out"
p=$(grep -c '^ok ' "$tmp/selftest.out"); f=$(grep -c '^FAIL ' "$tmp/selftest.out")
passed=$((passed + p)); failed=$((failed + f))
grep -qE '^[0-9]+ passed, [0-9]+ failed' "$tmp/selftest.out" || bad "selftest.py ran to its end" "$(tail -5 "$tmp/selftest.out")"

task_pids=$(curl -s "http://127.0.0.1:$PORT/double/tasks" | $PY -c '
import json, sys
print(" ".join(str(t["pid"]) for t in json.load(sys.stdin) if t["pid"]))')
alive=""
for p in $task_pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
stop "$PID"
[ "$RC" = 0 ] && ok "SIGTERM stops the double with status 0" || bad "SIGTERM stops the double with status 0" "rc $RC"
left=""
for p in $task_pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
[ -n "$alive" ] && [ -z "$left" ] && ok "no task process outlives the double" \
  || bad "no task process outlives the double" "running before [$alive] left [$left]"
if $PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["double_errors"] == 0 and r["violations"] > 0 and "ack_twice" in r["violation_kinds"] else 1)' \
  "$tmp/main.report" 2>/dev/null; then
  ok "the final report counts the violations and no double error"
else
  bad "the final report counts the violations and no double error" "$(head -c 300 "$tmp/main.report")"
fi
grep -q 'DOUBLE ERROR' "$tmp/main.log" && bad "no DOUBLE ERROR in the log" "$(grep -m3 'DOUBLE ERROR' "$tmp/main.log")"

# --violations-fatal: exit 1 after a violation, 0 without.
if start fatal --violations-fatal --agents 1; then
  timeout 30 $PY $D/selftest.py 127.0.0.1 "$PORT" teardown >"$tmp/teardown.out" 2>&1
  grep -E '^(ok|FAIL) ' "$tmp/teardown.out"
  passed=$((passed + $(grep -c '^ok ' "$tmp/teardown.out"))); failed=$((failed + $(grep -c '^FAIL ' "$tmp/teardown.out")))
  stop "$PID"
  [ "$RC" = 1 ] && ok "--violations-fatal: exit 1 after a violation" || bad "--violations-fatal: exit 1 after a violation" "rc $RC"
else
  bad "the second double starts"
fi
if start quiet --violations-fatal --agents 1; then
  stop "$PID"
  [ "$RC" = 0 ] && ok "--violations-fatal: exit 0 without one" || bad "--violations-fatal: exit 0 without one" "rc $RC"
else
  bad "the third double starts"
fi

# ZooKeeper: two doubles in one group; the first registered leads, the other
# redirects to it; when the leader resigns (deletes its json.info_ node) the
# other takes over and the old one redirects there.
answer() { # answer PORT: "STATUS LOCATION" of a call to the double on PORT
  curl -s -o /dev/null -D - -X POST -H 'Content-Type: application/json' --max-time 5 \
    "http://127.0.0.1:$1/api/v1/scheduler" -d '{"type":"REVIVE","framework_id":{"value":"x"}}' |
    tr -d '\r' | awk 'NR==1 {s=$2} tolower($1)=="location:" {l=$2} END {print s, l}'
}
if zk=$(bash tests/zk/zk.sh start "$tmp/zk" 1 2>"$tmp/zk.err") && [ -n "$zk" ]; then
  start zka --zk "$zk/mesos" --agents 1 && A=$PORT && APID=$PID
  start zkb --zk "zk://$zk/mesos" --agents 1 && B=$PORT && BPID=$PID
  if [ -n "${A:-}" ] && [ -n "${B:-}" ]; then
    if $PY - "$zk" "$A" <<'PYEOF'
import json, sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=10)
kids = sorted((c for c in zk.get_children("/mesos") if c.startswith("json.info_")), key=lambda c: int(c[10:]))
mi = json.loads(zk.get("/mesos/" + kids[0])[0])
zk.stop()
ok = len(kids) == 2 and mi["address"]["port"] == int(sys.argv[2]) and mi["port"] == int(sys.argv[2]) \
    and mi["address"]["ip"] == "127.0.0.1" and mi["ip"] == 16777343 and mi["pid"].startswith("master@") \
    and mi["hostname"] and mi["id"] and mi["version"]
sys.exit(0 if ok else 1)
PYEOF
    then ok "zk: two ephemeral sequential json.info_ nodes, the first with its MasterInfo JSON"
    else bad "zk: two ephemeral sequential json.info_ nodes, the first with its MasterInfo JSON"; fi
    a=$(answer "$A"); b=$(answer "$B")
    [ "$a" = "400 " ] && [ "$b" = "307 //127.0.0.1:$A/api/v1/scheduler" ] \
      && ok "zk: the first registered leads, the other answers 307 to it" \
      || bad "zk: the first registered leads, the other answers 307 to it" "a [$a] b [$b]"
    curl -s -o /dev/null -X POST "http://127.0.0.1:$A/double/zk/resign"
    for _ in $(seq 50); do b=$(answer "$B"); [ "$b" = "400 " ] && break; sleep 0.2; done
    a=$(answer "$A")
    [ "$b" = "400 " ] && [ "$a" = "307 //127.0.0.1:$B/api/v1/scheduler" ] \
      && ok "zk: after the leader resigns the other leads and the old one redirects to it" \
      || bad "zk: after the leader resigns the other leads and the old one redirects to it" "a [$a] b [$b]"
    stop "$APID"; stop "$BPID"
  else
    bad "zk: two doubles start"
  fi
else
  bad "zk: ZooKeeper starts" "$(tail -3 "$tmp/zk.err")"
fi
finish
