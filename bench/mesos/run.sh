#!/bin/bash
# run.sh - the Mesos benchmarks: `chronos serve --master` against the strict
# master double (tests/mesos/double.py) on 127.0.0.1, and the core's offer
# step on its own.  Prints figures, never fails on them; exits non-zero only
# when it cannot run.  About 2.5 minutes on 2 cores:
#   offers    offers -> launches/s with 100 agents, 2,000 runs due at once
#             (~25 s)
#   lateness  task start - instant of runs waiting for offers, allocation
#             interval 1 s, --min_revive_offers_interval 1000 and 5000
#             (2 x ~55 s)
#   core      ns per CHR_EV_OFFER step with 1k / 10k / 100k jobs loaded
#             (bench/mesos/core_offer.c; ~2 s)
# Arguments (optional): a subset of `offers lateness core`.  B names the
# build directory (default build), as for make; the server and the library
# are rebuilt with make when their sources changed.  Sizes: see bench.py.
# Everything runs under a temp dir; the servers are killed by pid, the
# doubles stopped by SIGTERM (which stops their tasks), then by pid.  Logs
# are kept in $B/bench/mesos/.  BENCH_QUICK=1 (make bench-quick): small sizes
# and short windows as defaults, a smoke run whose figures mean little.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
OUT=$B/bench/mesos
mkdir -p "$OUT"
WHICH=("$@")
[ ${#WHICH[@]} -gt 0 ] || WHICH=(offers lateness core)
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  export AGENTS=${AGENTS:-20} BURST_JOBS=${BURST_JOBS:-200} BURST_LEAD_S=${BURST_LEAD_S:-5} \
    LAT_BURST=${LAT_BURST:-50} LAT_WINDOW_S=${LAT_WINDOW_S:-15} CORE_STEPS=${CORE_STEPS:-2000}
fi

make -s B="$B" "$B/chronos" "$B/chronos-server" "$B/rel/libchr.a"
gcc -O2 -I. -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L bench/mesos/core_offer.c \
  "$B/rel/libchr.a" -ljansson -lpthread -lm -o "$OUT/core_offer"

TMPD=$(mktemp -d /tmp/chronos-bench-mesos.XXXXXX)
PIDFILE=$TMPD/pids
DPIDFILE=$TMPD/double-pids
: >"$PIDFILE"
: >"$DPIDFILE"
cleanup() {
  local pid
  while read -r pid; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done <"$PIDFILE"
  while read -r pid; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  done <"$DPIDFILE"
  sleep 1
  while read -r pid; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done <"$DPIDFILE"
  rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
  "kernel $(uname -r); $(/usr/bin/python3 --version 2>&1) (the double)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); binary: $B/chronos; load average: $(cut -d" " -f1-3 /proc/loadavg)"
echo

PYWHICH=()
for w in "${WHICH[@]}"; do
  case $w in
    offers|lateness) PYWHICH+=("$w") ;;
    core) ;;
    *) echo "unknown benchmark '$w' (offers, lateness, core)" >&2; exit 2 ;;
  esac
done
if [ ${#PYWHICH[@]} -gt 0 ]; then
  CHRONOS=$(realpath "$B/chronos") TMPD=$TMPD PIDFILE=$PIDFILE DPIDFILE=$DPIDFILE \
    OUT=$(realpath "$OUT") python3 bench/mesos/bench.py "${PYWHICH[@]}"
fi
for w in "${WHICH[@]}"; do
  if [ "$w" = core ]; then
    echo "== the core's offer step (bench/mesos/core_offer.c)"
    "$OUT/core_offer" "${CORE_STEPS:-20000}"
  fi
done
