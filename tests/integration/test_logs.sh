#!/bin/bash
# The server's log says what happened to jobs and runs, one line each with
# the job and the run: created, replaced, disabled, enabled, deleted; a run
# failed (exit code), retried, timed out (maxCompletionTime), killed.  A run
# of a deleted job is not reported again at every restart.  --log_format
# json writes one JSON object per line (ts, level, msg, job, run).
#
#   CHRONOS=build/chronos bash tests/integration/test_logs.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init logs

log=$tmp/d1.log
in_log() { grep -qE "$1" "$log"; }
expect() { # NAME REGEX: the line appears within 20 s
  if wait_for 20 in_log "$2"; then ok "$1"; else bad "$1" "no line /$2/ in $(tail -5 "$log")"; fi
}
post() { api POST /v1/scheduler/iso8601 "$1" >/dev/null; }
later() { iso $(( $(now_ms) + 3600000 )); }

# ---- 1. Job and run lines in the text format ----------------------------------
if start_server "$tmp/d1"; then
  post "{\"name\":\"j1\",\"command\":\"true\",\"schedule\":\"R/$(later)/PT1H\"}"
  expect "job created" "job j1 created"
  post "{\"name\":\"j1\",\"command\":\"true\",\"schedule\":\"R/$(later)/PT1H\",\"disabled\":true}"
  expect "job replaced" "job j1 replaced"
  expect "job disabled" "job j1 disabled"
  post "{\"name\":\"j1\",\"command\":\"true\",\"schedule\":\"R/$(later)/PT1H\",\"disabled\":false}"
  expect "job enabled" "job j1 enabled"
  api DELETE /v1/scheduler/job/j1 >/dev/null
  expect "job deleted" "job j1 deleted"

  post "{\"name\":\"bad\",\"command\":\"false\",\"schedule\":\"R1/$(later)/PT1H\",\"retries\":1,\"retryDelaySeconds\":1}"
  api PUT /v1/scheduler/job/bad >/dev/null
  expect "a failed run: its exit code, run id and job" "run ct:[0-9]+:0:bad of job bad failed: exit 1"
  expect "the retry that follows" "run ct:[0-9]+:1:bad of job bad retries ct:[0-9]+:0:bad"
  expect "the retry's failure" "run ct:[0-9]+:1:bad of job bad failed: exit 1"

  post "{\"name\":\"slow\",\"command\":\"sleep 30\",\"schedule\":\"R1/$(later)/PT1H\",\"maxCompletionTime\":1}"
  api PUT /v1/scheduler/job/slow >/dev/null
  expect "a run past maxCompletionTime timed out" "run ct:[0-9]+:0:slow of job slow timed out"

  post "{\"name\":\"long\",\"command\":\"sleep 60\",\"schedule\":\"R1/$(later)/PT1H\"}"
  api PUT /v1/scheduler/job/long >/dev/null
  wait_for 20 in_log "launched ct:[0-9]+:0:long"
  sleep 0.5
  api DELETE /v1/scheduler/task/kill/long >/dev/null
  expect "a killed run" "run ct:[0-9]+:0:long of job long killed"

  # A run whose job is deleted while it runs: one line, then none at restarts.
  post "{\"name\":\"gone\",\"command\":\"sleep 60\",\"schedule\":\"R1/$(later)/PT1H\"}"
  api PUT /v1/scheduler/job/gone >/dev/null
  wait_for 20 in_log "launched ct:[0-9]+:0:gone"
  # Deleted while it runs: once the server has heard it is running (deleted
  # sooner, its RUNNING report also finds no job, a second line).
  gone_running() { http GET "/v1/runs?job=gone&state=running" && [[ $HTTP_BODY == *'"state":"running"'* ]]; }
  wait_for 20 gone_running
  api DELETE /v1/scheduler/job/gone >/dev/null
  expect "the deleted job" "job gone deleted"
  wait_for 20 in_log ":gone of a deleted job|unknown run.*:gone"
  stop_server
  gone_lines() { grep -cE "unknown run.*:gone|:gone of a deleted job" "$log"; }
  before=$(gone_lines)
  # What must not happen cannot be polled for: each restart gets a second
  # for the run manager's reports of what it finds in runs_dir.
  for i in 1 2; do start_server "$tmp/d1" >/dev/null; sleep 1; stop_server; done
  [ "$(gone_lines)" = "$before" ] && [ "$before" -le 1 ] &&
    ok "a deleted job's run is logged once ($before line), not again at each restart" \
    || bad "a deleted job's run logged again" "$(grep -E ":gone" "$log" | tail -4)"
else
  bad "server did not start" "$(tail -5 "$log")"
fi

# ---- 2. --log_format json ----------------------------------------------------
log=$tmp/d2.log
if start_server "$tmp/d2" --log_format json; then
  post "{\"name\":\"jf\",\"command\":\"exit 4\",\"schedule\":\"R1/$(later)/PT1H\"}"
  api PUT /v1/scheduler/job/jf >/dev/null
  expect "json: the failure's line" '"msg":"run ct:[0-9]+:0:jf of job jf failed: exit 4'
  stop_server
  if /usr/bin/python3 - "$log" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
fail = [o for o in objs if "failed: exit 4" in o["msg"]]
assert objs and all({"ts", "level", "msg"} <= o.keys() for o in objs), objs
assert fail and fail[0]["job"] == "jf" and fail[0]["run"].endswith(":0:jf"), fail
assert fail[0]["level"] == "warn", fail
assert any(o["msg"] == "job jf created" and o["job"] == "jf" for o in objs)
PY
  then ok "json: every line parses, with ts, level, msg, and job/run when known"
  else bad "json lines" "$(head -5 "$log")"; fi
else
  bad "server with --log_format json did not start" "$(tail -5 "$log")"
fi
"$CHRONOS" serve --log_format xml --data_dir "$tmp/d3" --http_port "$(free_port)" 2>"$tmp/e" &&
  bad "--log_format xml accepted" || { grep -q "log_format: 'xml' is not text or json" "$tmp/e" &&
  ok "--log_format xml refused, named" || bad "--log_format xml" "$(cat "$tmp/e")"; }
finish
