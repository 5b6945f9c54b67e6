#!/bin/bash
# run.sh - the core's memory per idle job and its speed at taking jobs and
# handling due instants (core_mem.c: no I/O, the scheduling core alone), with
# JOBS jobs (default 100,000; BENCH_QUICK=1: 10,000).  Called from the
# repository root (or anywhere) by `make bench`; B names the build directory
# (default build), as for make.  Prints figures, never fails on them; exits
# non-zero only when it cannot run.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
OUT=$B/bench/core
mkdir -p "$OUT"
JOBS=${JOBS:-100000}
[ "${BENCH_QUICK:-0}" = 1 ] && JOBS=10000

# The library, rebuilt when its sources changed (a no-op when up to date).
make -s B="$B" "$B/rel/libchr.a"
gcc -O2 -I. -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L bench/core/core_mem.c \
  "$B/rel/libchr.a" -ljansson -lpthread -lm -o "$OUT/core_mem"

echo "host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
  "kernel $(uname -r); $(gcc --version | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); jobs: $JOBS"
echo
"$OUT/core_mem" "$JOBS"
