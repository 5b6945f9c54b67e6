#!/bin/bash
# run.sh - a million jobs held by one server (issue 18), on the local store
# and on ZooKeeper: for each, the POST rate (the real API, on POST_N jobs),
# then the rest of N filled offline by fill.c (the server's own encoders:
# posting a million takes ~20 minutes here), a restart (spawn -> loaded, ->
# /ping; ZooKeeper: through packs, after a first start that packs what fill
# wrote), RSS per idle job, GET jobs/summary and search latency, the POST of
# job N+1 (the registry's cap), lateness of LATE jobs a minute due while the
# N are loaded (local), and SIGTERM -> exit.  Prints figures beside the
# goals, never fails on them; exits non-zero only when it cannot run.
#
# Environment: N (1000000; e.g. N=20000 for a smoke run), POST_N (100000),
# LATE (1000), STORES ("local zk").  BENCH_QUICK=1 (make bench-quick): N=20000,
# POST_N=5000, LATE=100.  About 30-40 minutes at a million on 2 busy cores,
# most of it ZooKeeper's first node-by-node read of what fill wrote.
# ZooKeeper runs from tests/zk/zk.sh on ports it picks, with a 6 GiB heap (a
# million jobs are ~830 MB of znode data), stopped by its pid file; servers
# are killed by pid; everything lives under a temp dir removed at the end.
# Server logs are kept in $B/bench/million/.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
HERE=bench/million
OUT=$B/bench/million
mkdir -p "$OUT"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  export N=${N:-20000} POST_N=${POST_N:-5000} LATE=${LATE:-100}
fi

make -s B="$B" "$B/chronos" "$B/chronos-server" "$B/chronos-run-task" "$B/rel/libchr.a"
gcc -O2 -I. -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L "$HERE/fill.c" "$B/rel/libchr.a" \
  -lzookeeper_mt -ljansson -lpthread -lm -o "$OUT/fill"
gcc -O2 -static -o "$OUT/stamp" bench/scheduler/stamp.c 2>/dev/null ||
  gcc -O2 -o "$OUT/stamp" bench/scheduler/stamp.c

. bench/lib.sh
bench_tmpdir million

bench_host "$(java -version 2>&1 | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); binary: $B/chronos; temp dir: $TMPD; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ZKH=
if [[ " ${STORES:-local zk} " == *" zk "* ]]; then
  export ZK_JVM_OPTS=${ZK_JVM_OPTS:--Xms6g -Xmx6g -XX:+UseParallelGC}
  ZKH=$(tests/zk/zk.sh start "$TMPD/zk" 1) || { echo "bench: ZooKeeper did not start"; exit 1; }
  echo "ZooKeeper: $ZKH (tests/zk/zk.sh, standalone, JVM $ZK_JVM_OPTS)"
fi
echo

CHRONOS=$(realpath "$B/chronos") FILL=$(realpath "$OUT/fill") STAMP=$(realpath "$OUT/stamp") \
  TMPD=$TMPD PIDFILE=$PIDFILE OUT=$(realpath "$OUT") ZKH=$ZKH python3 "$HERE/bench.py"
