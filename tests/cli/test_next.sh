#!/bin/bash
# `chronos next` as a user meets it (docs/time.md, section "Output and `chronos next`"):
# exit codes (0 ok, 1 with one line on stderr for a bad expression, zone or
# --from or --count value, 2 for usage errors), --help, the default count and --from, the
# output format, and --json-lines (order kept, a malformed line answered with
# an error while the stream goes on).  Expected instants are worked out by
# hand in the comments, not taken from the binary.
#
#   CHRONOS=build/chronos bash tests/cli/test_next.sh
#
# Last line: "N passed, N failed"; exits non-zero if any failed.
set -u
PY=/usr/bin/python3
passed=0
failed=0

if [ -z "${CHRONOS:-}" ] || [ ! -x "$CHRONOS" ]; then
  echo "CHRONOS='${CHRONOS:-}' is not an executable (CHRONOS=build/chronos bash $0)"
  echo "0 passed, 1 failed"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
OUT=$tmp/out
ERR=$tmp/err

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL $1"
  shift
  for l in "$@"; do echo "    $l"; done
  if [ -s "$OUT" ]; then head -n 8 "$OUT" | sed 's/^/    stdout| /'; fi
  if [ -s "$ERR" ]; then head -n 4 "$ERR" | sed 's/^/    stderr| /'; fi
}

# run ARGS...: runs `chronos ARGS...` with stdin from $IN (or /dev/null),
# sets RC; stdout in $OUT, stderr in $ERR.
IN=/dev/null
run() {
  timeout --kill-after=5 30 "$CHRONOS" "$@" <"$IN" >"$OUT" 2>"$ERR"
  RC=$?
}
show() { printf '%q ' chronos "$@"; }

# expect_lines NAME EXPECTED-OUTPUT ARGS...: exit 0, stdout exactly as given.
expect_lines() {
  local name=$1 want=$2
  shift 2
  run "$@"
  local got
  got=$(cat "$OUT")
  if [ "$RC" -eq 0 ] && [ "$got" = "$want" ]; then
    ok
  else
    bad "$name: $(show "$@")" "exit $RC (want 0)" "want: $(echo "$want" | tr '\n' ' ')"
  fi
}

# expect_error NAME PATTERN ARGS...: exit 1, nothing on stdout, exactly one
# line on stderr, and that line matches PATTERN (grep -Ei): it names what is
# wrong.
expect_error() {
  local name=$1 pat=$2
  shift 2
  run "$@"
  local lines
  lines=$(grep -c '' "$ERR")
  if [ "$RC" -eq 1 ] && [ ! -s "$OUT" ] && [ "$lines" -eq 1 ] && grep -Eqi -- "$pat" "$ERR"; then
    ok
  else
    bad "$name: $(show "$@")" "exit $RC (want 1), $lines stderr line(s) (want 1 matching /$pat/i), stdout $(wc -c <"$OUT") bytes (want 0)"
  fi
}

# expect_usage NAME ARGS...: exit 2 and something on stderr.
expect_usage() {
  local name=$1
  shift
  run "$@"
  if [ "$RC" -eq 2 ] && [ -s "$ERR" ] && [ ! -s "$OUT" ]; then
    ok
  else
    bad "$name: $(show "$@")" "exit $RC (want 2, a message on stderr, nothing on stdout)"
  fi
}

NY=America/New_York

# --- the spec's example.  In New York 2030 DST starts Sun Mar 10 at 02:00 EST
# (-05:00) -> 03:00 EDT (-04:00).  Mar 9 02:30 EST = 07:30Z.  Mar 10 02:30 does
# not exist: shifted forward by the one-hour gap to 03:30 EDT = 07:30Z.
# Mar 11 02:30 EDT = 06:30Z.
expect_lines "spec example" "2030-03-09T07:30:00.000Z
2030-03-10T07:30:00.000Z
2030-03-11T06:30:00.000Z" next --tz $NY --from 2030-03-09T00:00:00Z --count 3 '30 2 * * *'
if [ "$RC" -eq 0 ] && [ -s "$OUT" ] && [ ! -s "$ERR" ]; then ok; else bad "spec example: nothing on stderr"; fi

# --- fall back: Sun 2030-11-03 02:00 EDT -> 01:00 EST; 01:30 happens twice and
# fires once, at the earlier (EDT) instant 05:30Z.  Nov 2 01:30 EDT = 05:30Z,
# Nov 4 01:30 EST = 06:30Z.
expect_lines "fall back: earlier instant" "2030-11-02T05:30:00.000Z
2030-11-03T05:30:00.000Z
2030-11-04T06:30:00.000Z" next --tz $NY --from 2030-11-02T00:00:00Z --count 3 '30 1 * * *'

# --- default count is 5; no --tz means UTC; --from is exclusive.
expect_lines "default count 5, UTC, exclusive --from" "2024-01-02T00:00:00.000Z
2024-01-03T00:00:00.000Z
2024-01-04T00:00:00.000Z
2024-01-05T00:00:00.000Z
2024-01-06T00:00:00.000Z" next --from 2024-01-01T00:00:00Z '0 0 * * *'

expect_lines "--count 1" "2024-01-01T01:00:00.000Z" next --from 2024-01-01T00:00:00Z --count 1 '@hourly'

# --- ISO 8601.  Jan 31 + k months, day clamped: Feb 29 (2024 is a leap year).
expect_lines "ISO P1M from Jan 31" "2024-01-31T10:00:00.000Z
2024-02-29T10:00:00.000Z
2024-03-31T10:00:00.000Z" next --from 2024-01-01T00:00:00Z --count 3 'R/2024-01-31T10:00:00Z/P1M'
# --tz wins over the written Z: 13:00 Los Angeles, PST (-8) = 21:00Z until DST
# starts Sun 2024-03-10, then PDT (-7) = 20:00Z.
expect_lines "ISO with --tz: zone wins over offset" "2024-03-09T21:00:00.000Z
2024-03-10T20:00:00.000Z
2024-03-11T20:00:00.000Z" next --tz America/Los_Angeles --from 2024-03-09T00:00:00Z --count 3 'R/2024-03-01T13:00:00Z/P1D'
# London: Sun 2025-03-30 01:00 GMT -> 02:00 BST.  Mar 29 01:30 GMT = 01:30Z;
# Mar 30 01:30 is missing -> 02:30 BST = 01:30Z; Mar 31 01:30 BST = 00:30Z.
expect_lines "ISO P1D across London's gap" "2025-03-29T01:30:00.000Z
2025-03-30T01:30:00.000Z
2025-03-31T00:30:00.000Z" next --tz Europe/London --from 2025-03-28T12:00:00Z --count 3 'R/2025-03-29T01:30:00/P1D'
# R2: only two occurrences, even with --count 5.
expect_lines "ISO R2 ends" "2024-01-01T00:00:00.000Z
2024-01-01T01:00:00.000Z" next --from 2023-12-31T00:00:00Z 'R2/2024-01-01T00:00:00Z/PT1H'

# --- output format: one instant a line, UTC with milliseconds.
run next --tz Pacific/Chatham --from 2025-09-27T00:00:00Z --count 7 '*/7 * * * *'
if [ "$RC" -eq 0 ] && [ "$(grep -c '' "$OUT")" -eq 7 ] &&
   [ "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' "$OUT")" -eq 7 ]; then
  ok
else
  bad "format: --count 7 gives 7 lines like 2024-03-10T07:30:00.000Z" "exit $RC"
fi

# --- default --from is now: the first minute boundary after now.
t0=$(date +%s)
run next --count 1 '* * * * *'
t1=$(date +%s)
first=$(head -n 1 "$OUT")
fe=$(date -u -d "$first" +%s 2>/dev/null || echo 0)
if [ "$RC" -eq 0 ] && [ "$fe" -ge "$t0" ] && [ "$fe" -le $((t1 + 61)) ] && [ $((fe % 60)) -eq 0 ]; then
  ok
else
  bad "default --from is now: first instant $first not within 61 s after now ($(date -u -d @"$t0" +%FT%TZ))" "exit $RC"
fi

# --- --help
run next --help
if [ "$RC" -eq 0 ] && cat "$OUT" "$ERR" | grep -q -- --tz && cat "$OUT" "$ERR" | grep -q -- --from &&
   cat "$OUT" "$ERR" | grep -q -- --count && cat "$OUT" "$ERR" | grep -q -- --json-lines; then
  ok
else
  bad "next --help exits 0 and mentions --tz, --from, --count, --json-lines" "exit $RC"
fi

# --- errors: exit 1, one line naming what is wrong
expect_error "bad period P" 'period' next --from 2024-01-01T00:00:00Z 'R/2024-01-01T00:00:00Z/P'
expect_error "zero period" 'period' next --from 2024-01-01T00:00:00Z 'R/2024-01-01T00:00:00Z/PT0S'
expect_error "Feb 30 start" 'start|day|date' next --from 2024-01-01T00:00:00Z 'R/2024-02-30T00:00:00Z/P1D'
expect_error "minute 60" 'minute' next '60 * * * *'
expect_error "hour step 0" 'hour|step' next '0 */0 * * *'
expect_error "never fires" 'never|fire|30|day' next '0 0 30 2 *'
expect_error "@reboot" 'reboot' next '@reboot'
expect_error "four fields" 'field' next '0 0 * *'
expect_error "bad zone" 'Olympus|zone' next --tz Mars/Olympus_Mons '* * * * *'
expect_error "bad zone (case)" 'New_york|zone' next --tz America/New_york 'R/2024-01-01T00:00:00Z/P1D'
expect_error "bad --from" 'from|2030-13' next --from 2030-13-01T00:00:00Z '* * * * *'
expect_error "bad --from word" 'from|yesterday' next --from yesterday '* * * * *'

# --- usage errors: exit 2
expect_usage "unknown option" next --bogus '* * * * *'
expect_usage "missing EXPR" next
expect_usage "missing EXPR with options" next --count 3
# A bad option value is a bad value (exit 1, naming it), like a bad --from
# (time.md: "a bad expression, zone or option ... exits 1").
expect_error "--count 0" 'count' next --count 0 '* * * * *'
expect_error "--count non-numeric" 'count' next --count abc '* * * * *'
expect_error "--count negative" 'count' next --count -1 '* * * * *'
expect_error "--count 3x" 'count' next --count 3x '* * * * *'
expect_error "--count too large" 'count' next --count 10001 '* * * * *'
expect_usage "--count without value" next '* * * * *' --count
expect_usage "--tz without value" next --tz
expect_usage "--from without value" next --from

# --- --json-lines: one answer a line, in order; a malformed line gives an
# error line and the stream goes on.
cat >"$tmp/in1" <<'EOF'
{"expr": "30 2 * * *", "tz": "America/New_York", "from": "2030-03-09T00:00:00Z", "count": 3}
{"expr": "30 2 * * *", "tz":
{"expr": "0 0 * * *", "from": "2024-01-01T00:00:00Z"}
{"expr": "0 0 30 2 *", "from": "2024-01-01T00:00:00Z"}
{"expr": "* * * * *", "tz": "Mars/Olympus_Mons", "from": "2024-01-01T00:00:00Z"}
{"expr": "R/2024-01-31T10:00:00Z/P1M", "from": "2024-01-01T00:00:00Z", "count": 2}
this is not json
{"expr": "@hourly", "from": "2024-01-01T00:00:00Z", "count": 1}
EOF
cat >"$tmp/want1" <<'EOF'
{"next": ["2030-03-09T07:30:00.000Z", "2030-03-10T07:30:00.000Z", "2030-03-11T06:30:00.000Z"]}
error
{"next": ["2024-01-02T00:00:00.000Z", "2024-01-03T00:00:00.000Z", "2024-01-04T00:00:00.000Z", "2024-01-05T00:00:00.000Z", "2024-01-06T00:00:00.000Z"]}
error
error
{"next": ["2024-01-31T10:00:00.000Z", "2024-02-29T10:00:00.000Z"]}
error
{"next": ["2024-01-01T01:00:00.000Z"]}
EOF
# jl_check WANT: compares $OUT line by line with WANT, where a line "error"
# stands for any {"error": "<non-empty>"} object.
jl_check() {
  "$PY" - "$1" "$OUT" <<'EOF'
import json, sys
want = open(sys.argv[1]).read().split("\n")[:-1]
got = open(sys.argv[2], errors="replace").read().split("\n")
if got and got[-1] == "":
    got.pop()
bad = []
if len(got) != len(want):
    bad.append("%d answer lines for %d requests" % (len(got), len(want)))
for i, (w, g) in enumerate(zip(want, got)):
    try:
        gj = json.loads(g)
    except ValueError:
        bad.append("line %d is not JSON: %s" % (i + 1, g))
        continue
    if w == "error":
        if not (isinstance(gj, dict) and isinstance(gj.get("error"), str) and gj["error"]
                and "next" not in gj):
            bad.append("line %d: want an error, got %s" % (i + 1, g))
    elif gj != json.loads(w):
        bad.append("line %d: want %s, got %s" % (i + 1, w, g))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
IN=$tmp/in1
run next --json-lines
if [ "$RC" -eq 0 ] && jl_check "$tmp/want1" >"$tmp/why"; then
  ok
else
  bad "--json-lines: answers in order, malformed lines answered with errors" "exit $RC" "$(cat "$tmp/why")"
fi

# order kept over a longer stream: request i asks for the next hour after
# 2024-01-01T00:00:00Z + i h + 1 s, which is 2024-01-01T00:00:00Z + (i+1) h;
# every 7th line is malformed.
: >"$tmp/in2"
: >"$tmp/want2"
for i in $(seq 0 59); do
  if [ $((i % 7)) -eq 3 ]; then
    echo '{"expr": "0 * * * *", "count": 1' >>"$tmp/in2"
    echo error >>"$tmp/want2"
    continue
  fi
  f=$(date -u -d "2024-01-01T00:00:00Z + $i hours + 1 second" +%FT%TZ)
  w=$(date -u -d "2024-01-01T00:00:00Z + $((i + 1)) hours" +%FT%T.000Z)
  echo "{\"expr\": \"0 * * * *\", \"from\": \"$f\", \"count\": 1}" >>"$tmp/in2"
  echo "{\"next\": [\"$w\"]}" >>"$tmp/want2"
done
IN=$tmp/in2
run next --json-lines
if [ "$RC" -eq 0 ] && jl_check "$tmp/want2" >"$tmp/why"; then
  ok
else
  bad "--json-lines: 60 requests answered in order" "exit $RC" "$(head -5 "$tmp/why")"
fi

# empty input: no output, exit 0
IN=/dev/null
run next --json-lines
if [ "$RC" -eq 0 ] && [ ! -s "$OUT" ]; then ok; else bad "--json-lines with empty input" "exit $RC"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
