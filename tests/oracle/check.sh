#!/bin/bash
# The time oracle: checks `chronos next --json-lines` against an independent
# model of docs/time.md (tests/oracle/oracle.py: Python's zoneinfo,
# no code shared with iso8601/).
#
#   CHRONOS=build/chronos bash tests/oracle/check.sh
#   ORACLE_SEED=123 ORACLE_RANDOM=20000 CHRONOS=... bash tests/oracle/check.sh
#   (ORACLE_TIMEOUT, default 90 s, bounds the one chronos process;
#   ORACLE_CACHE=DIR keeps steps 1 and 2 for a second run, see below)
#
# 1. Runs the oracle's own hand-worked self-test (test_oracle_self.py); if
#    the oracle is wrong, nothing below is trusted and the script fails.
# 2. Builds the cases (cases.py): a fixed curated list (the spec's examples,
#    DST gaps and overlaps of every zone, every extension, far instants, about
#    200 invalid expressions, bad zones, malformed request lines) and
#    ORACLE_RANDOM random ones (default 5000) from ORACLE_SEED (default fixed,
#    printed first, so a run is reproducible; set another to explore).
# 3. Feeds all requests to ONE `chronos next --json-lines` process and
#    compares each answer line with the oracle's: the same instants in the
#    same order, or an {"error": ...} where the oracle says the request is
#    invalid.  Every case is one test; each mismatch is printed with its
#    expression, zone, from, count, want and got.  The process exiting 0 is
#    one more test.  Last line: "N passed, N failed".
#
# Choices where time.md is silent or open (the random cases avoid the open
# ones; the curated cases in cases.py pin only the choices listed here):
# - An instant reached twice (Pacific/Apia skipped 2011-12-30 entirely, so
#   10:00 on Dec 30 shifts onto Dec 31 10:00) is listed once, for cron and
#   for ISO repeating intervals alike.
# - A start that falls in a gap (`R/2030-03-10T02:30:00/P1D`, New York): s0 is
#   shifted to 03:30 EDT and later occurrences keep s0's wall time, 03:30
#   (step 1 takes "the wall time of s0"; java.time's plusDays does the same),
#   not the written 02:30.
# - `R0/...` is valid and fires never ({"next": []}); it is not the
#   "can never fire" error, which time.md states for cron only.
# - A date-only start may carry an offset (`R/2024-01-01Z/P1D`), as the
#   grammar reads.  Leading zeros in numbers are not tested.
# - `L` alone in day of week (Quartz's Saturday) is an error: time.md lists
#   only `dL` there.  Day of week is 0-7, so `a/s` runs up to 7.
# - Instants after 9999-12-31T23:59:59.999Z are not compared (the oracle
#   stops there; the binary may list them or stop).
# - JSON requests: "count" must be a positive integer (0, -1, "3", 1.5 are
#   errors, as --count 0 is a usage error); "from" is YYYY-MM-DDTHH:MM:SS[.f]Z.
# - Not generated (open in time.md): whitespace other than single spaces,
#   upper-case macros, lower-case l/w in extensions, extensions or `*`/`?`
#   inside lists, steps larger than the field's span, names before `/`,
#   `a/s` in day of week reaching 7, `...-SUN`, `L-n` with n > 27, `nW` with
#   n > 28, an empty or null "tz", unknown JSON keys, "from" with an offset.
set -u
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
SEED=${ORACLE_SEED:-20300310}
NRAND=${ORACLE_RANDOM:-5000}
echo "seed $SEED, $NRAND random cases (reproduce: ORACLE_SEED=$SEED ORACLE_RANDOM=$NRAND)"

fail_early() {
  echo "$1"
  echo "0 passed, 1 failed"
  exit 1
}

[ -n "${CHRONOS:-}" ] || fail_early "CHRONOS is not set (CHRONOS=build/chronos bash $0)"
case "$CHRONOS" in /*) ;; *) CHRONOS="$PWD/$CHRONOS" ;; esac
[ -x "$CHRONOS" ] || fail_early "CHRONOS=$CHRONOS is not an executable"
[ -x "$PY" ] || fail_early "$PY not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ORACLE_CACHE (make test sets it): a directory where the outcome of steps 1
# and 2 is kept, keyed by the oracle, its self-test, the cases generator, the
# time zone data, the seed and the count, so that make test's two runs of
# this script (with the release and the ASan binary) compute them once.
# Only a success is kept.
key=$(cat "$HERE/oracle.py" "$HERE/test_oracle_self.py" "$HERE/cases.py" \
  /usr/share/zoneinfo/tzdata.zi 2>/dev/null | sha256sum | cut -c1-16)-$SEED-$NRAND
cache=${ORACLE_CACHE:+$ORACLE_CACHE/$key}
# cached NAME CMD...: runs CMD (which writes into $1 = a new directory),
# or takes what a run of it for the same key left in $cache/NAME; the
# files end up in $tmp/NAME.
cached() {
  local name=$1; shift
  if [ -z "$cache" ]; then
    mkdir "$tmp/$name" && "$@" "$tmp/$name"
    return
  fi
  mkdir -p "$cache" &&
    ( flock 9
      [ -e "$cache/$name.ok" ] && exit 0
      rm -rf "$cache/$name" && mkdir "$cache/$name" && "$@" "$cache/$name" && : >"$cache/$name.ok"
    ) 9>"$cache/.lock" &&
    cp -r "$cache/$name" "$tmp/$name"
}

# 1. the oracle checks itself
self_test() { "$PY" "$HERE/test_oracle_self.py" >"$1/self.log" 2>&1; }
if ! cached self self_test; then
  cat "$tmp/self/self.log" "$cache/self/self.log" 2>/dev/null
  fail_early "the oracle's self-test failed: its expectations cannot be trusted"
fi
echo "oracle self-test ok ($(tail -1 "$tmp/self/self.log"))${cache:+ (its outcome kept in $cache)}"

# 2. the cases and the oracle's answers
gen_cases() { # gen_cases DIR: req.jsonl, want.jsonl and ncases in DIR
  "$PY" "$HERE/cases.py" gen "$1" --seed "$SEED" --random "$NRAND" >"$1/ncases" 2>"$1/gen.log"
}
if ! cached cases gen_cases; then
  cat "$tmp/cases/gen.log" "$cache/cases/gen.log" 2>/dev/null
  fail_early "generating the cases failed"
fi
mv "$tmp/cases/"* "$tmp/"
ncases=$(cat "$tmp/ncases")
echo "$ncases cases"

# 3. one chronos process answers them all
timeout --kill-after=5 "${ORACLE_TIMEOUT:-90}" "$CHRONOS" next --json-lines <"$tmp/req.jsonl" >"$tmp/got.jsonl" 2>"$tmp/stderr"
rc=$?
proc_fail=0
if [ "$rc" -ne 0 ]; then
  proc_fail=1
  answered=$(wc -l <"$tmp/got.jsonl")
  echo "FAIL chronos next --json-lines exited with status $rc after $answered answer line(s)$([ "$rc" -ge 124 ] && echo " (timed out or killed)")"
  echo "    the first request without an answer (line $((answered + 1))): $(sed -n "$((answered + 1))p" "$tmp/req.jsonl")"
  echo "    stderr ends:"
  tail -n 20 "$tmp/stderr" | sed 's/^/    | /'
fi

"$PY" "$HERE/cases.py" compare "$tmp" >"$tmp/compare.log" 2>&1
crc=$?
line=$(tail -1 "$tmp/compare.log")
if ! echo "$line" | grep -qE '^[0-9]+ passed, [0-9]+ failed$'; then
  cat "$tmp/compare.log"
  fail_early "comparing the answers failed"
fi
sed '$d' "$tmp/compare.log"
p=${line%% passed*}
f=${line#*passed, }; f=${f%% failed*}
p=$((p + 1 - proc_fail))
f=$((f + proc_fail))
[ "$crc" -le 1 ] || f=$((f + 1))
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
