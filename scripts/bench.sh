#!/bin/bash
# bench.sh NAME... - runs bench/NAME/run.sh for each NAME in turn (make bench,
# make bench-quick), each under a header with its wall time.  A benchmark
# that cannot run (non-zero exit) does not stop the others; their names end
# the output and the exit status is 1 then.  B (the build directory) and
# BENCH_QUICK pass through to each run.sh.
set -u
cd "$(dirname "$0")/.."
# Each run.sh's own `make` is a make of its own (the Makefile's -j), not a
# child of make bench's jobserver, which a recipe does not pass down.
unset MAKEFLAGS MFLAGS
failed=()
for name in "$@"; do
  echo "==== bench/$name${BENCH_QUICK:+ (BENCH_QUICK=$BENCH_QUICK)} - $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  start=$(date +%s)
  if ! bash "bench/$name/run.sh"; then
    failed+=("$name")
  fi
  echo "==== bench/$name: $(( $(date +%s) - start )) s"
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: could not run: ${failed[*]}"
  exit 1
fi
