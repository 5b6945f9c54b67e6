#!/bin/bash
# Three `chronos serve` against one real ZooKeeper (tests/ha/lib.sh): one
# leads, the others stand by and forward; jobs due every second keep being
# launched exactly once (or, while no leader runs, ledgered as coalesced)
# through every fault: the leader killed with kill -9, its session expired
# (test builds), the leader frozen past its session timeout and thawed (it
# must launch nothing after it wakes), ZooKeeper restarted, writes sent to a
# standby during a failover (none acknowledged is lost), and a dependency
# cycle written straight into ZooKeeper (refused on load, the rest runs).
# Every process is stopped by pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_ha.sh
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/chronos}")
. "$REPO/tests/ha/lib.sh"

ha_init
test_build=false
case "$CHRONOS" in */asan/*|*/test/*) test_build=true ;; esac
[ "${TEST_BUILD:-}" = 1 ] && test_build=true   # a test build copied elsewhere

zk_start 1 || { bad "ZooKeeper starts"; finish; }
for i in 1 2 3; do srv_start "$i" || bad "server $i starts"; done
check "a leader is elected" wait_for 20 has_leader
L=$(wait_leader)
check "exactly one server leads" test "$(leaders)" = 1
same_leader() {
  local want="127.0.0.1:${PORT[$L]}"
  for i in 1 2 3; do
    [ "$(api "$i" GET /v1/scheduler/leader)" = 200 ] || return 1
    grep -q "\"leader\":\"$want\"" "$tmp/body" || return 1
  done
}
check "every server names the leader at /v1/scheduler/leader" wait_for 10 same_leader
# /v1/status on every server: the three members, the leader first and marked,
# the two others as standbys.
members_right() {
  local i
  for i in 1 2 3; do
    [ "$(api "$i" GET /v1/status)" = 200 ] || return 1
    /usr/bin/python3 -c '
import json, sys
st, lead, ports = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3].split()
ids = [m["id"] for m in st.get("members", [])]
ok = (sorted(ids) == sorted("127.0.0.1:" + p for p in ports) and ids[0] == lead
      and [m["leader"] for m in st["members"]] == [True, False, False]
      and sorted(st.get("standbys", [])) == sorted(i for i in ids if i != lead))
sys.exit(0 if ok else 1)' "$tmp/body" "127.0.0.1:${PORT[$L]}" "${PORT[1]} ${PORT[2]} ${PORT[3]}" || return 1
  done
}
check "every server's /v1/status lists the three members, the leader first, two standbys" \
  wait_for 15 members_right
S=$(( L % 3 + 1 ))   # a standby

# Writes through a standby are forwarded to the leader.
code=$(api "$S" POST /v1/scheduler/iso8601 \
  '{"name":"via-standby","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D"}')
check "a POST to a standby is forwarded (204)" test "$code" = 204
code=$(api "$L" GET /v1/scheduler/job/via-standby)
check "the leader has the job the standby forwarded" test "$code" = 200
code=$(api "$S" GET /v1/scheduler/jobs)
check "a standby answers reads through the leader" grep -q via-standby "$tmp/body"
# What a request must carry (issue 12) holds through a standby too: the
# standby checks Host and Origin, and the leader still takes the forward
# (curl sends the leader's own host:port as the Host).
sb() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
code=$(sb -X PUT -H "Host: rebound.attacker.example" "http://127.0.0.1:${PORT[$S]}/v1/scheduler/job/via-standby")
check "a standby refuses a Host that is not its own (421)" test "$code" = 421
code=$(sb -X PUT -H "Origin: http://attacker.example" "http://127.0.0.1:${PORT[$S]}/v1/scheduler/job/via-standby")
check "a standby refuses another site's Origin (403)" test "$code" = 403
code=$(sb -X PUT -H "Origin: http://127.0.0.1:${PORT[$S]}" "http://127.0.0.1:${PORT[$S]}/v1/scheduler/job/via-standby")
check "the standby's own page runs a job through it (204)" test "$code" = 204

# Jobs due every second from a little ahead.
START=$(( ($(now_ms) / 1000 + 3) * 1000 ))
for j in t1 t2 t3; do
  code=$(api "$L" POST /v1/scheduler/iso8601 "$(tick_job "$j" "$START")")
  [ "$code" = 204 ] || bad "create $j" "status $code"
done
SPECS="t1:$START:1000 t2:$START:1000 t3:$START:1000"
sleep_until $(( START + 3000 ))
launched_once() { [ "$(sort -u "$tmp/out/t1" 2>/dev/null | wc -l)" -ge "$1" ]; }
check "the jobs run every second" launched_once 2

# 1. kill -9 of the leader mid-schedule, two standbys.
t0=$(now_ms)
srv_kill9 "$L"
check "after kill -9 of the leader, another leads" wait_for $(( ST / 1000 + 15 )) has_leader
NL=$(leader)
echo "     failover (kill -9 -> a new leader): $(( $(now_ms) - t0 )) ms"
srv_start "$L" || bad "the killed server restarts"
L=$NL
sleep 3
check "kill -9: no duplicate or missed launch" settled "$START" $(( $(now_ms) - 2000 )) $SPECS

# 2. Session expiry of the leader (forced: test builds only).
if $test_build; then
  mark=$(wc -l <"$tmp/s$L.log")
  kill -USR2 "${PID[${L:-0}]:-}" 2>/dev/null
  # Its term ends: "stopped leading", or only "term over" when its lease
  # had already lapsed by itself (a loaded machine) before the expiry.
  expired_stepped_down() { tail -n +"$((mark + 1))" "$tmp/s$L.log" | grep -qE "stopped leading|term over"; }
  check "a forced session expiry makes the leader step down" wait_for 20 expired_stepped_down
  check "and a leader leads again" wait_for $(( ST / 1000 + 15 )) has_leader
  L=$(wait_leader)
  sleep 3
  check "expiry: no duplicate or missed launch" settled "$START" $(( $(now_ms) - 2000 )) $SPECS
else
  echo "skip session expiry: it needs a test build (build/asan/chronos)"
fi

# 3. The leader frozen past its session timeout, then thawed.
F=$L
t_stop=$(now_ms)
kill -STOP "${PID[${F:-0}]:-}" 2>/dev/null
frozen_gone() { local l; l=$(leader); [ -n "$l" ] && [ "$l" != "$F" ]; }
check "a frozen leader is replaced" wait_for $(( ST / 1000 + 15 )) frozen_gone
L=$(wait_leader)
mark=$(wc -l <"$tmp/s$F.log")
kill -CONT "${PID[${F:-0}]:-}" 2>/dev/null
# Its session expired while it was frozen, so its term ends after the thaw:
# "stopped leading", or only "term over" when it had already stepped down by
# itself before the freeze (a lease that lapsed on a loaded machine).
thawed_down() { tail -n +"$((mark + 1))" "$tmp/s$F.log" | grep -qE "stopped leading|term over"; }
check "the thawed leader steps down" wait_for $(( ST / 1000 + 25 )) thawed_down
# A launch it decided before the stop may be logged after the thaw (the
# stop can land between starting the task and the log line); one due later
# than the stop plus the launch lead (200 ms) was decided after it woke.
woke_launches() {
  tail -n +"$((mark + 1))" "$tmp/s$F.log" | grep -o 'launched ct:[0-9]*' |
    awk -F: -v t="$t_stop" '$2 > t + 1000 { n++ } END { exit n > 0 }'
}
check "the thawed leader launched nothing due after it stopped" woke_launches
check "at most one server leads" test "$(leaders)" -le 1
sleep 2
check "freeze: no duplicate or missed launch" settled "$START" $(( $(now_ms) - 2000 )) $SPECS

# 4. Writes through a standby while the leader dies: none acknowledged is lost.
S=$(( L % 3 + 1 ))
: >"$tmp/acked"
(
  for k in $(seq 1 40); do
    c=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
      -d "{\"name\":\"w$k\",\"command\":\"true\",\"schedule\":\"R/2099-01-01T00:00:00Z/P1D\"}" \
      "http://127.0.0.1:${PORT[$S]}/v1/scheduler/iso8601")
    [ "$c" = 204 ] && echo "w$k" >>"$tmp/acked"
    sleep 0.1
  done
) &
writer=$!
sleep 1
srv_kill9 "$L"
wait "$writer"
check "a leader leads after the failover" wait_for $(( ST / 1000 + 15 )) has_leader
L=$(wait_leader)
for i in 1 2 3; do srv_alive "$i" || srv_start "$i" || bad "server $i restarts"; done
# Asked through the standby the writes went to (it forwards to whoever
# leads).  Only a definite answer counts: 200, or 400 "not found" (a lost
# write).  A 503 while the leadership moves again (the restarted servers'
# start can starve a loaded leader's lease) is asked again, not called lost.
acked_answered() {
  local job code
  : >"$tmp/acked_codes"
  while read -r job; do
    code=$(api "$S" GET "/v1/scheduler/job/$job")
    case $code in
      200 | 400) echo "$job $code" >>"$tmp/acked_codes" ;;
      *) return 1 ;;
    esac
  done <"$tmp/acked"
}
all_acked_exist() {
  wait_for $(( ST / 1000 + 30 )) acked_answered || { echo "no definite answer for every acked write"; return 1; }
  ! grep -v ' 200$' "$tmp/acked_codes" | sed 's/^/lost: /' | grep .
}
n_acked=$(wc -l <"$tmp/acked")
check "every write a standby acknowledged during failover exists ($n_acked of 40)" all_acked_exist
check "some writes were acknowledged" test "$(wc -l <"$tmp/acked")" -gt 0

# 5. ZooKeeper restarted under load.
"$REPO/tests/zk/zk.sh" kill "$tmp/zk" 1
sleep 1
"$REPO/tests/zk/zk.sh" restart "$tmp/zk" 1 || bad "ZooKeeper restarts"
check "after a ZooKeeper restart a leader leads" wait_for $(( ST / 1000 + 20 )) has_leader
L=$(wait_leader)
sleep 3
check "ZooKeeper restart: no duplicate or missed launch" settled "$START" $(( $(now_ms) - 2000 )) $SPECS

# 6. A cycle written straight into ZooKeeper: refused on load, the rest runs.
shard() { /usr/bin/python3 -c '
import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
h ^= h >> 16; h ^= h >> 8
print("%02x" % (h & 0xff))' "$1"; }
zkcli() { $PYQ "$REPO/tests/zk/zkcli.py" "$ZKH" "$@" >/dev/null 2>&1; }
zkcli create "/chronos/jobs/$(shard cyc-a)/cyc-a" '{"name":"cyc-a","command":"true","parents":["cyc-b"]}'
zkcli create "/chronos/jobs/$(shard cyc-b)/cyc-b" '{"name":"cyc-b","command":"true","parents":["cyc-a"]}'
# The leader now (a ZooKeeper restart may have moved it since section 5).
wait_for $(( ST / 1000 + 20 )) has_leader || bad "a leader before the cycle's kill -9"
L=$(wait_leader)
[ -n "$L" ] && srv_kill9 "$L"   # the next leader loads the tree with the cycle
check "a leader leads after the cycle was written" wait_for $(( ST / 1000 + 15 )) has_leader
L=$(wait_leader)
cycle_logged() { grep -q "stored job 'cyc-a' refused: it is on a dependency cycle" "$tmp/s$L.log"; }
check "the cycle is refused on load with a clear log line" wait_for 10 cycle_logged
code=$(api "$L" GET /v1/scheduler/job/cyc-a)
check "the refused job is not scheduled (400 not found)" test "$code" = 400
sleep 3
check "with the cycle refused, the other jobs run on, once each" \
  settled "$START" $(( $(now_ms) - 2000 )) $SPECS

finish
