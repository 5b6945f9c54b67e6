#!/bin/bash
# Integration tests of `chronos serve` through the real binary on a loopback
# port this test picks: jobs run on time, dependents in order, retries with
# their delay, cycles refused, and a kill -9 of the server at any moment loses
# nothing and launches nothing twice.  Every process started here (servers and
# their detached run supervisors) is killed on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_serve.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init it

# ---- 1. A job due in 2 s runs then, not before, and the POST is 204 ----------
data=$tmp/d1
if start_server "$data"; then
  due=$(( $(now_ms) + 2000 ))
  out=$tmp/hello.out
  code=$(api POST /v1/scheduler/iso8601 \
    "{\"name\":\"hello\",\"command\":\"date +%s%3N >> $out\",\"schedule\":\"R1/$(iso $due)/PT1M\"}")
  [ "$code" = 204 ] && [ ! -s "$tmp/body" ] && ok "POST iso8601 answers 204 with an empty body" \
    || bad "POST iso8601" "got $code $(cat "$tmp/body")"
  status_has hello remainingRepeats=1 "nextRunAt=$(iso $due)" lastRunState=None &&
    ok "status before the run: 1 repeat left, next at its instant" \
    || bad "status before the run" "$(curl -s "http://127.0.0.1:$PORT/v1/scheduler/job/hello/status")"
  job_before=$(curl -s "http://127.0.0.1:$PORT/v1/scheduler/job/hello")
  if wait_for 10 has_lines "$out" 1; then
    ran=$(head -1 "$out")
    [ "$ran" -ge "$due" ] && ok "job due in 2 s ran at its instant (+$(( ran - due )) ms)" \
      || bad "job ran before its due time" "ran $ran < due $due"
  else
    bad "job due in 2 s never ran"
  fi
  wait_for 5 field_is hello successCount 1 && ok "successCount counts the run" \
    || bad "successCount" "$(field hello successCount)"
  status_has hello remainingRepeats=0 lastRunState=success nextRunAt=None &&
    ok "status after the run: no repeats left, last run success, no next run" \
    || bad "progress fields" "$(curl -s "http://127.0.0.1:$PORT/v1/scheduler/job/hello/status")"
  # The job JSON is Chronos's: none of our progress, and unchanged by the run
  # but for Chronos's own counters.
  job_after=$(curl -s "http://127.0.0.1:$PORT/v1/scheduler/job/hello")
  strip='import json,sys; j=json.loads(sys.argv[1]); [j.pop(k, None) for k in ("successCount","errorCount","lastSuccess","lastError","errorsSinceLastSuccess")]; print(json.dumps(j, sort_keys=True))'
  progress=$(/usr/bin/python3 -c 'import json,sys; print(sorted({"nextRunAt","remainingRepeats","lastRunState","lastRunAt","retryAt","taskTimeSeconds"} & set(json.loads(sys.argv[1]))))' "$job_after")
  [ "$progress" = "[]" ] && [ "$(/usr/bin/python3 -c "$strip" "$job_before")" = "$(/usr/bin/python3 -c "$strip" "$job_after")" ] &&
    ok "the job JSON has no progress and only Chronos's counters changed with the run" \
    || bad "job JSON" "progress $progress; before $job_before; after $job_after"
  code=$(api GET /v1/scheduler/job/nope/status)
  [ "$code" = 404 ] && ok "status of an unknown job: 404" || bad "status of an unknown job" "$code $(cat "$tmp/body")"
  field_is hello schedule "R1/$(iso $due)/PT1M" && ok "GET returns the schedule exactly as written" \
    || bad "schedule rewritten" "$(field hello schedule)"

  # ---- 2. A -> B -> C run in order -------------------------------------------
  chain=$tmp/chain.out
  # A is due once B and C exist (C posted after B has run would never run):
  # 4 s leaves three POSTs time on a loaded machine.
  due=$(( $(now_ms) + 4000 ))
  api POST /v1/scheduler/iso8601 \
    "{\"name\":\"A\",\"command\":\"echo A >> $chain\",\"schedule\":\"R1/$(iso $due)/PT1H\"}" >/dev/null
  api POST /v1/scheduler/dependency "{\"name\":\"B\",\"command\":\"echo B >> $chain\",\"parents\":[\"A\"]}" >/dev/null
  code=$(api POST /v1/scheduler/dependency "{\"name\":\"C\",\"command\":\"echo C >> $chain\",\"parents\":[\"B\"]}")
  [ "$code" = 204 ] || bad "POST dependency" "$code $(cat "$tmp/body")"
  if wait_for 25 has_lines "$chain" 3; then
    [ "$(tr -d '\n' < "$chain")" = ABC ] && ok "dependent chain A -> B -> C ran in order" \
      || bad "chain order" "$(tr '\n' ' ' < "$chain")"
  else
    bad "dependent chain did not complete" "$(tr '\n' ' ' < "$chain" 2>/dev/null)"
  fi

  # ---- 3. A failing job retries with its delay ----------------------------------
  fail=$tmp/fail.out
  due=$(( $(now_ms) + 1000 ))
  api POST /v1/scheduler/iso8601 "{\"name\":\"flaky\",\"command\":\"date +%s%3N >> $fail; exit 3\",\
\"schedule\":\"R1/$(iso $due)/PT1H\",\"retries\":2,\"retryDelaySeconds\":1}" >/dev/null
  if wait_for 20 has_lines "$fail" 3; then
    mapfile -t t < "$fail"
    if [ $(( t[1] - t[0] )) -ge 1000 ] && [ $(( t[2] - t[1] )) -ge 1000 ]; then
      ok "failing job retried twice, each after its 1 s delay"
    else
      bad "retry delay" "attempts at ${t[*]}"
    fi
    wait_for 5 field_is flaky errorCount 1 && ok "the final failure counts once in errorCount" \
      || bad "errorCount after retries" "$(field flaky errorCount)"
    sleep 1.5
    [ "$(lines "$fail")" = 3 ] && ok "no attempt beyond retries" || bad "extra attempts" "$(lines "$fail")"
  else
    bad "failing job was not retried" "$(lines "$fail") attempts"
  fi

  # ---- 4. A cycle is refused with 400 and nothing changes ------------------------
  before=$(curl -s "http://127.0.0.1:$PORT/v1/scheduler/jobs" | md5sum)
  code=$(api POST /v1/scheduler/dependency '{"name":"A","command":"true","parents":["C"]}')
  after=$(curl -s "http://127.0.0.1:$PORT/v1/scheduler/jobs" | md5sum)
  if [ "$code" = 400 ] && grep -q cycle "$tmp/body" && [ "$before" = "$after" ]; then
    ok "a cycle is refused with 400 naming it, jobs unchanged"
  else
    bad "cycle" "$code $(cat "$tmp/body")"
  fi
  code=$(api POST /v1/scheduler/dependency '{"name":"D","command":"true","parents":["nope"]}')
  [ "$code" = 400 ] && grep -q "nope" "$tmp/body" && ok "an unknown parent is refused with 400" \
    || bad "unknown parent" "$code $(cat "$tmp/body")"
  code=$(api DELETE /v1/scheduler/job/B)
  [ "$code" = 400 ] && grep -q "C" "$tmp/body" && ok "deleting a job others depend on is refused, naming them" \
    || bad "delete of a parent" "$code $(cat "$tmp/body")"
  code=$(api DELETE /v1/scheduler/job/C)
  code2=$(api GET /v1/scheduler/job/C)
  [ "$code" = 204 ] && [ "$code2" = 400 ] && ok "DELETE answers 204 and the job is gone" \
    || bad "delete" "$code then GET $code2"
  stop_server
  if start_server "$data"; then
    code=$(api GET /v1/scheduler/job/C)
    code2=$(api GET /v1/scheduler/job/B)
    [ "$code" = 400 ] && [ "$code2" = 200 ] && ok "after a restart the deleted job stays deleted, the others stay" \
      || bad "state after restart" "C $code, B $code2"
    stop_server
  fi
else
  bad "server did not start" "$(tail -5 "$data.log")"
fi

# ---- 5. kill -9 of the server mid-run: the task goes on, the restarted
# server re-attaches and records its result, and it is not started again ------
data=$tmp/d5
if start_server "$data"; then
  started=$tmp/long.started
  done_f=$tmp/long.done
  due=$(( $(now_ms) + 1000 ))
  api POST /v1/scheduler/iso8601 "{\"name\":\"long\",\"command\":\"echo x >> $started; sleep 3; echo x >> $done_f\",\
\"schedule\":\"R1/$(iso $due)/PT1H\"}" >/dev/null
  if wait_for 10 has_lines "$started" 1; then
    kill9_server
    wait_for 10 has_lines "$done_f" 1 && ok "the task outlived a kill -9 of the server" \
      || bad "task died with the server"
    if start_server "$data"; then
      wait_for 10 field_is long successCount 1 && ok "the restarted server recorded the run's success" \
        || bad "result after restart" "successCount $(field long successCount)"
      sleep 1
      [ "$(lines "$started")" = 1 ] && ok "the run was not started twice" \
        || bad "run started again after restart" "$(lines "$started") starts"
      stop_server
    else
      bad "restart after kill -9" "$(tail -5 "$data.log")"
    fi
  else
    bad "long job never started"
  fi
  stop_server
else
  bad "server did not start" "$(tail -5 "$data.log")"
fi

# ---- 5b. Resources from a config file: this host offers 0.25 cpus, so two
# jobs of 0.2 cpus due at once run one after the other, never together --------
data=$tmp/d5b
printf '# test config\nlocal_cpus = 0.25\nverbose = true\n' > "$tmp/cfg"
if start_server "$data" CHRONOS_CONFIG="$tmp/cfg"; then
  due=$(( $(now_ms) + 1500 ))
  for j in r1 r2; do
    api POST /v1/scheduler/iso8601 "{\"name\":\"$j\",\"command\":\"echo start \$(date +%s%3N) >> $tmp/$j.out; sleep 1; echo end \$(date +%s%3N) >> $tmp/$j.out\",\
\"schedule\":\"R1/$(iso $due)/PT1H\",\"cpus\":0.2}" >/dev/null
  done
  if wait_for 15 has_lines "$tmp/r1.out" 2 && wait_for 15 has_lines "$tmp/r2.out" 2; then
    s1=$(awk '/start/{print $2}' "$tmp/r1.out"); e1=$(awk '/end/{print $2}' "$tmp/r1.out")
    s2=$(awk '/start/{print $2}' "$tmp/r2.out"); e2=$(awk '/end/{print $2}' "$tmp/r2.out")
    if [ "$s2" -ge "$e1" ] || [ "$s1" -ge "$e2" ]; then
      ok "a config file's local_cpus bounds what runs at once (runs did not overlap)"
    else
      bad "runs overlapped despite local_cpus 0.25" "r1 $s1-$e1, r2 $s2-$e2"
    fi
  else
    bad "jobs under local_cpus did not both run"
  fi
  stop_server
else
  bad "server with a config file did not start" "$(tail -5 "$data.log")"
fi
printf 'http_port = 1\nthis is not a setting\n' > "$tmp/badcfg"
out=$("$CHRONOS" serve --config "$tmp/badcfg" --data_dir "$tmp/d5c" 2>&1); rc=$?
[ "$rc" = 1 ] && echo "$out" | grep -q ':2' && ok "a bad config line is refused naming the line" \
  || bad "bad config" "rc $rc: $out"

# ---- 6. kill -9 between "recorded" and "launched" (test builds only) ----------
# CHRONOS_TEST_CRASH=before-launch kills the server just before it launches a
# run whose record is durable; after a restart the run happens exactly once.
if [[ "$CHRONOS" == */asan/* ]]; then
  data=$tmp/d6
  if start_server "$data" CHRONOS_TEST_CRASH=before-launch; then
    once=$tmp/once.out
    due=$(( $(now_ms) + 1000 ))
    api POST /v1/scheduler/iso8601 "{\"name\":\"once\",\"command\":\"echo x >> $once\",\
\"schedule\":\"R1/$(iso $due)/PT1H\"}" >/dev/null
    if wait_for 10 bash -c "! kill -0 $SERVER 2>/dev/null"; then
      wait "$SERVER" 2>/dev/null; SERVER=""
      [ "$(lines "$once")" = 0 ] && ok "crash point hit before the launch" || bad "ran before crash"
      if start_server "$data"; then
        wait_for 10 has_lines "$once" 1 && sleep 1.5
        [ "$(lines "$once")" = 1 ] && ok "a run recorded but not launched runs once after restart" \
          || bad "recorded-not-launched run" "ran $(lines "$once") times"
        wait_for 5 field_is once successCount 1 && ok "and its success is recorded once" \
          || bad "successCount after crash" "$(field once successCount)"
        stop_server
      else
        bad "restart after crash point" "$(tail -5 "$data.log")"
      fi
    else
      bad "crash point was not reached"
      stop_server
    fi
  fi
  # A burst: N jobs due at one instant are recorded in few store batches
  # (server/loop.c "Grouping") and launched once each whatever the kill: at
  # "after-submit" the first store batch of runs is handed to the store
  # (durable or not) and the rest of the step's never are (40 jobs with a
  # store batch lowered to 32 ops, CHRONOS_TEST_BATCH_OPS: 80 ops, three
  # store batches; without the knob it takes 520 jobs); at
  # "before-launch" every run of the first durable batch waits for its
  # launch.  After a restart every instant runs exactly once.
  burst_crash() { # POINT N
    local point=$1 n=$2 data=$tmp/d6-$1 out=$tmp/burst-$1.out
    if ! start_server "$data" CHRONOS_TEST_CRASH="$point" CHRONOS_TEST_BATCH_OPS=32 --cgroups off; then
      bad "burst crash at $point: server did not start" "$(tail -5 "$data.log")"; return
    fi
    local due=$(( $(now_ms) + 8000 ))
    /usr/bin/python3 - "$PORT" "$n" "$(iso $due)" "$out" >"$tmp/codes-$point" <<'EOF'
import http.client, json, sys, threading
port, n, at, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
codes = []
def post(ks):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for k in ks:
        body = json.dumps({"name": "b-%04d" % k, "command": "echo b-%04d >> %s" % (k, out),
                           "schedule": "R1/%s/PT1H" % at, "cpus": 0.001, "mem": 1, "disk": 1})
        c.request("POST", "/v1/scheduler/iso8601", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read(); codes.append(r.status)
ts = [threading.Thread(target=post, args=(range(i, n, 4),)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(map(str, codes)))
EOF
    local posted; posted=$(grep -c '^204$' "$tmp/codes-$point")
    if [ "$posted" != "$n" ] || [ "$(now_ms)" -ge "$due" ]; then
      bad "burst crash at $point: $posted of $n jobs posted before their instant"
      stop_server; return
    fi
    if wait_for 30 bash -c "! kill -0 $SERVER 2>/dev/null"; then
      wait "$SERVER" 2>/dev/null; SERVER=""
      ok "burst of $n: the crash point $point was hit"
    else
      bad "burst of $n: the crash point $point was not reached"; stop_server; return
    fi
    if start_server "$data" --cgroups off; then
      wait_for 120 has_lines "$out" "$n" && sleep 2
      local runs uniq
      runs=$(lines "$out"); uniq=$(sort -u "$out" | wc -l)
      [ "$runs" = "$n" ] && [ "$uniq" = "$n" ] &&
        ok "burst of $n killed at $point: every instant ran once after the restart" ||
        bad "burst killed at $point" "$runs runs, $uniq distinct, of $n"
      stop_server
    else
      bad "restart after the burst's crash at $point" "$(tail -5 "$data.log")"
    fi
  }
  burst_crash after-submit 40
  burst_crash before-launch 40
else
  echo "skip crash-point cases: they need the test build (build/asan/chronos)"
fi

finish
