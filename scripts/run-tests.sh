#!/bin/bash
# Runs every test of chronos and prints one summary line "N passed, N failed".
#
# Counts test cases, not files: cmocka binaries report theirs ("[  PASSED  ] N
# test(s)."), scripts print their own "N passed, N failed" line last.  A test
# that crashes or times out before reporting counts as one failure.  Each
# suite's output goes to $B/test-logs/; failures print their log's tail.
#
# Suites run side by side (see "The suites, as a queue" below; TEST_LANES=1:
# one after another).  Each suite's line says how long it took; the lanes'
# times come last.
set -u
B=${B:-build}
ONLY=${ONLY:-all}
SMOKE_FUZZ_SECONDS=${SMOKE_FUZZ_SECONDS:-4}
SMOKE_FUZZ_DECODER_SECONDS=${SMOKE_FUZZ_DECODER_SECONDS:-2}
TEST_LANES=${TEST_LANES:-2}
LOGS=$B/test-logs
RES=$LOGS/results
rm -rf "$RES"
mkdir -p "$LOGS" "$RES"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
# The time oracle's answers, computed once for its two suites (release, ASan).
export ORACLE_CACHE=${ORACLE_CACHE:-$LOGS/oracle}
rm -rf "$ORACLE_CACHE"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# counts LOG: "PASSED FAILED" of a suite's log: cmocka's last summary lines,
# else the last "N passed, N failed" line (optionally "name: " first), else
# "0 0" (one awk: this runs for each of ~140 suites).
counts() {
  awk '
    /^\[  PASSED  \] [0-9]+ test/ { p = $4 }
    /^\[  FAILED  \] [0-9]+ test/ { f = $4 }
    /^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed/ {
      l = $0; sub(/^[A-Za-z-]+: /, "", l); split(l, w, " ")
      lp = w[1]; lf = w[3]; seen = 1 }
    END {
      if (p != "" || f != "") print p + 0, f + 0
      else if (seen) print lp + 0, lf + 0
      else print 0, 0 }' "$1"
}

# cpu_of FILE: the CPU seconds /usr/bin/time wrote ("U S" on its last line),
# rounded; "?" when there are none.
cpu_of() {
  local line="" last="" u s
  while IFS= read -r line || [ -n "$line" ]; do last=$line; done 2>/dev/null <"$1"
  read -r u s <<<"$last"
  if [[ "$u" =~ ^[0-9]+\.[0-9][0-9]$ && "$s" =~ ^[0-9]+\.[0-9][0-9]$ ]]; then
    echo $(( (10#${u/./} + 10#${s/./} + 50) / 100 ))
  else
    echo "?"
  fi
}

# run NAME TIMEOUT CMD...: runs one suite; its counts and time go to $RES.
# Few processes of its own (bash's clock, one awk): it runs ~140 times.
run() {
  local name=$1 limit=$2; shift 2
  local file=${name//[\/ ]/_}
  local log="$LOGS/$file.log"
  local rc p f t0 t1
  t0=${EPOCHREALTIME/[.,]/}
  # CPU seconds (user + system, children included) beside the wall time:
  # what a suite costs the machine, not only how long it waits.
  /usr/bin/time -f '%U %S' -o "$RES/.cpu-$file" timeout --kill-after=5 "$limit" "$@" >"$log" 2>&1
  rc=$?
  local cpu; cpu=$(cpu_of "$RES/.cpu-$file")
  t1=${EPOCHREALTIME/[.,]/}
  read -r p f < <(counts "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # ran nothing: a defect
  t0=$(( t0 * 1000 )); t1=$(( t1 * 1000 ))   # microseconds to nanoseconds
  local secs=$(( (t1 - t0) / 1000000000 )) tenth=$(( (t1 - t0) / 100000000 % 10 ))
  echo "$p $f $name" >"$RES/$file"
  echo "$(( (t1 - t0) / 100000000 )) $name" >"$RES/.time-$file"
  if [ "$f" -gt 0 ]; then
    printf 'FAIL %-44s %4d passed %3d failed (rc %d) %4d.%ds %4ss cpu  log: %s\n' "$name" "$p" "$f" \
      "$rc" "$secs" "$tenth" "$cpu" "$log"
    # The failing checks first (cmocka's FAILED/ERROR lines and what led to
    # them, not ok lines of scripts), then the tail: a truncated CI print
    # still names what broke.
    grep -n -B4 -E '^\[  (FAILED|ERROR) +\] [^0-9]|^\[   LINE   \]|^not ok|^FAIL|ERROR: |Assertion|runtime error' "$log" \
      | head -n 30 | sed 's/^/    > /'
    tail -n 15 "$log" | sed 's/^/    | /'
  else
    printf 'ok   %-44s %4d passed %9d.%ds %4ss cpu\n' "$name" "$p" "$secs" "$tenth" "$cpu"
  fi
}

# ---- The suites, as a queue -------------------------------------------------
#
# Every suite is one line in $Q/jobs: "CLASS LIMIT NAME<TAB>COMMAND".  CLASS zk
# (the tests that start ZooKeeper clusters and time failovers) run in their
# own lanes, ZK_JOBS (2) at a time, so no more of them than that compete for
# the cores (their timing assertions are about sessions of a few seconds);
# everything else is taken by TEST_JOBS workers (3) side by side, longest
# first by the times of the last run ($LOGS/times; on a fresh clone
# tests/suite-times, a run's times on 2 cores), so the long suites do not end
# up last.  More lanes than cores: most suites wait (on timers, fsync,
# ZooKeeper, servers starting) far more than they compute - each suite's
# line shows its CPU seconds beside its wall time.
#
# The suites start while the test binaries build (`make test` passes
# BUILD_SERVERS and BUILD_REST, see build_rest): a suite that runs the
# release binary only starts at once; one that runs $B/test or $B/asan
# binaries waits for the first stage; CLASS bin (unit tests, simulations,
# fuzz targets) for the second.  A worker skips what it cannot run yet and
# takes it as soon as it can.
Q=$LOGS/queue
rm -rf "$Q"
mkdir -p "$Q"
add() { # add CLASS LIMIT NAME COMMAND
  printf '%s %s %s\t%s\n' "$1" "$2" "$3" "$4" >>"$Q/jobs"
}

add_zk() {
  [ "$ONLY" = all ] || return 0
  for t in tests/integration/test_ha.sh tests/integration/test_ha_ensemble.sh \
           tests/integration/test_mesos_ha.sh tests/integration/test_notify_ha.sh; do
    [ -f "$t" ] || continue
    add zk 600 "$t[rel]" "CHRONOS=$B/chronos bash $t"
    add zk 600 "$t[asan]" "CHRONOS=$B/asan/chronos bash $t"
  done
  # A few fault trials on a 3-server cluster (`make faults TRIALS=N` runs more).
  add zk 900 "tests/faults/run.sh (trials)" \
    "TRIALS=${FAULT_TRIALS:-3} CHRONOS=$B/test/chronos bash tests/faults/run.sh"
}

is_zk_test() {
  case "$1" in
    */test_ha.sh|*/test_ha_ensemble.sh|*/test_mesos_ha.sh|*/test_notify_ha.sh) return 0 ;;
  esac
  return 1
}

# Everything else: unit tests and simulations (each plain and under
# ASan+UBSan), the script tests against the release and the ASan binary,
# the local fault trials, a short fuzz run of every target, lint.
add_main() {
  for variant in test asan; do
    # The Makefile's list (UNITS), so a binary left over from a moved test never runs.
    for name in ${UNITS:-$(cd "$B/$variant/unit" 2>/dev/null && find . -type f -perm -u+x ! -name '*.d' | sed 's|^\./||' | sort)}; do
      add bin 300 "unit[$variant] $name" "$B/$variant/unit/$name"
    done
  done
  # Deterministic simulations (a fixed set of seeds; `make sim SEEDS=N` runs more).
  # Under ASan the first 3 of the 8 seeds (each a year and more of
  # schedules, so every daylight-saving change): memory errors show on the
  # same paths at a third of the cost; the plain build runs all 8.
  for variant in test asan; do
    local args=""
    [ "$variant" = asan ] && args=" --seeds 3"
    for name in ${SIMS:-$(cd "$B/$variant/sim" 2>/dev/null && find . -type f -perm -u+x ! -name '*.d' | sed 's|^\./||' | sort)}; do
      add bin 600 "sim[$variant] $name" "$B/$variant/sim/$name$args"
    done
  done
  [ "$ONLY" = all ] || return 0
  for t in $(ls tests/cli/*.sh tests/oracle/*.sh tests/integration/*.sh 2>/dev/null | sort); do
    is_zk_test "$t" && continue
    add main 600 "$t[rel]" "CHRONOS=$B/chronos bash $t"
    add main 600 "$t[asan]" "CHRONOS=$B/asan/chronos bash $t"
  done
  add main 300 "tests/mesos/test_double.sh" "bash tests/mesos/test_double.sh"
  # The web dashboard in headless chromium (one browser, one server: about
  # 30 CPU-s; on a machine loaded with other work, chromium takes minutes).
  add main 600 "tests/browser/test_dashboard.sh" "CHRONOS=$B/chronos bash tests/browser/test_dashboard.sh"
  add main 600 "tests/faults/local.sh (trials)" \
    "TRIALS=${FAULT_TRIALS:-3} CHRONOS=$B/test/chronos bash tests/faults/local.sh"
  add main 600 "tests/faults/mesos.sh (trials)" \
    "TRIALS=${FAULT_TRIALS:-3} CHRONOS=$B/test/chronos bash tests/faults/mesos.sh"
  # A short fuzz run of each parser target; `make fuzz` runs longer.  The
  # time engine's targets get SMOKE_FUZZ_SECONDS each, the decoders of what
  # comes from disk and ZooKeeper SMOKE_FUZZ_DECODER_SECONDS.
  for n in ${FUZZES:-$(cd "${FUZZ_DIR:-$B/fuzz}" 2>/dev/null && ls fuzz_* | grep -v '\.' | sort)}; do
    f=${FUZZ_DIR:-$B/fuzz}/$n
    case $n in
      fuzz_cron|fuzz_instant|fuzz_interval) secs=$SMOKE_FUZZ_SECONDS ;;
      *) secs=$SMOKE_FUZZ_DECODER_SECONDS ;;
    esac
    add bin $((secs + 120)) "fuzz $n (${secs}s)" \
      "mkdir -p '$B/fuzz/corpus/$n' && '$f' -max_total_time=$secs '$B/fuzz/corpus/$n' tests/fuzz/seeds/$n && echo '1 passed, 0 failed'"
  done
  # Lint (banned functions, raw allocation, I/O in the core, the arrows).
  add main 60 "lint" 'scripts/lint.sh && echo "1 passed, 0 failed"'
}

# Orders the queue: longest first by the last run's times (unknown: first,
# as they may be long), then numbers the lines so workers can claim them.
order() {
  local times=$LOGS/times
  [ -s "$times" ] || times=tests/suite-times
  awk -F'\t' -v times="$times" '
    BEGIN { while ((getline l < times) > 0) { t = l; sub(/ .*/, "", t); n = l; sub(/^[^ ]* /, "", n); est[n] = t } }
    { split($1, h, " "); name = $1; sub(/^[^ ]* [^ ]* /, "", name)
      printf "%09d\t%s\n", (name in est) ? est[name] * 10 : 999999, $0 }' "$Q/jobs" |
    sort -t"$(printf '\t')" -k1,1nr | cut -f2- | nl -ba -nrz -w5 -s' ' >"$Q/ordered"
}

# build_rest: the binaries the suites need beyond the release build, in the
# background, in two stages: BUILD_SERVERS (the test and ASan builds of the
# server; $Q/servers holds its exit status when done), then BUILD_REST (the
# unit, simulation and fuzz binaries; $Q/built).  Their output goes to
# $LOGS/build.log.  The suites that need only the release binary start at
# once, beside the compiles.
build_rest() {
  : >"$LOGS/build.log"
  (
    t0=$(date +%s) rc=0
    if [ -n "${BUILD_SERVERS:-}" ]; then
      bash -c "$BUILD_SERVERS" >>"$LOGS/build.log" 2>&1
      rc=$?
    fi
    echo "$rc" >"$Q/servers"
    echo "build of the test and ASan servers: $(( $(date +%s) - t0 )) s (rc $rc)" >"$RES/.build"
    if [ "$rc" -eq 0 ] && [ -n "${BUILD_REST:-}" ]; then
      bash -c "$BUILD_REST" >>"$LOGS/build.log" 2>&1
      rc=$?
      echo "build of the unit, simulation and fuzz binaries: $(( $(date +%s) - t0 )) s (rc $rc)" >>"$RES/.build"
    fi
    echo "$rc" >"$Q/built"
  ) &
  builder=$!
}
built() { [ -s "$Q/built" ]; }
servers_built() { [ -s "$Q/servers" ] && [ "$(cat "$Q/servers")" = 0 ]; }

# claim ID: true for the one worker that creates $Q/claim.ID first (bash's
# noclobber: an O_EXCL open, no process; a worker passes every line).
claim() {
  local rc
  set -C
  { : >"$Q/claim.$1"; } 2>/dev/null
  rc=$?
  set +C
  return $rc
}

# next_suite CLASS: runs the first unclaimed suite of CLASS in the queue's
# order whose binaries are built (class bin: the unit, simulation and fuzz
# binaries, taken by main workers; a command that runs a $B/test or $B/asan
# binary: the test and ASan servers); false when there is none to take now.
# Each time from the top: a long suite skipped while the build ran is the
# next one taken after it, not one after the rest.
next_suite() {
  local class=$1 have_bins=false have_servers=false num cls limit rest name cmd
  built && have_bins=true
  servers_built && have_servers=true
  while IFS= read -r line; do
    num=${line%% *}; rest=${line#* }
    cls=${rest%% *}; rest=${rest#* }
    if [ "$cls" = bin ] && [ "$class" = main ]; then
      $have_bins || continue
    elif [ "$cls" != "$class" ]; then
      continue
    fi
    [ -e "$Q/claim.$num" ] && continue
    if ! $have_servers; then
      case $rest in *"$B/test/"*|*"$B/asan/"*) continue ;; esac
    fi
    claim "$num" || continue
    limit=${rest%% *}; rest=${rest#* }
    name=${rest%%$'\t'*}; cmd=${rest#*$'\t'}
    run "$name" "$limit" bash -c "$cmd"
    return 0
  done <"$Q/ordered"
  return 1
}

# worker CLASS: takes the suites of CLASS it can run until none is left,
# waiting for the build's stages as it goes; a main worker reports a failed
# build.
worker() {
  while :; do
    next_suite "$1" && continue
    built && break
    sleep 0.5
  done
  while next_suite "$1"; do :; done
  [ "$1" = main ] || return 0
  if [ "$(cat "$Q/built")" != 0 ] && claim build-log; then
    echo "FAIL the build of the test binaries; $LOGS/build.log:"
    grep -E 'error|Error' "$LOGS/build.log" | head -20 | sed 's/^/    > /'
    tail -n 15 "$LOGS/build.log" | sed 's/^/    | /'
  fi
}

lane_time() { # lane_time NAME CLASS: runs a worker, says how long it took
  local t0; t0=$(date +%s)
  worker "$2"
  echo "lane $1: $(( $(date +%s) - t0 )) s" >"$RES/.lane-$1"
}

add_zk
add_main
order
t_start=$(date +%s)
build_rest
TEST_JOBS=${TEST_JOBS:-3}
ZK_JOBS=${ZK_JOBS:-2}
[ "$TEST_LANES" -gt 1 ] || { TEST_JOBS=1; ZK_JOBS=1; }
pids=()
if [ "$TEST_LANES" -gt 1 ]; then
  for z in $(seq 1 "$ZK_JOBS"); do
    lane_time "zookeeper$z" zk & pids+=($!)
  done
fi
for w in $(seq 2 "$TEST_JOBS"); do
  lane_time "main$w" main & pids+=($!)
done
lane_time main1 main
for p in "${pids[@]}"; do wait "$p"; done
[ "$TEST_LANES" -gt 1 ] || lane_time zookeeper zk
[ -z "${builder:-}" ] || wait "$builder"

passed=0 failed=0 failed_names=()
for r in "$RES"/*; do
  read -r p f name <"$r"
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -gt 0 ] && failed_names+=("$name")
done
cat "$RES"/.build 2>/dev/null
cat "$RES"/.lane-* 2>/dev/null | tr '\n' ';' | sed 's/;$/\n/;s/;/; /g'
if [ "$(cat "$Q/built")" != 0 ]; then
  failed=$((failed + 1)); failed_names+=("the build (see $LOGS/build.log)")
fi
# Each suite's time (tenths of a second) for the next run's order.
cat "$RES"/.time-* 2>/dev/null | awk '{ printf "%d %s\n", $1 / 10, substr($0, index($0, " ") + 1) }' >"$LOGS/times.new" &&
  mv "$LOGS/times.new" "$LOGS/times"
echo "all suites: $(( $(date +%s) - t_start )) s"
if [ "${#failed_names[@]}" -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
