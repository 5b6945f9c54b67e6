#!/bin/bash
# test_double.sh - the strict Mesos master double's own test: starts
# tests/mesos/double.py on 127.0.0.1 (ports it picks), drives it with
# selftest.py (a valid flow records no violation; every class of violation
# of protocols.md B.1 is recorded; faults), then checks that SIGTERM stops it
# with no task process left, its final report, and --violations-fatal.
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
timeout 120 $PY $D/selftest.py 127.0.0.1 "$PORT" >"$tmp/selftest.out" 2>&1
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
finish
