#!/bin/bash
# run.sh - the API benchmarks: the real server (`chronos serve`, local store)
# on 127.0.0.1, loaded with JOBS jobs (default 10,000: 90% scheduled at
# R/2099-01-01T00:00:00Z/P1D so nothing runs, 10% dependents of two of them),
# then measured:
#   a. POST /v1/scheduler/iso8601, durable (204 once fsync'd), sequential on
#      one keep-alive connection: new jobs, then the same jobs replaced, then
#      DELETEd (so the later figures see JOBS jobs): p50/p90/p99/max
#      (target POST p50 <= 2 ms)
#   b. GET /v1/scheduler/jobs/summary, sequential, one connection: p50/p99 and
#      the answer's size (target p99 <= 20 ms at 10,000 jobs)
#   c. POST and summary latencies again while wrk loads the server with
#      GET job/{name} on 32 connections
#   d. wrk, 32 connections, 4 threads, WRK_SECONDS (10) each: GET /ping,
#      GET job/{name}, GET jobs/summary, POST iso8601 (post.lua, a new job per
#      request; last, as it adds jobs): requests/s and wrk's 50/75/90/99%
#   e. GET /v1/scheduler/jobs (the full listing): p50/p99 and bytes
#   f. the server's RSS (VmRSS) idle, after loading, and at the end
# then a block of figures, each next to its target where one exists.  About a
# minute and a half on 2 cores.
#
# The latency client is lat.c (plain sockets, HTTP/1.1 keep-alive,
# CLOCK_MONOTONIC), compiled here; its own floor is shown by the /ping line.
# Called from the repository root (or anywhere) by `make bench`; B names the
# build directory (default build), as for make, and the server is rebuilt
# when its sources changed.  The server binds 127.0.0.1 on a free port with
# its data under a temp dir, and is killed by pid on exit (with anything else
# running under that temp dir).  Its log is kept in $B/bench/api/.  An
# endpoint that does not answer 200 is reported "n/a (status N)".  Prints
# figures, never fails on them; exits non-zero only when it cannot run.
# Environment: JOBS (10000), WRK_SECONDS (10), POST_N (1000 new + as many
# replaced), SUMMARY_N (300), LIST_N (20), LOAD_CONNS (16); BENCH_QUICK=1 a
# short smoke run whose figures mean little.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
HERE=bench/api
OUT=$B/bench/api
mkdir -p "$OUT"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  q() { echo "$2"; }
else
  q() { echo "$1"; }
fi
JOBS=${JOBS:-$(q 10000 1000)}
WRK_SECONDS=${WRK_SECONDS:-$(q 10 2)}
POST_N=${POST_N:-$(q 1000 200)}
SUMMARY_N=${SUMMARY_N:-$(q 300 50)}
LIST_N=${LIST_N:-$(q 20 5)}
LOAD_CONNS=${LOAD_CONNS:-16}

make -s B="$B" "$B/chronos" "$B/chronos-server"
gcc -O2 -Wall -Wextra -o "$OUT/lat" "$HERE/lat.c" -lpthread
LAT=$OUT/lat
HAVE_WRK=1
command -v wrk >/dev/null 2>&1 || HAVE_WRK=0

TMPD=$(mktemp -d /tmp/chronos-bench-api.XXXXXX)
SPID=
cleanup() {
  if [ -n "$SPID" ]; then
    kill -KILL "$SPID" 2>/dev/null || true
    { wait "$SPID"; } 2>/dev/null || true
  fi
  pkill -KILL -f "$TMPD" 2>/dev/null || true
  rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

echo "host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
  "kernel $(uname -r); $( (wrk --version 2>&1 || true) | head -1 | cut -d' ' -f1-2)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); binary: $B/chronos; data in $TMPD ($(df -T "$TMPD" | awk 'NR==2 {print $2" on "$1}')); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "jobs: $JOBS; wrk: ${WRK_SECONDS} s per run; server log: $OUT/server.log"
echo

"$B/chronos" serve --data_dir "$TMPD/data" --http_address 127.0.0.1 --http_port "$PORT" --user "$(id -un)" \
  >"$OUT/server.log" 2>&1 &
SPID=$!
for _ in $(seq 200); do
  curl -sf -o /dev/null "$URL/ping" && break
  kill -0 "$SPID" 2>/dev/null || { echo "bench: the server exited:"; cat "$OUT/server.log"; exit 1; }
  sleep 0.05
done
curl -sf -o /dev/null "$URL/ping" || { echo "bench: the server does not answer /ping"; exit 1; }

# ---- helpers ----------------------------------------------------------------
# run [lat options] -- METHOD PATH [BODY]: lat's line (status=000 when it cannot connect).
run() { local opts=() ; while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift; "$LAT" "${opts[@]}" "$PORT" "$@" || echo "status=000"; }
val() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
is2xx() { local s; s=$(val "$1" status); [ -n "$s" ] && [ "$s" -ge 200 ] && [ "$s" -lt 300 ] && [ "$(val "$1" errors)" = 0 ]; }
ms() { awk -v u="$1" 'BEGIN { if (u >= 100000) printf "%.0f ms", u/1000; else if (u >= 10000) printf "%.1f ms", u/1000;
                             else if (u >= 1000) printf "%.2f ms", u/1000; else printf "%.0f us", u }'; }
hbytes() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.2f MiB", b/1048576; else if (b >= 1024) printf "%.1f KiB", b/1024; else printf "%d B", b }'; }
rss_kb() { awk -v k="${2:-VmRSS}:" '$1 == k {print $2}' "/proc/$SPID/status" 2>/dev/null || echo 0; }
# lat_desc LINE [P50NOTE] [P99NOTE]: "p50 .. p90 .. p99 .. max .. (n=N)", or n/a.
lat_desc() {
  local l=$1
  if ! is2xx "$l"; then
    local s; s=$(val "$l" status)
    if [ "$s" = 000 ] || [ -z "$s" ]; then echo "n/a (no answer)";
    elif [ "$s" -ge 200 ] && [ "$s" -lt 300 ]; then echo "n/a ($(val "$l" errors) of $(val "$l" n) requests failed)";
    else echo "n/a (status $s)"; fi
    return
  fi
  echo "p50 $(ms "$(val "$l" p50_us)")${2:+ $2}, p90 $(ms "$(val "$l" p90_us)"), p99 $(ms "$(val "$l" p99_us)")${3:+ $3}, max $(ms "$(val "$l" max_us)") (n=$(val "$l" n))"
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$URL$1" || echo 000; }
# The jobs the server has: from /v1/status, else by counting the listing.
job_count() {
  curl -s "$URL/v1/status" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["jobs"]))' 2>/dev/null ||
    curl -s "$URL/v1/scheduler/jobs" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?"
}
# wrk_desc FILE: "N req/s; p50 .. p75 .. p90 .. p99 .." from wrk --latency.
wrk_desc() {
  awk '/Requests\/sec/ { rps = $2 }
       /Latency Distribution/ { d = 1; next }
       d && $1 ~ /%$/ { lat[$1] = $2; next }
       d { d = 0 }
       /Non-2xx or 3xx/ { non = $NF }
       /Socket errors/ { sub(/^ *Socket errors: */, ""); se = $0 }
       END { if (rps == "") { printf "n/a (wrk failed)"; exit }
             for (k in lat) sub(/\.00/, "", lat[k])
             printf "%.0f req/s; latency p50 %s, p75 %s, p90 %s, p99 %s", rps, lat["50%"], lat["75%"], lat["90%"], lat["99%"]
             if (non != "") printf "; NON-2xx %s", non
             if (se != "") printf "; socket errors: %s", se }' "$1"
}
# wrk_run TAG PATH [wrk options]: prints the description (or n/a).
wrk_run() {
  local tag=$1 path=$2; shift 2
  if [ "$HAVE_WRK" = 0 ]; then echo "n/a (wrk not installed; scripts/deps.sh installs it)"; return; fi
  wrk -t4 -c32 -d"${WRK_SECONDS}s" --timeout 10s --latency "$@" "$URL$path" >"$OUT/wrk-$tag.txt" 2>&1 || true
  wrk_desc "$OUT/wrk-$tag.txt"
}

FIG=()
fig() { FIG+=("$(printf '%-42s %s' "$1" "$2")"); }
step() { echo "== $*"; }

SCHED_BODY='{"name":"bench-{i}","command":"echo bench {i}","schedule":"R/2099-01-01T00:00:00Z/P1D","owner":"bench@example.com","description":"api benchmark job"}'
DEP_BODY='{"name":"dep-{i}","command":"echo dep {i}","parents":["bench-{2i}","bench-{2i+1}"],"owner":"bench@example.com","description":"api benchmark dependent"}'
LAT_BODY='{"name":"lat-{i}","command":"echo lat {i}","schedule":"R/2099-01-01T00:00:00Z/P1D","owner":"bench@example.com","description":"api benchmark job"}'
NDEP=$((JOBS / 10))
NSCHED=$((JOBS - NDEP))

# ---- f (idle) and the load --------------------------------------------------
RSS0=$(rss_kb)
step "loading $JOBS jobs ($NSCHED scheduled, $NDEP dependents) over $LOAD_CONNS keep-alive connections"
L1=$(run -n "$NSCHED" -c "$LOAD_CONNS" -- POST /v1/scheduler/iso8601 "$SCHED_BODY")
L2=$( [ "$NDEP" -gt 0 ] && run -n "$NDEP" -c "$LOAD_CONNS" -- POST /v1/scheduler/dependency "$DEP_BODY" || echo "status=204 n=0 errors=0 elapsed_s=0")
E1=$(val "$L1" errors); E2=$(val "$L2" errors)
LOAD_S=$(awk -v a="$(val "$L1" elapsed_s)" -v b="$(val "$L2" elapsed_s)" 'BEGIN { printf "%.2f", a + b }')
LOAD_RATE=$(awk -v n="$JOBS" -v s="$LOAD_S" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
LOAD_ERR=$(( ${E1:-0} + ${E2:-0} ))
NJOBS=$(job_count)
RSS1=$(rss_kb)
PER_JOB=$(awk -v a="$RSS0" -v b="$RSS1" -v n="$JOBS" 'BEGIN { printf "%.0f", (n > 0 ? (b - a) * 1024 / n : 0) }')
fig "load: POST $JOBS jobs, $LOAD_CONNS conns" "$LOAD_S s = $LOAD_RATE jobs/s (errors: $LOAD_ERR; the server lists $NJOBS jobs)"
fig "RSS idle -> after loading" "$(hbytes $((RSS0 * 1024))) -> $(hbytes $((RSS1 * 1024))) ($PER_JOB B/job)"

# ---- the client's floor -----------------------------------------------------
step "sequential requests on one keep-alive connection (a, b, e)"
P=$(run -n 2000 -w 200 -- GET /ping)
fig "GET /ping (client + server floor)" "$(lat_desc "$P")"

# ---- a. POST, durable -------------------------------------------------------
A1=$(run -n "$POST_N" -- POST /v1/scheduler/iso8601 "$LAT_BODY")
fig "a. POST iso8601, new job" "$(lat_desc "$A1" "(target <= 2 ms)")"
A2=$(run -n "$POST_N" -- POST /v1/scheduler/iso8601 "$LAT_BODY")
fig "a. POST iso8601, replacing a job" "$(lat_desc "$A2" "(target <= 2 ms)")"
A3=$(run -n "$POST_N" -- DELETE '/v1/scheduler/job/lat-{i}')
fig "a. DELETE job/{name}" "$(lat_desc "$A3")"

# ---- b. summary ---------------------------------------------------------------
SB=$(run -n "$SUMMARY_N" -w 5 -- GET /v1/scheduler/jobs/summary)
SUMMARY_OK=0; is2xx "$SB" && SUMMARY_OK=1
fig "b. GET jobs/summary at $JOBS jobs" "$(lat_desc "$SB" "" "(target <= 20 ms)")"
[ "$SUMMARY_OK" = 1 ] && fig "   its answer" "$(hbytes "$(val "$SB" bytes)") ($(val "$SB" bytes) B)"
G=$(run -n 1000 -w 50 -- GET /v1/scheduler/job/dep-000001)
fig "GET job/{name}" "$(lat_desc "$G")"

# ---- e. the full listing ------------------------------------------------------
E=$(run -n "$LIST_N" -w 1 -- GET /v1/scheduler/jobs)
fig "e. GET jobs (full listing) at $JOBS jobs" "$(lat_desc "$E")"
is2xx "$E" && fig "   its answer" "$(hbytes "$(val "$E" bytes)") ($(val "$E" bytes) B)"

# ---- c. under load ------------------------------------------------------------
if [ "$HAVE_WRK" = 1 ]; then
  step "c. the same while wrk -t2 -c32 GETs job/{name}"
  wrk -t2 -c32 -d"$((WRK_SECONDS + 2))s" --timeout 10s --latency "$URL/v1/scheduler/job/bench-000001" \
    >"$OUT/wrk-background.txt" 2>&1 &
  WPID=$!
  sleep 1
  # Replaces loaded jobs with themselves: a durable write, the data unchanged.
  C1=$(run -n "$(( POST_N < 300 ? POST_N : 300 ))" -- POST /v1/scheduler/iso8601 "$SCHED_BODY")
  fig "c. POST iso8601 under load" "$(lat_desc "$C1")"
  if [ "$SUMMARY_OK" = 1 ]; then
    C2=$(run -n "$(( SUMMARY_N < 50 ? SUMMARY_N : 50 ))" -- GET /v1/scheduler/jobs/summary)
    fig "c. GET jobs/summary under load" "$(lat_desc "$C2")"
  else
    fig "c. GET jobs/summary under load" "n/a (status $(val "$SB" status))"
  fi
  kill -0 "$WPID" 2>/dev/null || fig "   (note)" "the background wrk ended before these finished"
  wait "$WPID" || true
  fig "   the background load got" "$(wrk_desc "$OUT/wrk-background.txt")"
fi

# ---- d. wrk, 32 connections -----------------------------------------------------
step "d. wrk -t4 -c32 -d${WRK_SECONDS}s --latency: ping, job, summary, post"
fig "d. wrk GET /ping" "$(wrk_run ping /ping)"
fig "d. wrk GET job/{name}" "$(wrk_run job /v1/scheduler/job/bench-000001)"
S=$(status_of /v1/scheduler/jobs/summary)
if [ "$S" = 200 ]; then
  fig "d. wrk GET jobs/summary at $JOBS jobs" "$(wrk_run summary /v1/scheduler/jobs/summary)"
else
  fig "d. wrk GET jobs/summary at $JOBS jobs" "n/a (status $S)"
fi
fig "d. wrk POST iso8601 (a new job each)" "$(wrk_run post /v1/scheduler/iso8601 -s "$HERE/post.lua")"

# ---- f. the end -------------------------------------------------------------
NJOBS_END=$(job_count)
read -r RSS2 HWM < <(awk '$1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 } END { print r + 0, h + 0 }' "/proc/$SPID/status" 2>/dev/null || echo "0 0")
fig "f. RSS at the end" "$(hbytes $((RSS2 * 1024))) (peak $(hbytes $((HWM * 1024)))), with $NJOBS_END jobs after d's POSTs"

echo
echo "== figures: $JOBS jobs on the local store; $(nproc) cpus shared by client and server"
printf '%s\n' "${FIG[@]}"
