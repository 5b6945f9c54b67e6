#!/bin/bash
# Runs every test of chronos and prints one summary line "N passed, N failed".
#
# Counts test cases, not files: cmocka binaries report theirs ("[  PASSED  ] N
# test(s)."), scripts print their own "N passed, N failed" line last.  A test
# that crashes or times out before reporting counts as one failure.  Each
# test's output goes to $B/test-logs/; failures print their log's tail.
set -u
B=${B:-build}
ONLY=${ONLY:-all}
SMOKE_FUZZ_SECONDS=${SMOKE_FUZZ_SECONDS:-15}
SMOKE_FUZZ_DECODER_SECONDS=${SMOKE_FUZZ_DECODER_SECONDS:-8}
LOGS=$B/test-logs
mkdir -p "$LOGS"
passed=0
failed=0
failed_names=()

# run NAME TIMEOUT CMD...: runs one test, adds its counts.
run() {
  local name=$1 limit=$2; shift 2
  local log="$LOGS/$(echo "$name" | tr '/ ' '__').log"
  local rc p f
  timeout --kill-after=5 "$limit" "$@" >"$log" 2>&1
  rc=$?
  p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | tail -1 | grep -oE '[0-9]+' | head -1)
  f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | tail -1 | grep -oE '[0-9]+' | head -1)
  if [ -z "$p$f" ]; then
    local line
    line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -n "$line" ]; then
      p=$(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/')
      f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    fi
  fi
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # ran nothing: a defect
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -gt 0 ]; then
    failed_names+=("$name")
    printf 'FAIL %-44s %4d passed %3d failed (rc %d)  log: %s\n' "$name" "$p" "$f" "$rc" "$log"
    tail -n 25 "$log" | sed 's/^/    | /'
  else
    printf 'ok   %-44s %4d passed\n' "$name" "$p"
  fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Unit tests, each binary plain and under ASan+UBSan.
for variant in test asan; do
  for bin in $(find "$B/$variant/unit" -type f -perm -u+x 2>/dev/null | sort); do
    run "unit[$variant] ${bin#$B/$variant/unit/}" 300 "$bin"
  done
done

# Deterministic simulations (a fixed set of seeds; `make sim SEEDS=N` runs more).
for variant in test asan; do
  for bin in $(find "$B/$variant/sim" -type f -perm -u+x 2>/dev/null | sort); do
    run "sim[$variant] ${bin#$B/$variant/sim/}" 600 "$bin"
  done
done

if [ "$ONLY" = all ]; then
  # Script tests get the binaries to test in the environment; each runs once
  # against the release binary and once against the sanitizer build.
  for t in $(ls tests/cli/*.sh tests/oracle/*.sh tests/integration/*.sh 2>/dev/null | sort); do
    CHRONOS="$B/chronos" run "$t[rel]" 600 bash "$t"
    CHRONOS="$B/asan/chronos" run "$t[asan]" 600 bash "$t"
  done
  # A few fault trials on a 3-server cluster (`make faults TRIALS=N` runs more).
  TRIALS=${FAULT_TRIALS:-3} CHRONOS="$B/test/chronos" run "tests/faults/run.sh (trials)" 900 \
    bash tests/faults/run.sh
  TRIALS=${FAULT_TRIALS:-3} CHRONOS="$B/test/chronos" run "tests/faults/local.sh (trials)" 600 \
    bash tests/faults/local.sh
  # A short fuzz run of each parser target; `make fuzz` runs longer.  The
  # time engine's targets get SMOKE_FUZZ_SECONDS each, the decoders of what
  # comes from disk and ZooKeeper SMOKE_FUZZ_DECODER_SECONDS.
  for f in $(ls "$B"/fuzz/fuzz_* 2>/dev/null | grep -v '\.' | sort); do
    n=$(basename "$f")
    case $n in
      fuzz_cron|fuzz_instant|fuzz_interval) secs=$SMOKE_FUZZ_SECONDS ;;
      *) secs=$SMOKE_FUZZ_DECODER_SECONDS ;;
    esac
    run "fuzz $n (${secs}s)" $((secs + 120)) \
      bash -c "mkdir -p '$B/fuzz/corpus/$n' && '$f' -max_total_time=$secs \
        '$B/fuzz/corpus/$n' tests/fuzz/seeds/$n && echo '1 passed, 0 failed'"
  done
  # Lint (banned functions, raw allocation).
  run "lint" 60 bash -c 'scripts/lint.sh && echo "1 passed, 0 failed"'
fi

if [ "${#failed_names[@]}" -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
