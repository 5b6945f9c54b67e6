#!/bin/bash
# Deleting a job others depend on, through the real binary: refused by
# default (400 naming the dependents), and with ?force=true (`chronos delete
# --force`) done as Chronos did, in one store batch: a dependent parent's
# children take its parents, a scheduled parent's child left without parents
# takes its schedule and zone, every other field of a child is kept.  The
# result survives a restart and a kill -9 right after the answer, and the
# rewritten graph runs: a child fires after its new parent.
#
#   CHRONOS=build/chronos bash tests/integration/test_delete_force.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init delforce
PY=/usr/bin/python3
data=$tmp/data
URL=

post() { # post PATH JSON: asserts 204
  local code; code=$(api POST "$1" "$2")
  [ "$code" = 204 ] || { bad "POST $1" "$code $(cat "$tmp/body")"; return 1; }
}
# jq_job NAME EXPR: EXPR (python, over the job `d`) of GET job/NAME is true.
jq_job() {
  curl -s "$URL/v1/scheduler/job/$1" >"$tmp/job.json"
  $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$tmp/job.json"
}
exists() { [ "$(api GET "/v1/scheduler/job/$1")" = 200 ]; }

if ! start_server "$data"; then
  bad "the server did not start" "$(tail -5 "$data.log")"
  finish
fi
URL="http://127.0.0.1:$PORT"
FAR="R/2030-01-01T00:00:00Z/PT1H"
post /v1/scheduler/iso8601 "{\"name\":\"g\",\"command\":\"true\",\"schedule\":\"$FAR\"}"
post /v1/scheduler/dependency '{"name":"p","command":"true","parents":["g"]}'
post /v1/scheduler/dependency "{\"name\":\"c1\",\"command\":\"echo c1 >> $tmp/c1.out\",\"parents\":[\"p\"]}"
post /v1/scheduler/dependency '{"name":"c2","command":"true","parents":["p","g"],"retries":5}'
post /v1/scheduler/iso8601 '{"name":"s","command":"true","schedule":"R/2030-06-01T12:00:00Z/P1D","scheduleTimeZone":"Europe/Paris"}'
post /v1/scheduler/dependency '{"name":"k","command":"true","parents":["s"],"description":"kept","environmentVariables":[{"name":"A","value":"1"}],"concurrent":true}'

# ---- The default stays the safe refusal -----------------------------------------
code=$(api DELETE /v1/scheduler/job/p)
msg=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["message"])' "$tmp/body" 2>/dev/null)
[ "$code" = 400 ] && [[ "$msg" == "job 'p' has dependents: c1, c2 ("*"?force=true"* ]] &&
  ok "DELETE of a parent is refused with 400, naming its dependents and ?force=true" \
  || bad "refusal" "$code $msg"
exists p && jq_job c1 "d['parents'] == ['p']" && ok "the refused delete changed nothing" \
  || bad "the refused delete changed something"
code=$(api DELETE "/v1/scheduler/job/p?force=yes")
[ "$code" = 400 ] && grep -q "force: 'yes' is not true or false" "$tmp/body" && exists p &&
  ok "?force=yes is a 400 naming force" || bad "?force=yes" "$code $(cat "$tmp/body")"
"$CHRONOS" delete p --server "$URL" >"$tmp/out" 2>"$tmp/err"
[ $? = 1 ] && grep -q "has dependents: c1, c2" "$tmp/err" &&
  ok "chronos delete of a parent: exit 1, the server's message" \
  || bad "chronos delete without --force" "$(cat "$tmp/out" "$tmp/err")"

# ---- A dependent parent: its children take its parents --------------------------
"$CHRONOS" delete --force p --server "$URL" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && [ "$(cat "$tmp/out")" = "deleted p" ] && ok "chronos delete --force p: deleted p" \
  || bad "delete --force" "rc $rc $(cat "$tmp/out" "$tmp/err")"
! exists p && ok "p is gone" || bad "p still exists"
jq_job c1 "d['parents'] == ['g'] and 'schedule' not in d" &&
  ok "c1 (after p) now runs after p's parent g" || bad "c1" "$(cat "$tmp/job.json")"
jq_job c2 "d['parents'] == ['g'] and d['retries'] == 5" &&
  ok "c2 (after p and g) runs after g once, its fields kept" || bad "c2" "$(cat "$tmp/job.json")"
grep -q "job c1 now runs after g (its parent p was deleted with force)" "$data.log" &&
  ok "the server's log says what became of each child" || bad "log line" "$(grep -i 'c1' "$data.log" | tail -3)"

# ---- A scheduled parent: a child left without parents takes its schedule --------
code=$(api DELETE "/v1/scheduler/job/s?force=true")
[ "$code" = 204 ] && ok "DELETE s?force=true: 204" || bad "DELETE s?force=true" "$code $(cat "$tmp/body")"
kill9_server 2>/dev/null # the answer came once the batch was durable: a kill -9 now loses nothing
start_server "$data" || bad "the server did not restart" "$(tail -5 "$data.log")"
! exists s && ! exists p && ok "after a kill -9 and a restart, s and p stay deleted" \
  || bad "a deleted parent came back"
jq_job k "'parents' not in d and d['schedule'] == 'R/2030-06-01T12:00:00Z/P1D' and d['scheduleTimeZone'] == 'Europe/Paris'" &&
  ok "k (after s only) became a scheduled job with s's schedule and zone" || bad "k" "$(cat "$tmp/job.json")"
jq_job k "d['description'] == 'kept' and d['environmentVariables'] == [{'name':'A','value':'1'}] and d['concurrent'] is True" &&
  ok "k kept its own fields (Chronos lost them)" || bad "k's fields" "$(cat "$tmp/job.json")"
[ "$(status_field k nextRunAt)" = "2030-06-01T10:00:00.000Z" ] &&
  ok "k's next instant is s's: 12:00 in Paris" || bad "k's next instant" "$(status_field k nextRunAt)"
jq_job c1 "d['parents'] == ['g']" && jq_job c2 "d['parents'] == ['g']" &&
  ok "after the restart c1 and c2 still run after g" || bad "c1/c2 after restart" "$(cat "$tmp/job.json")"

# ---- The rewritten graph runs: g succeeds, c1 fires -------------------------------
code=$(api PUT /v1/scheduler/job/g)
[ "$code" = 204 ] || bad "PUT job/g" "$code"
wait_for 20 has_lines "$tmp/c1.out" 1 && ok "a run of g fires c1, its new child" \
  || bad "c1 never ran after g" "$(curl -s "$URL/v1/runs?limit=5")"

# ---- A forced delete of a job without dependents is a delete ----------------------
code=$(api DELETE "/v1/scheduler/job/k?force=1")
[ "$code" = 204 ] && ! exists k && ok "?force=1 on a job without dependents deletes it" \
  || bad "force on a leaf" "$code $(cat "$tmp/body")"
stop_server
finish
