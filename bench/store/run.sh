#!/bin/bash
# run.sh - the local store benchmark: durable batches/s and submit ->
# completion latency (p50/p99) with 1 and 32 submitters and one pipelining
# submitter, then the time to load 100,000 jobs of ~600 B (from the log, from
# a snapshot, and the whole startup read) and the memory they take.  Called
# from the repository root (or anywhere); B names the build directory
# (default build), as for make.  BENCH_RUNS (1-9, default 3) sets the runs;
# BENCH_DIR (default /tmp) the file system measured.  Prints figures, never
# fails on them; exits non-zero only when it cannot run.  BENCH_QUICK=1: one
# run (make bench-quick), a smoke run.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
OUT=$B/bench/store
mkdir -p "$OUT"

# The library, rebuilt when its sources changed so the figures are never of
# stale code (a no-op when it is up to date).
make -s B="$B" "$B/rel/libchr.a"
gcc -O2 -I. -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L bench/store/bench_store.c \
  "$B/rel/libchr.a" -ljansson -lpthread -lm -o "$OUT/bench_store"

DIR=$(mktemp -d "${BENCH_DIR:-/tmp}/chr-bench-store-XXXXXX")
trap 'rm -rf "$DIR"' EXIT

echo "host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
  "kernel $(uname -r); $(gcc --version | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); data in $DIR ($(df -T "$DIR" | awk 'NR==2 {print $2" on "$1}'))"
echo
RUNS=${BENCH_RUNS:-3}
[ "${BENCH_QUICK:-0}" = 1 ] && RUNS=${BENCH_RUNS:-1}
"$OUT/bench_store" "$DIR" "$RUNS"
