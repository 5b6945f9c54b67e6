#!/bin/bash
# run.sh - the ZooKeeper-mode benchmarks: the real server (`chronos serve
# --zk`) against a real ZooKeeper on loopback (tests/zk/zk.sh, one server,
# tickTime 500 ms), driven over HTTP, each figure printed next to its target:
#   1. POST /v1/scheduler/iso8601 latency, ZooKeeper store, 1,000 sequential
#      new jobs on one keep-alive connection (bench/api/lat.c); the local
#      store alongside (target POST p50 <= 5 ms)
#   2. durable launches per second: 1,000 tiny jobs due at one instant 10 s
#      ahead, instant -> the last task's start; ZooKeeper and local store
#   3. startup with 100,000 jobs in ZooKeeper: load them, kill -9 the
#      server KILL_AFTER_S (20) s later, time its restart (spawn -> "leading
#      (...): loaded in X s", spawn -> jobs/summary lists them all; target
#      <= 5 s), then SIGTERM it and time a restart again; ZooKeeper's znode
#      count and data size (mntr)
#   4. failover of a 3-server cluster: kill -9 the leader, 20 trials at
#      --zk_session_timeout 2000 and 10 at 10000: p50/p99/max until a new
#      leader, its first launch, the first output of a task it started
#      (target <= session timeout + 1 s)
# then a summary table.  About 4 minutes on 2 cores.
#
# Called from the repository root (or anywhere) by `make bench`; B names the
# build directory (default build), as for make; the server is rebuilt when
# its sources changed.  Everything runs under a temp dir: ZooKeeper is
# stopped with tests/zk/zk.sh stop, each server is killed by pid, and
# anything left under the temp dir (task supervisors) by pkill -f on it.
# Server logs are kept in $B/bench/zk/.  Prints figures, never fails on
# them; exits non-zero only when it cannot run.
# Environment: POST_N (1000), BURST_JOBS (1000), BURST_LEAD_S (10),
# BURST_LOCAL (1), JOBS (100000), LOAD_CONNS (32), KILL_AFTER_S (20), FAILOVER_TRIALS (20),
# FAILOVER_TRIALS_LONG (10; 0 skips the 10 s session timeout).  BENCH_QUICK=1
# (make bench-quick): small sizes as defaults, a smoke run whose figures
# mean little.
# Arguments (optional): a subset of `post burst startup failover`.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
HERE=bench/zk
OUT=$B/bench/zk
mkdir -p "$OUT"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  export POST_N=${POST_N:-200} BURST_JOBS=${BURST_JOBS:-200} BURST_LEAD_S=${BURST_LEAD_S:-5} \
    JOBS=${JOBS:-5000} KILL_AFTER_S=${KILL_AFTER_S:-3} FAILOVER_TRIALS=${FAILOVER_TRIALS:-3} \
    FAILOVER_TRIALS_LONG=${FAILOVER_TRIALS_LONG:-0}
fi

make -s B="$B" "$B/chronos" "$B/chronos-server"
gcc -O2 -Wall -o "$OUT/lat" bench/api/lat.c -lpthread

. bench/lib.sh
bench_tmpdir zk

bench_host "$(python3 --version 2>&1)" "$(java -version 2>&1 | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); binary: $B/chronos; temp dir: $TMPD; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# A server-sized JVM (full JIT, 1 GiB heap), not the tests' quick-start one.
export ZK_JVM_OPTS=${ZK_JVM_OPTS:--Xms1g -Xmx1g -XX:+UseParallelGC}
ZKH=$(tests/zk/zk.sh start "$TMPD/zk" 1) || { echo "bench: ZooKeeper did not start"; exit 1; }
echo "ZooKeeper: $ZKH (tests/zk/zk.sh, standalone, tickTime 500 ms, JVM $ZK_JVM_OPTS, data in $TMPD/zk)"
echo

CHRONOS=$(realpath "$B/chronos") LAT=$(realpath "$OUT/lat") TMPD=$TMPD PIDFILE=$PIDFILE \
  OUT=$(realpath "$OUT") ZKH=$ZKH python3 "$HERE/bench.py" "$@"
