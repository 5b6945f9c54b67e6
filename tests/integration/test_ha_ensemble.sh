#!/bin/bash
# Three `chronos serve` on a 3-node ZooKeeper ensemble (tests/ha/lib.sh):
# losing one ZooKeeper server changes nothing visible (quorum holds); losing
# a second one partitions every chronos server from a quorum, so no server
# may lead and nothing may be launched; when the quorum is back one server
# leads again and every instant is accounted for (launched once, or ledgered
# as coalesced while no leader ran).  Every process is stopped by pid.
#
#   CHRONOS=build/chronos bash tests/integration/test_ha_ensemble.sh
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/chronos}")
. "$REPO/tests/ha/lib.sh"
lines() { cat "$tmp"/out/* 2>/dev/null | wc -l; }

ha_init
zk_start 3 || { bad "a 3-node ZooKeeper ensemble starts"; finish; }
ok "a 3-node ZooKeeper ensemble starts"
for i in 1 2 3; do srv_start "$i" || bad "server $i starts"; done
check "a leader is elected on the ensemble" wait_for 30 has_leader
L=$(leader)
START=$(( ($(now_ms) / 1000 + 3) * 1000 ))
for j in e1 e2; do
  code=$(api "$L" POST /v1/scheduler/iso8601 "$(tick_job "$j" "$START")")
  [ "$code" = 204 ] || bad "create $j" "status $code"
done
SPECS="e1:$START:1000 e2:$START:1000"
sleep_until $(( START + 3000 ))

# One ZooKeeper server down: a quorum (2 of 3) remains.
"$REPO/tests/zk/zk.sh" kill "$tmp/zk" 1
sleep 4
check "with one ZooKeeper server down a leader still leads" wait_for $(( ST / 1000 + 15 )) has_leader
check "one ZooKeeper server down: every instant once" \
  settled "$START" $(( $(now_ms) - 2000 )) $SPECS

# A second one down: no quorum, the chronos servers are partitioned from it.
"$REPO/tests/zk/zk.sh" kill "$tmp/zk" 2
no_leader() { [ "$(leaders)" = 0 ]; }
check "without a quorum no server leads (fenced)" wait_for $(( ST / 1000 + 10 )) no_leader
sleep 1
before=$(lines)
sleep 3
check "without a quorum nothing is launched" test "$(lines)" = "$before"
check "no two servers ever lead at once" test "$(leaders)" -le 1

# The quorum back.
"$REPO/tests/zk/zk.sh" restart "$tmp/zk" 1 || bad "ZooKeeper server 1 restarts"
"$REPO/tests/zk/zk.sh" restart "$tmp/zk" 2 || bad "ZooKeeper server 2 restarts"
check "with the quorum back a server leads again" wait_for 40 has_leader
check "exactly one" test "$(leaders)" = 1
sleep 4
check "after the partition: every instant launched once or ledgered" \
  settled "$START" $(( $(now_ms) - 2000 )) $SPECS
finish
