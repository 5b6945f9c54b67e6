#!/bin/bash
# run.sh - the web dashboard's benchmarks: the real server (`chronos serve`,
# local store) on 127.0.0.1 with JOBS jobs (10,000, then BIG_JOBS: 100,000),
# each scheduled in 2099 so nothing runs, and Debian's chromium (headless,
# through playwright-core) on its page.  Prints, for each size:
#   a. time to first render (the first page of the job list drawn) and to
#      interactive (its handlers on, its first poll set), from navigation
#      start, median of 5 loads (a fresh browser context each: no cache)
#   b. the job list's page request (/v1/dashboard/jobs, 50 rows) and the full
#      Chronos listing (/v1/scheduler/jobs), bytes and ms, for comparison
#   c. bytes transferred per poll (/v1/dashboard/changes, with its headers)
#      when nothing changed and when one job changed
#   d. the server's CPU per poll (user + system from /proc, over 2,000 polls
#      when nothing changed and 200 when one job changed before each)
# Figures only, never pass/fail.  About 3 minutes on 2 cores (posting
# 100,000 jobs takes most).  The server is killed by pid on exit.
# BENCH_QUICK=1 (make bench-quick): 1,000 and 5,000 jobs, a smoke run.
set -u
cd "$(dirname "$0")/../.."
B=${B:-build}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  JOBS=${JOBS:-1000} BIG_JOBS=${BIG_JOBS:-5000}
fi
JOBS=${JOBS:-10000}
BIG_JOBS=${BIG_JOBS:-100000}
make -s "$B/chronos" "$B/chronos-server" >/dev/null || exit 1
if [ ! -x /usr/bin/chromium ] || [ ! -d api/dashboard/node_modules/playwright-core ]; then
  echo "bench/dashboard: needs chromium and api/dashboard/node_modules (make deps)"; exit 1
fi
tmp=$(mktemp -d /tmp/chronos-bench-dash.XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$B/chronos" serve --http_port "$PORT" --data_dir "$tmp/data" >"$tmp/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/ping" -o /dev/null && break; sleep 0.1; done
echo "bench/dashboard: server pid $SERVER on port $PORT"
node bench/dashboard/bench.mjs "http://127.0.0.1:$PORT" "$SERVER" "$JOBS" "$BIG_JOBS"
