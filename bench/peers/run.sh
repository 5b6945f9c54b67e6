#!/bin/bash
# run.sh - chronos next to what a user would pick instead, in one run on this
# machine: Debian's cron and BullMQ on Debian's redis-server, each running
# the same task (stamp.c) with at most 20 at once, and the machine's own
# limits (limits.c) measured in the same run.  Workloads (bench.py says how
# each peer is set up):
#   herd     200 jobs due at one minute boundary: lateness p50/p99/max
#   burst    1,000 and 2,000 jobs due at one instant: instant -> last exec,
#            launches/s
#   steady   1,000 jobs a minute spread over the minute, for 30 s:
#            lateness p50/p99 (cron: n/a, it has minute granularity)
# then a table (chronos, cron, BullMQ, the ratios, the machine's limit), also
# written as JSON to $B/bench/peers.json.  About 5-6 minutes: the
# minute-boundary workloads wait for their minutes (one each); QUICK=1 (or
# BENCH_QUICK=1) is a smoke run of small sizes sharing one boundary, about
# 1.5-2 minutes.
#
# Called from the repository root (or anywhere) by `make bench`; B names the
# build directory (default build).  Needs root for cron's daemon (without it
# the cron column is n/a), and cron, redis-server and node/npm (`make deps`;
# installed here through apt-get when missing); BullMQ and ioredis come from
# bench/peers/bullmq/package-lock.json through `npm ci`.  Everything runs
# under a temp dir: chronos and redis-server on 127.0.0.1 at ports picked
# here, cron in a mount namespace of its own (its /etc/cron.d, crontab, spool
# and /run are the bench's), so a system cron or redis, running or not, is
# left alone.  On exit every process started here is killed by pid, with
# anything still running under the temp dir, and the temp dir removed.
# Logs in $B/bench/peers/.  Prints figures, never fails on them; exits
# non-zero only when it cannot run.  Sizes: HERD_N, BURST_NS (1000,2000),
# STEADY_PER_MIN, STEADY_WINDOW_S, LIMIT_SPAWNS, LIMIT_SLEEPS; WAIT_S and
# STALL_S (bench.py); REDIS_AOF=1 gives redis the persistence BullMQ's
# production guide recommends.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
HERE=bench/peers
OUT=$B/bench/peers
mkdir -p "$OUT"
[ "${BENCH_QUICK:-0}" = 1 ] && QUICK=1
QUICK=${QUICK:-0}

# The server runs the small supervisor beside its binary when it is there,
# as an installed chronos does (make all, make install).
make -s B="$B" "$B/chronos" "$B/chronos-server" "$B/chronos-run-task"
gcc -O2 -Wall -static -o "$OUT/stamp" "$HERE/stamp.c" 2>/dev/null ||
  gcc -O2 -Wall -o "$OUT/stamp" "$HERE/stamp.c"
gcc -O2 -Wall -o "$OUT/limits" "$HERE/limits.c"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=""
command -v cron >/dev/null 2>&1 || [ -x /usr/sbin/cron ] || need="$need cron"
command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
if [ -n "$need" ]; then
  echo "bench: installing$need"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y --no-install-recommends $need >/dev/null 2>&1; then
    as_root apt-get update -qq && as_root apt-get install -y --no-install-recommends $need >/dev/null ||
      echo "bench: could not install$need: those peers are n/a"
  fi
fi
export PATH=$PATH:/usr/sbin
lock=$HERE/bullmq/package-lock.json
mods=$HERE/bullmq/node_modules/.package-lock.json
if command -v npm >/dev/null 2>&1 && { [ ! -f "$mods" ] || [ "$lock" -nt "$mods" ]; }; then
  echo "bench: npm ci in $HERE/bullmq (bullmq and ioredis, as pinned by package-lock.json)"
  (cd "$HERE/bullmq" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) ||
    echo "bench: npm ci failed: BullMQ is n/a"
fi

TMPD=$(mktemp -d /tmp/chronos-bench-peers.XXXXXX)
chmod 755 "$TMPD"
PIDFILE=$TMPD/pids
CLEANUP=$TMPD/files
: >"$PIDFILE"
: >"$CLEANUP"
cleanup() {
  local pid f p
  while read -r pid; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done <"$PIDFILE"
  while read -r f; do
    [ -n "$f" ] && rm -f "$f"
  done <"$CLEANUP"
  # Whatever still runs with the temp dir on its command line (a chronos
  # supervisor, a task), by pid.
  for p in /proc/[0-9]*; do
    grep -qsF "$TMPD" "$p/cmdline" && kill -KILL "${p#/proc/}" 2>/dev/null || true
  done
  rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "host: $(nproc) cpus, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r);"\
  "$(python3 --version 2>&1); node $(node --version 2>/dev/null || echo absent);"\
  "$(redis-server --version 2>/dev/null | cut -d' ' -f1-3 || echo 'redis absent');"\
  "cron $(dpkg-query -W -f='${Version}' cron 2>/dev/null || echo absent);"\
  "bullmq $(node -p "require('./$HERE/bullmq/node_modules/bullmq/package.json').version" 2>/dev/null || echo absent)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); binary: $B/chronos; temp dir: $TMPD; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

CHRONOS=$(realpath "$B/chronos") STAMP=$(realpath "$OUT/stamp") LIMITS=$(realpath "$OUT/limits") \
  TMPD=$TMPD PIDFILE=$PIDFILE CLEANUP=$CLEANUP OUT=$(realpath "$OUT") \
  JSON_OUT=$(realpath "$B/bench")/peers.json BULLMQ_DIR=$(realpath "$HERE/bullmq") QUICK=$QUICK \
  python3 "$HERE/bench.py"
