# trials.sh - what both fault-trial scripts (run.sh, local.sh) share: the
# verdict of a trial from tests/ha/check.py's accounting and the acknowledged
# jobs still there, its line, and the totals.  Sourced.

passed=0 failed=0
tot_dup=0 tot_missed=0 tot_lost=0 tot_inst=0 tot_launched=0 tot_ledgered=0

# trial_result TRIAL "FAULTS" "CHECK_OUTPUT" LOST: counts the trial (it passes
# with no duplicate, missed or both-launched-and-ledgered instant and no lost
# job) and prints its line, with check.py's detail when it fails.
trial_result() {
  local trial=$1 faults=$2 out=$3 lost=$4 totals verdict
  totals=$(echo "$out" | grep '^total:')
  num() { local v; v=$(echo "$totals" | sed -nE "s/.* $1 ([0-9]+).*/\1/p"); echo "${v:-0}"; }
  local dup missed both inst launched ledgered
  dup=$(num duplicate) missed=$(num missed) both=$(num both)
  inst=$(num instants) launched=$(num launched) ledgered=$(num ledgered)
  tot_dup=$((tot_dup + dup + both)) tot_missed=$((tot_missed + missed)) tot_lost=$((tot_lost + lost))
  tot_inst=$((tot_inst + inst)) tot_launched=$((tot_launched + launched))
  tot_ledgered=$((tot_ledgered + ledgered))
  if [ "$((dup + missed + both + lost))" -eq 0 ] && [ -n "$totals" ]; then
    passed=$((passed + 1)); verdict=ok
  else
    failed=$((failed + 1)); verdict=FAIL
  fi
  printf '%-4s trial %3d:%s | instants %s launched %s ledgered %s dup %s missed %s lost %s\n' \
    "$verdict" "$trial" "$faults" "$inst" "$launched" "$ledgered" "$((dup + both))" "$missed" "$lost"
  [ "$verdict" = FAIL ] && echo "$out" | sed 's/^/     /'
  [ "$verdict" = ok ]
}

# settle URL JOB...: waits (up to SETTLE_S, 40 s) until no run of these jobs waits to be
# launched or is being launched: a run that could not start during a fault (a
# full disk: it is tried again after a pause of up to 10 s; a lost ACCEPT on
# Mesos: found by reconciliation) is late, not missed, and the accounting
# must not count it before it had its chance.
settle() {
  local url=$1; shift
  waiting() {
    local n=0 j due past=$(( $(now_ms) - 1000 ))
    for j in "$@"; do
      curl -s -m 5 "$url/v1/runs?job=$j&state=queued" | grep -q '"id"' && n=$((n + 1))
      # Launching: only the runs of instants already past (a launch held
      # for its instant, ahead of it, is on time).
      for due in $(curl -s -m 5 "$url/v1/runs?job=$j&state=launching" | grep -o '"id":"ct:[0-9]*' |
                   grep -o '[0-9]*$'); do
        [ "$due" -lt "$past" ] && n=$((n + 1))
      done
    done
    [ "$n" = 0 ]
  }
  wait_for "${SETTLE_S:-40}" waiting "$@"
}

trial_totals() {
  echo "totals: trials $TRIALS, instants $tot_inst, launched $tot_launched, ledgered $tot_ledgered"
  echo "        duplicate $tot_dup, missed $tot_missed, lost jobs $tot_lost"
}

# one_server_trials: the trials of local.sh and mesos.sh, one server at
# $PORT: each trial makes two jobs due every second from the next whole
# second (tick NAME START_MS gives a job's JSON), applies one or two faults
# (fault sets FAULT to its name), waits for `ready` (the server healthy, and
# whatever else the script needs), lets runs settle, and accounts for every
# instant from START to SETTLED - MARGIN_MS (tests/ha/check.py) and for
# every acknowledged job; then deletes the jobs (and $EXTRA_JOBS).
one_server_trials() {
  local trial start specs acked name code faults k end lost out
  for trial in $(seq 1 "$TRIALS"); do
    server_alive || serve >/dev/null
    ready
    start=$(( ($(now_ms) / 1000 + 2) * 1000 ))
    specs="" acked=""
    for j in 1 2; do
      name="tr$trial-j$j"
      code=$(api POST /v1/scheduler/iso8601 "$(tick "$name" "$start")")
      if [ "$code" = 204 ]; then specs="$specs $name:$start:1000"; acked="$acked $name"; fi
    done
    sleep_until $(( start + 1000 ))
    faults=""
    for k in $(seq 1 $(( 1 + RANDOM % 2 ))); do
      fault
      faults="$faults $FAULT"
    done
    server_alive || serve >/dev/null
    ready
    sleep 3
    settle "http://127.0.0.1:$PORT" $acked
    end=$(( $(now_ms) - ${MARGIN_MS:-2000} ))
    lost=0
    for name in $acked; do [ "$(api GET "/v1/scheduler/job/$name")" = 200 ] || lost=$((lost + 1)); done
    for name in $acked; do
      curl -s -m 5 "http://127.0.0.1:$PORT/v1/scheduler/job/$name/ledger" >"$tmp/ledger/$name.json"
    done
    out=$($PYQ "$REPO/tests/ha/check.py" "$tmp/out" "$tmp/ledger" "$start" "$end" $specs 2>&1)
    trial_result "$trial" "$faults" "$out" "$lost" || tail -15 "$SERVER_LOG" | sed 's/^/     | /'
    for name in $acked ${EXTRA_JOBS:-}; do api DELETE "/v1/scheduler/job/$name" >/dev/null; done
  done
}
