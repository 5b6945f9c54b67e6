#!/bin/bash
# Two chronos servers electing a leader through a real ZooKeeper, running
# their tasks on Mesos (the strict master double, found through ZooKeeper
# as zk://.../mesos): the leader is killed (kill -9) with a run in flight;
# the other server takes over, subscribes with the framework id the first
# one stored, reconciles the run instead of launching it again, and the run
# ends once.  Jobs due every second go on across the failover with every
# instant launched once or ledgered (tests/ha/check.py), and the double
# records no protocol violation.  Every process is stopped by pid on exit.
#
#   CHRONOS=build/chronos bash tests/integration/test_mesos_ha.sh
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/chronos}")
. "$REPO/tests/ha/lib.sh"
ha_init
PY=/usr/bin/python3
DOUBLE=""
trap 'kill $DOUBLE 2>/dev/null; sleep 0.3; kill -9 $DOUBLE 2>/dev/null; ha_cleanup' EXIT

zk_start || { bad "ZooKeeper did not start"; finish; }
$PY "$REPO/tests/mesos/double.py" --work-dir "$tmp/double" --agents 2 --heartbeat 1 \
  --alloc-interval 0.3 --update-retry 2 --zk "$ZKH/mesos" >"$tmp/double.out" 2>"$tmp/double.log" &
DOUBLE=$!
wait_for 20 test -s "$tmp/double.out" || { bad "the double did not start" "$(tail -3 "$tmp/double.log")"; finish; }
DPORT=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$tmp/double.out")
dq() { curl -s -m 5 "http://127.0.0.1:$DPORT/double/$1" | $PY -c "import json,sys; v=json.load(sys.stdin); print($2)"; }
tasks_of() { dq tasks "'\\n'.join(t['task_id'] for t in v if t['task_id'].split(':')[3] == '$1')"; }

for i in 1 2; do
  srv_start "$i" --master "zk://$ZKH/mesos" || bad "server $i did not start" "$(tail -3 "$tmp/s$i.log")"
done
wait_for 30 has_leader && ok "one of two servers leads" || { bad "no leader"; finish; }
L=$(leader)
O=$(( 3 - L ))
wait_for 20 eval '[ "$(dq state "v[\"subscribed\"]")" = True ]' &&
  ok "the leader subscribed to the master it found through ZooKeeper" || bad "not subscribed"
fwid=$(dq state 'v["framework_id"]')

start=$(( ($(now_ms) / 1000 + 2) * 1000 ))
code=$(api "$L" POST /v1/scheduler/iso8601 "$(tick_job tick "$start")")
[ "$code" = 204 ] && ok "a job due every second" || bad "tick" "$code $(cat "$tmp/body")"
code=$(api "$L" POST /v1/scheduler/iso8601 \
  '{"name":"slow","command":"sleep 4","schedule":"R1//PT1H","cpus":0.1,"mem":16,"retries":0}')
wait_for 20 eval '[ -n "$(tasks_of slow)" ] && [ "$(dq tasks "[t[\"state\"] for t in v if t[\"task_id\"].split(\":\")[3] == \"slow\"][0]")" = TASK_RUNNING ]' &&
  ok "slow is running on an agent" || bad "slow never ran"
sleep 1
srv_kill9 "$L"
wait_for 30 eval '[ "$(leader)" = "$O" ]' && ok "the other server leads after the leader's kill -9" ||
  bad "no new leader"
wait_for 30 eval '[ "$(dq state "v[\"subscribed\"]")" = True ]' &&
  [ "$(dq state 'v["framework_id"]')" = "$fwid" ] &&
  ok "it subscribed with the stored framework id" || bad "framework id" "$(dq state 'v["framework_id"]') vs $fwid"
succeeded() { curl -s "http://127.0.0.1:${PORT[$O]}/v1/scheduler/job/slow" | grep -q '"successCount":1'; }
wait_for 30 succeeded && ok "slow ends as a success under the new leader" ||
  bad "slow" "$(curl -s "http://127.0.0.1:${PORT[$O]}/v1/scheduler/job/slow" | head -c 300)"
n=$(tasks_of slow | wc -l)
[ "$n" = 1 ] && ok "one task for it at the master: reconciled, not launched again" ||
  bad "slow tasks" "$n"
grep -q "RECONCILE" <<<"$(dq calls "[c['type'] for c in v]")" && ok "the new leader reconciled" ||
  bad "no RECONCILE"

sleep 4
end=$(( $(now_ms) - 2500 ))
out=$(account "$start" "$end" "tick:$start:1000")
echo "$out" | grep -q "duplicate 0 missed 0 both 0" && ok "every instant of tick launched once or ledgered ($(echo "$out" | grep '^total:'))" ||
  bad "tick accounting" "$out"
viol=$(dq violations 'len(v)')
[ "$viol" = 0 ] && ok "no protocol violation" || bad "violations" "$(dq violations 'v[:3]')"
srv_stop "$O"
finish
