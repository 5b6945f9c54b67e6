#!/bin/bash
# run.sh - the scheduler benchmarks: the real server (`chronos serve`) driven
# over HTTP on 127.0.0.1, with its figures printed next to their targets:
#   1. lateness due instant -> the task's exec (p50/p99/max), 1,000 jobs due
#      each minute, spread over the minute, over 2 minutes (target p99 <= 5 ms)
#   2. durable launches per second, 2,000 jobs due at the same instant, with
#      the default resources (2a) and with tiny ones (2b)
#   3. RSS per idle job with 100,000 jobs loaded (target <= 2 KiB), and the
#      POST rate that loading them got
#   4. restart time with 100,000 jobs: until /ping answers and GET
#      /v1/scheduler/jobs returns them all (target <= 2 s); then, extra, the
#      lateness of jobs due while that listing is requested back to back
# then a summary table.  About 4-5 minutes on 2 cores.
#
# Called from the repository root (or anywhere); B names the build directory
# (default build), as for make; the server is (re)built with make when its
# sources changed.  Each server binds 127.0.0.1 on a port picked here, uses a
# data dir under a temp dir, and is killed by pid on exit, together with any
# `chronos run-task` supervisor left under that temp dir.  Server logs are
# kept in $B/bench/scheduler/.  Prints figures, never fails on them; exits
# non-zero only when it cannot run.  BENCH_QUICK=1: a short smoke run whose
# figures mean little.  Arguments (optional): a subset of
# `lateness burst idle` (idle covers 3 and 4).
#
# Each burst also measures the machine's spawn limit (bench/peers/limits.c:
# posix_spawn of /bin/true, 2 in flight) before and after it, and prints the
# launches/s as a fraction of it.  BURST_VARIANTS=a|b|ab picks the bursts
# (default ab), BURST_JOBS their size; BENCH_ZK=1 runs every server on a
# private ZooKeeper (tests/zk/zk.sh) as its store instead of the local one;
# PERF=<file> records `perf record -a -g` from each burst's due instant until
# its runs are archived (the last burst's profile is kept).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
HERE=bench/scheduler
OUT=$B/bench/scheduler
mkdir -p "$OUT"

make -s B="$B" "$B/chronos" "$B/chronos-server" "$B/chronos-run-task"
# The task of the lateness benchmark: prints the wall clock right after exec.
gcc -O2 -static -o "$OUT/stamp" "$HERE/stamp.c" 2>/dev/null ||
  gcc -O2 -o "$OUT/stamp" "$HERE/stamp.c"
gcc -O2 -Wall -o "$OUT/limits" bench/peers/limits.c

. bench/lib.sh
bench_tmpdir sched

bench_host "$(python3 --version 2>&1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); binary: $B/chronos; temp dir: $TMPD; load average: $(cut -d" " -f1-3 /proc/loadavg)"
echo

ZK=""
if [ "${BENCH_ZK:-}" = 1 ]; then
  ZK=$(ZK_JVM_OPTS="-Xms256m -Xmx1g -XX:+UseSerialGC" tests/zk/zk.sh start "$TMPD/zk" 1) ||
    { echo "ZooKeeper did not start" >&2; exit 1; }
  echo "store: ZooKeeper $ZK"
fi

ZK=$ZK LIMITS=$(realpath "$OUT/limits") CHRONOS=$(realpath "$B/chronos") STAMP=$(realpath "$OUT/stamp") TMPD=$TMPD PIDFILE=$PIDFILE \
  OUT=$(realpath "$OUT") python3 "$HERE/bench.py" "$@"
