#!/bin/bash
# Store failures through the real binary: a full disk (a small tmpfs this test
# mounts, as root; skipped with a reason otherwise) stops scheduling but not
# reads, answers writes 503 naming the file and the error, says so in
# /health, /v1/status and /metrics, shows nothing it refused, and recovers by
# itself once space returns, with every acknowledged job kept and every
# instant of a job due each second launched once or ledgered.  A failed
# fsync (test builds: CHRONOS_TEST_STORE_FAULT) ends the process with status
# 1 and a message, and a restart finds every acknowledged job.  Every process
# and mount made here is undone on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_store_faults.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/tests/lib.sh"
lib_init storefault
MNT=$tmp/mnt
py() { /usr/bin/python3 -I -S -c "$@"; }   # -I -S: the standard library only, twice as fast to start
health_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = "$1" ]; }
metric() { curl -s "http://127.0.0.1:$PORT/metrics?format=prometheus" | awk -v m="$1" '$1 == m {print $2}'; }
post() { api POST /v1/scheduler/iso8601 "{\"name\":\"$1\",\"command\":\"true\",\"disk\":1,\
\"description\":\"$2\",\"schedule\":\"R/2030-01-01T00:00:00Z/PT1H\"}"; }

# ---- 1. A full disk ------------------------------------------------------------
if ! why=$(lib_mount_tmpfs "$MNT" 6m); then
  echo "skip the full-disk cases: no small filesystem to fill ($why)"
else
  data=$MNT/data
  SERVER_LOG=$tmp/server.log  # not on the disk that fills
  mkdir -p "$tmp/out" "$tmp/ledger"
  if start_server "$data" --local_disk 1000; then
    start=$(( ($(now_ms) / 1000 + 2) * 1000 ))
    code=$(api POST /v1/scheduler/iso8601 "{\"name\":\"tick\",\"command\":\"echo \$CHRONOS_JOB_RUN_TIME >> $tmp/out/tick\",\
\"schedule\":\"R/$(iso $start)/PT1S\",\"retries\":0,\"cpus\":0.01,\"mem\":1,\"disk\":1}")
    [ "$code" = 204 ] || bad "POST tick" "$code $(cat "$tmp/body")"
    post kept "acknowledged before the disk filled" >/dev/null
    wait_for 10 has_lines "$tmp/out/tick" 2 || bad "tick never ran"
    dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
    pad=$(head -c 4000 /dev/zero | tr '\0' x)
    refused=""
    for i in $(seq 1 200); do    # small writes fit the log's last page: go on until one fails
      code=$(post "r$i" "$pad")
      if [ "$code" = 503 ]; then refused=r$i; break; fi
    done
    if [ -n "$refused" ] && grep -q "store unavailable: cannot write $data/store/wal\.[0-9a-f]* at offset [0-9]*: No space left on device" "$tmp/body"; then
      ok "a write on a full disk: 503 naming the file, the offset and the error"
    else
      bad "no 503 naming the cause" "${refused:-none} $(cat "$tmp/body")"
    fi
    code=$(api GET "/v1/scheduler/job/$refused")
    [ "$code" = 400 ] && ok "the refused job is not served by GET" || bad "refused job visible" "$code"
    code=$(api GET /v1/scheduler/job/kept)
    [ "$code" = 200 ] && ok "reads go on while the store fails" || bad "read while failed" "$code"
    curl -s "http://127.0.0.1:$PORT/health" >"$tmp/health"
    # "still cannot write <probe>" once a probe of the disk failed again.
    health_is 503 && grep -Eq '"reason":"store unavailable: (still )?cannot write' "$tmp/health" &&
      ok "/health: 503 with the reason" || bad "/health while failed" "$(cat "$tmp/health")"
    curl -s "http://127.0.0.1:$PORT/v1/status" >"$tmp/status"
    py "import json; s=json.load(open('$tmp/status')); assert s['healthy'] is False and not s['isLeader'] and 'No space left' in s['unhealthyReason']" &&
      ok "/v1/status: not healthy, not leading, and why" || bad "/v1/status while failed" "$(cat "$tmp/status")"
    [ "$(metric chronos_store_healthy)" = 0 ] && [ "$(metric chronos_leader)" = 0 ] &&
      ok "/metrics: chronos_store_healthy 0, chronos_leader 0" ||
      bad "metrics while failed" "$(metric chronos_store_healthy) $(metric chronos_leader)"
    sleep 2
    rm -f "$MNT/filler"
    if wait_for 40 health_is 200; then
      ok "it recovers by itself once space returns"
    else
      bad "no recovery" "$(tail -5 "$SERVER_LOG")"
    fi
    code=$(post after "written after the recovery")
    [ "$code" = 204 ] && ok "writes work again" || bad "write after recovery" "$code $(cat "$tmp/body")"
    [ "$(api GET "/v1/scheduler/job/$refused")" = 400 ] && ok "the refused job stays refused" ||
      bad "refused job appeared"
    end=$(( $(now_ms) - 3000 ))
    sleep 2
    curl -s "http://127.0.0.1:$PORT/v1/scheduler/job/tick/ledger" >"$tmp/ledger/tick.json"
    $PYQ "$REPO/tests/ha/check.py" "$tmp/out" "$tmp/ledger" "$start" "$end" "tick:$start:1000" \
      >"$tmp/check.out" && ok "every instant of tick launched once or ledgered: $(tail -1 "$tmp/check.out")" ||
      bad "instants of tick" "$(cat "$tmp/check.out"); ledger $(cat "$tmp/ledger/tick.json"); runs $(curl -s "http://127.0.0.1:$PORT/v1/runs?job=tick&limit=30" | head -c 2000)"
    stop_server
    if start_server "$data" --local_disk 1000; then
      n=0
      for j in kept after tick; do [ "$(api GET "/v1/scheduler/job/$j")" = 200 ] && n=$((n + 1)); done
      [ "$n" = 3 ] && [ "$(api GET "/v1/scheduler/job/$refused")" = 400 ] &&
        ok "after a restart: every acknowledged job, not the refused one" || bad "after restart" "$n of 3"
      stop_server
    else
      bad "restart after the full disk" "$(tail -5 "$SERVER_LOG")"
    fi
  else
    bad "server on the tmpfs did not start" "$(tail -5 "$SERVER_LOG")"
  fi
  umount -l "$MNT"
  unset SERVER_LOG
fi

# ---- 2. A failed fsync: exit 1, with the reason; a restart has everything ----------
if [[ "$CHRONOS" == */asan/* ]] || [[ "$CHRONOS" == */test/* ]]; then
  data=$tmp/d2
  # The 8th fsync from the start fails: after the tree is made and a few writes.
  if start_server "$data" CHRONOS_TEST_STORE_FAULT=sync:8:1; then
    acked=0
    for i in $(seq 1 20); do
      code=$(post "s$i" "x")
      [ "$code" = 204 ] && acked=$i
      [ "$code" = 204 ] || break
    done
    if wait_for 15 bash -c "! kill -0 $SERVER 2>/dev/null"; then
      wait "$SERVER"; rc=$?; SERVER=""
      [ "$rc" = 1 ] && grep -q "exiting (status 1) so that a restart re-reads the store: fdatasync of .*failed" "$data.log" &&
        ok "a failed fsync ends the server with status 1 and says why" || bad "fatal exit" "rc $rc: $(tail -3 "$data.log")"
      if start_server "$data"; then
        n=0
        for i in $(seq 1 "$acked"); do [ "$(api GET "/v1/scheduler/job/s$i")" = 200 ] && n=$((n + 1)); done
        [ "$n" = "$acked" ] && [ "$acked" -ge 1 ] && ok "the restart finds all $acked acknowledged jobs" ||
          bad "acknowledged jobs after the fsync failure" "$n of $acked"
        stop_server
      else
        bad "restart after the fsync failure" "$(tail -5 "$data.log")"
      fi
    else
      bad "the server did not exit after a failed fsync" "$(tail -5 "$data.log")"
      stop_server
    fi
  else
    bad "server with a sync fault did not start" "$(tail -5 "$data.log")"
  fi
else
  echo "skip the fsync case: it needs a test build (build/test or build/asan)"
fi
finish
