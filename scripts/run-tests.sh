#!/bin/bash
# Runs every test of chronos and prints one summary line "N passed, N failed".
#
# Counts test cases, not files: cmocka binaries report theirs ("[  PASSED  ] N
# test(s)."), scripts print their own "N passed, N failed" line last.  A test
# that crashes or times out before reporting counts as one failure.  Each
# suite's output goes to $B/test-logs/; failures print their log's tail.
#
# Suites run in two lanes side by side (TEST_LANES=1: one after another):
# the tests that start ZooKeeper clusters and time failovers share one lane,
# so that two of them never compete for the cores (their timing assertions
# are about sessions of a few seconds); everything else fills the other.
# Each suite's line says how long it took; the lanes' times come last.
set -u
B=${B:-build}
ONLY=${ONLY:-all}
SMOKE_FUZZ_SECONDS=${SMOKE_FUZZ_SECONDS:-15}
SMOKE_FUZZ_DECODER_SECONDS=${SMOKE_FUZZ_DECODER_SECONDS:-8}
TEST_LANES=${TEST_LANES:-2}
LOGS=$B/test-logs
RES=$LOGS/results
rm -rf "$RES"
mkdir -p "$LOGS" "$RES"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run NAME TIMEOUT CMD...: runs one suite; its counts and time go to $RES.
run() {
  local name=$1 limit=$2; shift 2
  local file; file=$(echo "$name" | tr '/ ' '__')
  local log="$LOGS/$file.log"
  local rc p f t0 t1
  t0=$(date +%s%N)
  timeout --kill-after=5 "$limit" "$@" >"$log" 2>&1
  rc=$?
  t1=$(date +%s%N)
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
  local secs=$(( (t1 - t0) / 1000000000 )) tenth=$(( (t1 - t0) / 100000000 % 10 ))
  echo "$p $f $name" >"$RES/$file"
  if [ "$f" -gt 0 ]; then
    printf 'FAIL %-44s %4d passed %3d failed (rc %d) %4d.%ds  log: %s\n' "$name" "$p" "$f" \
      "$rc" "$secs" "$tenth" "$log"
    tail -n 25 "$log" | sed 's/^/    | /'
  else
    printf 'ok   %-44s %4d passed %9d.%ds\n' "$name" "$p" "$secs" "$tenth"
  fi
}

# The ZooKeeper lane: clusters, failovers, fault trials.
zk_lane() {
  [ "$ONLY" = all ] || return 0
  for t in tests/integration/test_ha.sh tests/integration/test_ha_ensemble.sh \
           tests/integration/test_packs.sh; do
    [ -f "$t" ] || continue
    CHRONOS="$B/chronos" run "$t[rel]" 600 bash "$t"
    CHRONOS="$B/asan/chronos" run "$t[asan]" 600 bash "$t"
  done
  # A few fault trials on a 3-server cluster (`make faults TRIALS=N` runs more).
  TRIALS=${FAULT_TRIALS:-3} CHRONOS="$B/test/chronos" run "tests/faults/run.sh (trials)" 900 \
    bash tests/faults/run.sh
}

is_zk_test() {
  case "$1" in
    */test_ha.sh|*/test_ha_ensemble.sh|*/test_packs.sh) return 0 ;;
  esac
  return 1
}

# Everything else: unit tests and simulations (each plain and under
# ASan+UBSan), the script tests against the release and the ASan binary,
# the local fault trials, a short fuzz run of every target, lint.
main_lane() {
  for variant in test asan; do
    # The Makefile's list (UNITS), so a binary left over from a moved test never runs.
    for name in ${UNITS:-$(cd "$B/$variant/unit" 2>/dev/null && find . -type f -perm -u+x ! -name '*.d' | sed 's|^\./||' | sort)}; do
      run "unit[$variant] $name" 300 "$B/$variant/unit/$name"
    done
  done
  # Deterministic simulations (a fixed set of seeds; `make sim SEEDS=N` runs more).
  for variant in test asan; do
    for bin in $(find "$B/$variant/sim" -type f -perm -u+x ! -name '*.d' 2>/dev/null | sort); do
      run "sim[$variant] ${bin#$B/$variant/sim/}" 600 "$bin"
    done
  done
  [ "$ONLY" = all ] || return 0
  for t in $(ls tests/cli/*.sh tests/oracle/*.sh tests/integration/*.sh 2>/dev/null | sort); do
    is_zk_test "$t" && [ "$TEST_LANES" -gt 1 ] && continue
    CHRONOS="$B/chronos" run "$t[rel]" 600 bash "$t"
    CHRONOS="$B/asan/chronos" run "$t[asan]" 600 bash "$t"
  done
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
}

lane_time() { # lane_time NAME FUNCTION: runs a lane, says how long it took
  local t0; t0=$(date +%s)
  "$2"
  echo "lane $1: $(( $(date +%s) - t0 )) s" >"$RES/.lane-$1"
}

t_start=$(date +%s)
if [ "$TEST_LANES" -gt 1 ]; then
  lane_time zookeeper zk_lane &
  zk=$!
  lane_time main main_lane
  wait "$zk"
else
  lane_time main main_lane
  lane_time zookeeper zk_lane
fi

passed=0 failed=0 failed_names=()
for r in "$RES"/*; do
  read -r p f name <"$r"
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -gt 0 ] && failed_names+=("$name")
done
cat "$RES"/.lane-* 2>/dev/null | tr '\n' ';' | sed 's/;$/\n/;s/;/; /g'
echo "all suites: $(( $(date +%s) - t_start )) s"
if [ "${#failed_names[@]}" -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
