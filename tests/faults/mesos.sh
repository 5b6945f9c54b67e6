#!/bin/bash
# mesos.sh - fault trials of chronos on Mesos: one `chronos serve --master
# zk://.../mesos` against the strict Mesos master double (tests/mesos/double.py,
# two agents that run tasks as local processes) registered in a real
# ZooKeeper.  Each trial creates jobs due every
# second, applies a random schedule of faults - chronos killed (kill -9) or
# restarted, the SUBSCRIBE stream dropped, the master restarted (it forgets
# the stream, keeps the tasks, answers 503 while it recovers), the master
# failing over through ZooKeeper (its group member leaves and comes back:
# chronos follows the leader's node and subscribes again), heartbeats
# frozen, calls answered 503, status updates duplicated or delayed - lets
# everything settle and counts, from the tasks' own output files and the
# jobs' ledgers: instants launched twice (duplicate), instants neither
# launched nor ledgered (missed), acknowledged jobs that vanished (lost); and
# at the end the double's protocol violations and unacknowledged updates.
#
#   TRIALS=200 CHRONOS=build/test/chronos bash tests/faults/mesos.sh
#
# Prints one line per trial, the totals and "N passed, N failed".  SEED makes
# the fault schedule repeatable; FAULTS=kind,kind draws only among those.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/test/chronos}")
TRIALS=${TRIALS:-3}
SEED=${SEED:-$$}
PY=/usr/bin/python3
. "$REPO/tests/lib.sh"
. "$REPO/tests/faults/trials.sh"
RANDOM=$SEED
lib_init faults-mesos
mkdir -p "$tmp/out" "$tmp/ledger"
echo "mesos fault trials: $TRIALS, seed $SEED, binary $CHRONOS"
DOUBLE=""
trap 'kill $DOUBLE 2>/dev/null; sleep 0.3; kill -9 $DOUBLE 2>/dev/null; "$REPO/tests/zk/zk.sh" stop "$tmp/zk" >/dev/null 2>&1; lib_cleanup' EXIT

ZKH=$("$REPO/tests/zk/zk.sh" start "$tmp/zk" 1) || { echo "ZooKeeper did not start"; echo "0 passed, 1 failed"; exit 1; }
$PY "$REPO/tests/mesos/double.py" --work-dir "$tmp/double" --agents 2 --heartbeat 1 \
  --alloc-interval 0.3 --update-retry 2 --zk "$ZKH/mesos" >"$tmp/double.out" 2>"$tmp/double.log" &
DOUBLE=$!
wait_for 20 test -s "$tmp/double.out" || { echo "the double did not start"; echo "0 passed, 1 failed"; exit 1; }
DPORT=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$tmp/double.out")
ctl() { curl -s -m 5 -X POST -d "${2:-{\}}" "http://127.0.0.1:$DPORT/double/$1" >/dev/null; }
dq() { curl -s -m 5 "http://127.0.0.1:$DPORT/double/$1" | $PY -c "import json,sys; v=json.load(sys.stdin); print($2)"; }

DATA=$tmp/data
SERVER_LOG=$tmp/server.log
serve() { start_server "$DATA" --master "zk://$ZKH/mesos"; }
healthy() { [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ]; }
subscribed() { [ "$(dq state 'v["subscribed"]')" = True ]; }
tick() { # tick NAME START_MS: a job due every second; its task writes its instant
  echo "{\"name\":\"$1\",\"command\":\"echo \$CHRONOS_JOB_RUN_TIME >> $tmp/out/$1\",\"schedule\":\"R/$(iso "$2")/PT1S\",\"retries\":0,\"cpus\":0.1,\"mem\":16,\"disk\":0}"
}
KINDS=(kill9 restart drop-stream master-restart master-failover freeze fail503 dup-updates delay-updates)
if [ -n "${FAULTS:-}" ]; then IFS=, read -r -a KINDS <<<"$FAULTS"; fi

fault() {
  FAULT=${KINDS[$(( RANDOM % ${#KINDS[@]} ))]}
  case $FAULT in
    kill9) sleep 0.$(( RANDOM % 10 )); kill9_server; serve >/dev/null ;;
    restart) stop_server; serve >/dev/null ;;
    drop-stream) ctl drop_stream ;;
    master-restart) ctl restart "{\"recovery_seconds\": 0.$(( 2 + RANDOM % 8 ))}" ;;
    master-failover) ctl zk/resign; sleep "0.$(( 2 + RANDOM % 8 ))"; ctl zk/join ;;
    freeze) ctl freeze '{"on": true}'; sleep "$(( 2 + RANDOM % 5 ))"; ctl freeze '{"on": false}' ;;
    fail503) ctl fail_next "{\"count\": $(( 1 + RANDOM % 5 )), \"status\": 503}" ;;
    dup-updates) ctl duplicate_updates "{\"count\": $(( 1 + RANDOM % 6 ))}" ;;
    delay-updates) ctl delay_updates '{"seconds": 1.5}'; sleep 2; ctl delay_updates '{"seconds": 0}' ;;
  esac
}

serve || { echo "the server did not start: $(tail -5 "$SERVER_LOG")"; echo "0 passed, 1 failed"; exit 1; }
ready() { wait_for 60 healthy; wait_for 30 subscribed; }
MARGIN_MS=3000
# Five calls answered 503 in a row can cost five backoffs (up to 15 s each):
# a run late by that much is late, not missed.
SETTLE_S=90
one_server_trials
trial_totals
# The protocol, over every trial: no violation, every update acknowledged.
sleep 3
viol=$(dq violations 'len(v)')
unacked=$(dq acks 'len([u for u in v["unacked"] if u["state"] not in ("TASK_RUNNING", "TASK_STARTING")])')
echo "        protocol violations $viol, unacknowledged terminal updates $unacked"
if [ "$viol" != 0 ]; then
  failed=$((failed + 1))
  dq violations '"\n".join("     %s: %s" % (x["kind"], x["message"]) for x in v[:10])'
fi
echo "$passed passed, $failed failed"
