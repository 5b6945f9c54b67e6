#!/bin/bash
# run.sh - the time-engine benchmark: ns per "next instant" of chronos over a
# fixed mix of cron and ISO 8601 schedules, next to croner and cron-parser
# (node) over the cron part of the same mix, in the same run.  Called by
# `make bench` from the repository root; B names the build directory
# (default build), as for make.
#
# Installs what it needs: nodejs and npm through apt-get when missing, the
# peers pinned by package-lock.json through `npm ci` when node_modules is
# missing.  When the peers cannot be installed or run, chronos's figures are
# still printed.  A bench prints figures and never fails on them; it exits
# non-zero only when it cannot run.  BENCH_RUNS (>= 5, default 5) sets the
# runs; BENCH_QUICK=1 makes a short smoke run whose figures mean little.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
HERE=bench/next
OUT=$B/bench/next
mkdir -p "$OUT"

# The library, rebuilt when its sources changed so the figures are never of
# stale code (a no-op when it is up to date).
make -s B="$B" deps "$B/rel/libchr.a"
gcc -O2 -I. "$HERE/bench_next.c" "$B/rel/libchr.a" -ljansson -lpthread -lm -o "$OUT/bench_next"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# node and npm, from Debian when absent.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "bench: installing nodejs and npm"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y --no-install-recommends nodejs npm >/dev/null 2>&1; then
    as_root apt-get update -qq && as_root apt-get install -y --no-install-recommends nodejs npm >/dev/null || true
  fi
fi

peers_ok=0
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if [ ! -d "$HERE/node_modules" ]; then
    echo "bench: npm ci (croner and cron-parser, as pinned by package-lock.json)"
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || echo "bench: npm ci failed"
  fi
  [ -d "$HERE/node_modules/croner" ] && [ -d "$HERE/node_modules/cron-parser" ] && peers_ok=1
fi

echo "host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
  "kernel $(uname -r); $(gcc --version | head -1); node $(node --version 2>/dev/null || echo absent)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"

"$OUT/bench_next" --mix >"$OUT/mix.json"
rm -f "$OUT/peers.json"
if [ "$peers_ok" = 1 ]; then
  echo "bench: timing croner and cron-parser over the cron rows (log: $OUT/peers.log) ..."
  if ! node "$HERE/peers.js" "$OUT/mix.json" >"$OUT/peers.json" 2>"$OUT/peers.log"; then
    echo "bench: peers.js failed, chronos only:"; tail -5 "$OUT/peers.log"
    rm -f "$OUT/peers.json"
  fi
else
  echo "bench: croner/cron-parser not installed: chronos only"
fi
echo
if [ -s "$OUT/peers.json" ]; then
  "$OUT/bench_next" "$OUT/peers.json"
else
  "$OUT/bench_next"
fi
