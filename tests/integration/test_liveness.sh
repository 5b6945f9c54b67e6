#!/bin/bash
# Liveness through the real binary: no job can stall the others.  A job that
# needs more than this host has is refused at POST, naming the field and the
# limit; one that fits the host but not now waits without holding back a job
# due every second, says why in /v1/runs, `chronos runs` and its ledger, and
# gives its place back at once when deleted or killed; schedules shorter
# than --min_period are refused.  Every process started here is stopped by
# pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_liveness.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init live

py() { /usr/bin/python3 -I -S -c "$@"; }   # -I -S: the standard library only, twice as fast to start
# run_field JOB KEY: KEY of the job's newest run in /v1/runs.
run_field() {
  curl -s "http://127.0.0.1:$PORT/v1/runs?job=$1&state=active" |
    py "import json,sys; r=json.load(sys.stdin); print(r[0].get('$2') if r else '')"
}
# active JOB: how many active runs /v1/runs lists for JOB ("gone": no such job).
active() {
  curl -s "http://127.0.0.1:$PORT/v1/runs?job=$1&state=active" |
    py "import json,sys; r=json.load(sys.stdin); print(len(r) if isinstance(r, list) else 'gone')"
}
waiting_reason() { run_field "$1" reason | grep -q "^waiting for resources: needs cpus $2"; }
ticks_after() { [ "$(awk -v t="$2" '$1 > t' "$1" 2>/dev/null | wc -l)" -ge "$3" ]; }

data=$tmp/d1
# A host of 2 cpus: one job holds 1.5 of them for a while.
if ! start_server "$data" --local_cpus 2; then
  bad "server did not start" "$(tail -5 "$data.log")"
  finish
fi
export CHRONOS_URL=http://127.0.0.1:$PORT

# ---- 1. What can never fit is refused, naming the field and the limit ---------
out=$("$CHRONOS" create big --command='sleep 1' --mesos-resources=cpus=64 2>&1); rc=$?
[ "$rc" = 1 ] && [ "$out" = "chronos: cpus: 64 exceeds what this host offers (2)" ] &&
  ok "chronos create of cpus=64 on a 2-cpu host is refused: $out" || bad "big create" "rc $rc: $out"
code=$(api POST /v1/scheduler/iso8601 '{"name":"big","command":"true","mem":10000000}')
[ "$code" = 400 ] && grep -q '"mem: 1e+07 MB exceeds what this host offers' "$tmp/body" &&
  ok "POST with more mem than the host has: 400 naming mem" || bad "big mem" "$code $(cat "$tmp/body")"
code=$(api GET /v1/scheduler/job/big)
[ "$code" = 400 ] && ok "the refused job was not stored" || bad "refused job stored" "$code"

# ---- 2. A job that fits the host but not now waits; a small one keeps going ----
tick=$tmp/tick.out
code=$(api POST /v1/scheduler/iso8601 "{\"name\":\"hog\",\"command\":\"sleep 30\",\"cpus\":1.5}")
[ "$code" = 204 ] || bad "POST hog" "$code $(cat "$tmp/body")"
wait_for 10 bash -c "curl -s 'http://127.0.0.1:$PORT/v1/runs?job=hog&state=running' | grep -q running" ||
  bad "hog never ran"
start=$(( $(now_ms) + 1000 ))
code=$(api POST /v1/scheduler/iso8601 "{\"name\":\"tick\",\"command\":\"date +%s%3N >> $tick\",\
\"schedule\":\"R/$(iso $start)/PT1S\",\"cpus\":0.1}")
[ "$code" = 204 ] || bad "POST tick" "$code $(cat "$tmp/body")"
wait_for 10 has_lines "$tick" 1 || bad "tick never ran"
code=$(api POST /v1/scheduler/iso8601 '{"name":"mid","command":"true","cpus":1}')
[ "$code" = 204 ] || bad "POST mid" "$code $(cat "$tmp/body")"
if wait_for 10 waiting_reason mid 1; then
  ok "mid waits and /v1/runs says why: $(run_field mid reason)"
else
  bad "mid's wait reason" "$(run_field mid state) '$(run_field mid reason)'"
fi
t0=$(now_ms)
wait_for 10 ticks_after "$tick" "$t0" 4 && ok "tick runs every second while mid waits" ||
  bad "tick stalled behind mid" "$(awk -v t="$t0" '$1 > t' "$tick" | wc -l) runs since"
"$CHRONOS" runs mid >"$tmp/runs.out" 2>&1
grep -q "queued .*waiting for resources: needs cpus 1" "$tmp/runs.out" &&
  ok "chronos runs shows the wait reason" || bad "chronos runs" "$(cat "$tmp/runs.out")"

# A second instant of a job whose run waits is ledgered with the reason.
code=$(api POST /v1/scheduler/iso8601 "{\"name\":\"fat\",\"command\":\"true\",\"cpus\":1,\
\"schedule\":\"R/$(iso $(( $(now_ms) + 1000 )))/PT1S\"}")
[ "$code" = 204 ] || bad "POST fat" "$code $(cat "$tmp/body")"
ledgered() { curl -s "http://127.0.0.1:$PORT/v1/scheduler/job/fat/ledger" | grep -q coalesced-waiting-for-resources; }
wait_for 10 ledgered && ok "fat's next instants are ledgered as coalesced-waiting-for-resources" ||
  bad "fat ledger" "$(curl -s "http://127.0.0.1:$PORT/v1/scheduler/job/fat/ledger")"
active_fat=$(active fat)
[ "$active_fat" = 1 ] && ok "fat keeps one waiting run, not one per instant" || bad "fat runs pile up" "$active_fat"

# ---- 3. Deleting or killing a waiting job gives its place back at once --------
code=$(api DELETE /v1/scheduler/job/mid)
n=$(active mid)
[ "$code" = 204 ] && [ "$n" = gone ] && ok "deleting the waiting job removes it and its run" ||
  bad "delete mid" "$code, $n active"
id=$(run_field fat id)
code=$(api DELETE /v1/scheduler/task/kill/fat)
still=$(curl -s "http://127.0.0.1:$PORT/v1/runs?job=fat&state=active" | grep -c "\"$id\"")
state=$(curl -s "http://127.0.0.1:$PORT/v1/runs/$id" | py "import json,sys; print(json.load(sys.stdin).get('state'))")
[ "$code" = 204 ] && [ -n "$id" ] && [ "$still" = 0 ] && [ "$state" = killed ] &&
  ok "killing fat's waiting run ends it at once (killed)" || bad "kill fat" "$code, $id still $still, $state"
api DELETE /v1/scheduler/job/fat >/dev/null
api DELETE /v1/scheduler/job/hog >/dev/null
code=$(api POST /v1/scheduler/iso8601 '{"name":"mid2","command":"true","cpus":1.8}')
wait_for 10 bash -c "curl -s 'http://127.0.0.1:$PORT/v1/scheduler/job/mid2' | grep -q '\"successCount\":1'" &&
  ok "once the hog is gone a job needing 1.8 cpus runs" || bad "mid2 never ran" "$(run_field mid2 reason)"

# ---- 4. Schedules shorter than --min_period are refused -------------------------
code=$(api POST /v1/scheduler/iso8601 '{"name":"storm","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT0.001S"}')
[ "$code" = 400 ] && grep -q '"schedule: instants 0.001 s apart; the minimum is 1 s' "$tmp/body" &&
  ok "PT0.001S is refused naming schedule and the minimum" || bad "storm" "$code $(cat "$tmp/body")"
code=$(api POST /v1/scheduler/iso8601 '{"name":"ok1s","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT1S"}')
[ "$code" = 204 ] && ok "PT1S is accepted at the default minimum" || bad "PT1S" "$code $(cat "$tmp/body")"
stop_server
if start_server "$tmp/d2" --min_period 300; then
  code=$(api POST /v1/scheduler/iso8601 '{"name":"c","command":"true","schedule":"*/2 * * * *"}')
  [ "$code" = 400 ] && grep -q "instants 120 s apart; the minimum is 300 s" "$tmp/body" &&
    ok "--min_period 300 refuses a cron every 2 minutes" || bad "cron storm" "$code $(cat "$tmp/body")"
  code=$(api POST /v1/scheduler/iso8601 '{"name":"c","command":"true","schedule":"*/5 * * * *"}')
  [ "$code" = 204 ] && ok "and accepts one every 5 minutes" || bad "cron 5 min" "$code $(cat "$tmp/body")"
  stop_server
else
  bad "server with --min_period did not start" "$(tail -5 "$tmp/d2.log")"
fi
# ---- 5. A deleted job leaves nothing under runs/, now or at the next start ------
data=$tmp/d4
if start_server "$data"; then
  nap="sleep 300.$$"   # unique: other tests on this machine may sleep too
  api POST /v1/scheduler/iso8601 "{\"name\":\"doomed\",\"command\":\"$nap\"}" >/dev/null
  wait_for 10 bash -c "curl -s 'http://127.0.0.1:$PORT/v1/runs?job=doomed&state=running' | grep -q running" ||
    bad "doomed never ran"
  api POST /v1/scheduler/iso8601 '{"name":"quick","command":"true"}' >/dev/null
  code=$(api DELETE /v1/scheduler/job/doomed)
  gone() { ! ls "$data/runs" | grep -q doomed && [ ! -e "$data/runs/.done/doomed" ]; }
  [ "$code" = 204 ] && wait_for 15 gone && ok "deleting a running job removes its run directory once the kill is done" ||
    bad "run dir of a deleted job" "$code; $(ls -a "$data/runs" "$data/runs/.done" 2>&1 | tr '\n' ' ')"
  pgrep -f "$nap" >/dev/null && bad "the deleted job's task survived" || ok "and its task is gone"
  # A run directory left by a deleted job (a crash before it was collected):
  # the next start removes it instead of saying "unknown run" forever.
  # quick's run is the template; under load it may not be archived yet.
  wait_for 15 bash -c "ls '$data/runs/.done/quick' 2>/dev/null | grep -q ." ||
    bad "quick's run was never archived" "$(ls -a "$data/runs" "$data/runs/.done" 2>&1 | tr '\n' ' ')"
  stop_server
  id=$(ls "$data/runs/.done/quick" 2>/dev/null | head -1)
  if [ -n "$id" ]; then
    ghost=${id%:quick}:ghost
    cp -r "$data/runs/.done/quick/$id" "$data/runs/$ghost"
    sed -i 's/"quick"/"ghost"/g' "$data/runs/$ghost/spec"
    start_server "$data"
    wait_for 10 bash -c "! ls '$data/runs' | grep -q ghost" && ok "a leftover run of a job that does not exist is removed at start" ||
      bad "leftover run dir stays" "$(ls "$data/runs")"
    stop_server
    start_server "$data" && sleep 1
    stop_server
    n=$(awk '/loaded/{n=0} /unknown run/{n++} END{print n+0}' "$data.log")
    [ "$n" = 0 ] && ok "the next start says nothing of unknown runs" || bad "unknown runs at the last start" "$n"
  else
    bad "no archived run of quick to copy" "$(ls -a "$data/runs/.done" 2>&1)"
  fi
else
  bad "server did not start" "$(tail -5 "$data.log")"
fi

# ---- 6. DELETE /v1/runs/{id} kills that run, not the job's others -------------
data=$tmp/d5
if start_server "$data"; then
  nap="sleep 301.$$"
  for j in k1 k2; do
    api POST /v1/scheduler/iso8601 "{\"name\":\"$j\",\"command\":\"$nap\",\"cpus\":0.1,\"mem\":16}" >/dev/null
  done
  running_of() { curl -s "http://127.0.0.1:$PORT/v1/runs?job=$1&state=running" |
    /usr/bin/python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin)))'; }
  wait_for 15 eval '[ -n "$(running_of k1)" ] && [ -n "$(running_of k2)" ]' || bad "k1 and k2 never ran"
  id1=$(running_of k1)
  code=$(api DELETE "/v1/runs/$id1")
  run_state() { curl -s "http://127.0.0.1:$PORT/v1/runs/$1" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
  [ "$code" = 204 ] && wait_for 15 eval '[ "$(run_state "$id1")" = killed ]' &&
    ok "DELETE /v1/runs/{id} kills that run" || bad "kill one run" "$code $(run_state "$id1")"
  [ -n "$(running_of k2)" ] && ok "and another job's run goes on" || bad "k2's run was killed too"
  code=$(api DELETE "/v1/runs/$id1")
  [ "$code" = 404 ] && grep -q "is not active" "$tmp/body" &&
    ok "a run that ended: 404, not active" || bad "kill an ended run" "$code $(cat "$tmp/body")"
  code=$(api DELETE "/v1/runs/ct:1:0:nosuchjob")
  [ "$code" = 404 ] && ok "a run of a job that does not exist: 404" || bad "unknown run" "$code"
  code=$(api DELETE "/v1/runs/$id1/stdout")
  [ "$code" = 405 ] && ok "DELETE on a run's stdout: 405" || bad "DELETE stdout" "$code"
  api DELETE /v1/scheduler/job/k2 >/dev/null
  stop_server
else
  bad "server did not start" "$(tail -5 "$data.log")"
fi

out=$("$CHRONOS" serve --data_dir "$tmp/d3" --min_period soon 2>&1); rc=$?
[ "$rc" != 0 ] && echo "$out" | grep -q "min_period: 'soon'" && ok "a bad --min_period is refused at start" ||
  bad "bad min_period" "rc $rc: $out"
finish
