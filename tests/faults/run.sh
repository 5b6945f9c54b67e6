#!/bin/bash
# run.sh - fault trials against a 3-server chronos cluster on one real
# ZooKeeper (tests/ha/lib.sh).  Each trial creates jobs due every second,
# applies a random schedule of faults to the servers (kill -9 of the leader or
# a standby, the leader frozen past its session timeout then thawed, a forced
# session expiry in test builds, ZooKeeper itself killed and restarted, and,
# as root, the disk of the run directories (a small tmpfs) filled for a
# while then freed), lets
# the cluster settle, and counts from the tasks' own output files and the
# jobs' ledgers: instants launched twice (duplicate), instants neither
# launched nor ledgered (missed), and acknowledged jobs that vanished (lost).
#
#   TRIALS=200 CHRONOS=build/test/chronos bash tests/faults/run.sh
#   make faults TRIALS=200
#
# Prints one line per trial, then the totals, failover times (leader killed ->
# first launch by the next leader) and "N passed, N failed" (a trial passes
# with no lost, duplicate or missed launch).  SEED makes the fault schedule
# repeatable.  FAULTS=freeze,expire draws only among those kinds (kill9 of the
# leader, freeze, expire, standby kill9, zk restart, disk), to chase one
# failure; unset, every kind is drawn as always.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/test/chronos}")
TRIALS=${TRIALS:-3}
SEED=${SEED:-$$}
. "$REPO/tests/ha/lib.sh"
. "$REPO/tests/faults/trials.sh"
RANDOM=$SEED
# The first value of each kind's range in fault()'s draw.
fault_base() {
  case $1 in
    kill9) echo 0 ;; freeze) echo 4 ;; expire) echo 6 ;; standby) echo 8 ;; zk) echo 9 ;;
    disk) echo 10 ;; *) return 1 ;;
  esac
}
FAULTS=${FAULTS:-}
read -ra FAULT_KINDS <<<"${FAULTS//,/ }"
for f in ${FAULTS//,/ }; do
  fault_base "$f" >/dev/null || { echo "FAULTS: unknown kind '$f' (kill9 freeze expire standby zk disk)"; exit 2; }
done
ha_init
# As root the run directories live on a small tmpfs that a fault fills.
DISK=false
if why=$(lib_mount_tmpfs "$tmp/runs" 16m); then
  DISK=true
else
  echo "no disk faults: no small filesystem for the run directories ($why)"
fi
test_build=false
case "$CHRONOS" in */asan/*|*/test/*) test_build=true ;; esac
[ "${TEST_BUILD:-}" = 1 ] && test_build=true   # a test build copied elsewhere
echo "fault trials: $TRIALS, seed $SEED, session timeout $ST ms, binary $CHRONOS${FAULTS:+, faults $FAULTS}"

zk_start 1 || { echo "ZooKeeper did not start"; echo "0 passed, 1 failed"; exit 1; }
for i in 1 2 3; do srv_start "$i" || echo "server $i did not start"; done
wait_for 30 has_leader || { echo "no leader"; echo "0 passed, 1 failed"; exit 1; }

: >"$tmp/failover"

ensure_all() { for i in 1 2 3; do srv_alive "$i" || srv_start "$i" >/dev/null 2>&1; done; }

# The first "launched" line in server I's log at or after T_MS (ms), or "".
first_launch_after() {
  /usr/bin/python3 - "$tmp/s$1.log" "$2" <<'EOF'
import datetime, sys
t0 = int(sys.argv[2])
for line in open(sys.argv[1], errors="replace"):
    if " launched ct:" not in line:
        continue
    try:
        at = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        continue
    ms = int(at.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    if ms >= t0:
        print(ms); break
EOF
}

# One fault on the cluster; says what it did in $FAULT.  (Not in a subshell:
# it changes PID[].)
fault() {
  local l; l=$(leader)
  local kind=$(( RANDOM % 12 ))
  if [ "${#FAULT_KINDS[@]}" -gt 0 ]; then   # drawn here: RANDOM in $(...) would not advance
    local pick=$(( RANDOM % ${#FAULT_KINDS[@]} ))
    kind=$(fault_base "${FAULT_KINDS[pick]}")
  fi
  if [ "$kind" -ge 10 ] && $DISK; then
    dd if=/dev/zero of="$tmp/runs/filler" bs=64k 2>/dev/null
    sleep "$(( 1 + RANDOM % 3 )).$(( RANDOM % 10 ))"
    rm -f "$tmp/runs/filler"
    FAULT="disk-full(runs)"
    return
  fi
  [ "$kind" -ge 10 ] && kind=9
  if [ -z "$l" ]; then FAULT="none(no-leader)"; return; fi
  if [ "$kind" -le 3 ]; then
    local t0; t0=$(now_ms)
    srv_kill9 "$l"
    wait_for $(( ST / 1000 + 15 )) has_leader
    local nl; nl=$(leader)
    sleep 1.5
    local fl=""
    [ -n "$nl" ] && fl=$(first_launch_after "$nl" "$t0")
    [ -n "$fl" ] && echo $(( fl - t0 )) >>"$tmp/failover"
    srv_start "$l" >/dev/null 2>&1
    FAULT="kill9-leader(s$l${fl:+, next launch +$(( fl - t0 ))ms})"
  elif [ "$kind" -le 5 ]; then
    kill -STOP "${PID[$l]}"
    sleep "$(( ST / 1000 )).$(( RANDOM % 10 ))"
    sleep 0.5
    kill -CONT "${PID[$l]}"
    FAULT="freeze-leader(s$l)"
  elif [ "$kind" -le 7 ] && $test_build; then
    kill -USR2 "${PID[$l]}"
    FAULT="expire-leader(s$l)"
  elif [ "$kind" -le 8 ]; then
    local s=$(( l % 3 + 1 ))
    srv_kill9 "$s"
    sleep 0.$(( RANDOM % 10 ))
    srv_start "$s" >/dev/null 2>&1
    FAULT="kill9-standby(s$s)"
  else
    "$REPO/tests/zk/zk.sh" kill "$tmp/zk" 1
    sleep 0.$(( RANDOM % 10 ))
    "$REPO/tests/zk/zk.sh" restart "$tmp/zk" 1 >/dev/null 2>&1
    FAULT="restart-zookeeper"
  fi
}

for trial in $(seq 1 "$TRIALS"); do
  ensure_all
  wait_for 30 has_leader
  L=$(leader)
  start=$(( ($(now_ms) / 1000 + 2) * 1000 ))
  specs="" acked=""
  for j in 1 2 3; do
    name="tr$trial-j$j"
    code=$(api "$L" POST /v1/scheduler/iso8601 "$(tick_job "$name" "$start")")
    if [ "$code" = 204 ]; then specs="$specs $name:$start:1000"; acked="$acked $name"; fi
  done
  sleep_until $(( start + 1000 ))
  faults=""
  n=$(( 1 + RANDOM % 2 ))
  for k in $(seq 1 "$n"); do
    fault
    faults="$faults $FAULT"
    sleep 0.$(( RANDOM % 10 ))
  done
  ensure_all
  wait_for 30 has_leader
  sleep 3
  L=$(leader)
  [ -n "$L" ] && settle "http://127.0.0.1:${PORT[$L]}" $acked
  if [ -z "$L" ]; then
    failed=$((failed + 1))
    echo "FAIL trial $trial:$faults | no leader 30 s after the faults"
    continue
  fi
  end=$(( $(now_ms) - 2000 ))
  lost=0
  for name in $acked; do
    [ "$(api "$L" GET "/v1/scheduler/job/$name")" = 200 ] || lost=$((lost + 1))
  done
  out=$(account "$start" "$end" $specs 2>&1)
  trial_result "$trial" "$faults" "$out" "$lost"
  for name in $acked; do api "$L" DELETE "/v1/scheduler/job/$name" >/dev/null; done
done

trial_totals
if [ -s "$tmp/failover" ]; then
  sort -n "$tmp/failover" | /usr/bin/python3 -c '
import sys
v = [int(x) for x in sys.stdin]
p = lambda q: v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
print("failover (leader killed -> first launch by the next leader): n %d, p50 %d ms, p99 %d ms, max %d ms" % (len(v), p(0.5), p(0.99), v[-1]))'
fi
echo "$passed passed, $failed failed"
