#!/bin/bash
# Config sync converges, through the real binary: `chronos apply -f DIR` of a
# directory of Chronos job files (a job every 2 s from now, `R//PT2S`; a job
# three times from now, `R3//PT2S`, with a dependent; a run-once-now job; a
# cron job in a zone), the jobs run, then the same directory is applied
# again: the dry run and the apply say `unchanged` for every job, the
# server's job JSON is byte-identical before and after (Chronos's counters of
# the job that keeps running aside), and the re-apply launches nothing: no
# run of a finished job, the running one stays on the grid of its first
# start.  Then a changed file is applied: only that job is `updated`, with
# its diff.
#
#   CHRONOS=build/chronos bash tests/integration/test_sync_converge.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init syncconv
PY=/usr/bin/python3
dir=$tmp/jobs
mkdir -p "$dir"

cat >"$dir/10-tick.json" <<EOF
{"name":"tick","command":"echo t >> $tmp/tick.out","schedule":"R//PT2S"}
EOF
cat >"$dir/20-burst.json" <<EOF
[{"name":"burst","command":"echo b >> $tmp/burst.out","schedule":"R3//PT2S","owner":"ops@example.com"},
 {"name":"once","command":"echo o >> $tmp/once.out"}]
EOF
cat >"$dir/30-after.json" <<EOF
{"name":"after","command":"echo a >> $tmp/after.out","parents":["burst"],"retries":1}
EOF
cat >"$dir/40-nightly.json" <<EOF
{"name":"nightly","command":"true","schedule":"0 3 * * *","scheduleTimeZone":"Europe/Paris"}
EOF

if ! start_server "$tmp/data"; then
  bad "the server did not start" "$(tail -5 "$tmp/data.log")"
  finish
fi
URL="http://127.0.0.1:$PORT"
apply() { "$CHRONOS" apply -f "$dir" --server "$URL" "$@" >"$tmp/out" 2>"$tmp/err"; }

apply
[ $? = 0 ] && [ "$(sort "$tmp/out" | tr '\n' ' ')" = "created after created burst created nightly created once created tick " ] &&
  ok "apply -f DIR creates the five jobs" || bad "first apply" "$(cat "$tmp/out" "$tmp/err")"

# ---- Let them run: tick at least twice, burst its three times, after and once ----
idle() { [ "$(status_field "$1" state)" = idle ]; }
ran_enough() {
  has_lines "$tmp/tick.out" 2 && has_lines "$tmp/burst.out" 3 && has_lines "$tmp/after.out" 1 &&
    has_lines "$tmp/once.out" 1 && [ "$(status_field burst remainingRepeats)" = 0 ] &&
    idle burst && idle after && idle once
}
wait_for 40 ran_enough && ok "the jobs ran: tick, burst three times, after, once" \
  || bad "the jobs did not all run" "tick $(lines "$tmp/tick.out") burst $(lines "$tmp/burst.out") after $(lines "$tmp/after.out") once $(lines "$tmp/once.out")"

# The runs of each job (ids), and every job's JSON.
runs_of() { curl -s "$URL/v1/runs?job=$1&limit=1000" | $PY -c 'import json,sys; print(" ".join(sorted(r["id"] for r in json.load(sys.stdin))))'; }
snapshot() { # snapshot FILE: GET /jobs, one job per line by name, tick's counters aside
  curl -s "$URL/v1/scheduler/jobs" | $PY -c '
import json, sys
jobs = json.loads(sys.stdin.read())
for j in sorted(jobs, key=lambda j: j["name"]):
    if j["name"] == "tick":  # it keeps running: Chronos counts its runs
        for k in ("successCount", "errorCount", "lastSuccess", "lastError", "errorsSinceLastSuccess"):
            j.pop(k)
    print(json.dumps(j, separators=(",", ":")))' >"$1"
}
raw() { curl -s "$URL/v1/scheduler/job/$1"; }
snapshot "$tmp/before"
before_burst=$(raw burst) before_after=$(raw after) before_once=$(raw once) before_nightly=$(raw nightly)
runs_burst=$(runs_of burst) runs_after=$(runs_of after) runs_once=$(runs_of once)

# ---- Apply again: nothing to do ---------------------------------------------------
apply --dry-run
[ $? = 0 ] && [ "$(sort "$tmp/out" | tr '\n' ' ')" = "unchanged after unchanged burst unchanged nightly unchanged once unchanged tick " ] &&
  ok "apply --dry-run after the runs: every job unchanged, no diff" || bad "dry run" "$(cat "$tmp/out" "$tmp/err")"
apply
[ $? = 0 ] && [ "$(sort "$tmp/out" | tr '\n' ' ')" = "unchanged after unchanged burst unchanged nightly unchanged once unchanged tick " ] &&
  ok "apply again: every job unchanged" || bad "second apply" "$(cat "$tmp/out" "$tmp/err")"
# Time passes (tick runs twice more), then nothing must have changed.
n=$(lines "$tmp/tick.out")
wait_for 20 has_lines "$tmp/tick.out" $((n + 2)) || bad "tick stopped running after the re-apply"
snapshot "$tmp/after"
cmp -s "$tmp/before" "$tmp/after" && ok "GET jobs is the same before and after (tick's counters aside)" \
  || bad "the jobs changed" "$(diff "$tmp/before" "$tmp/after" | head -5)"
[ "$(raw burst)" = "$before_burst" ] && [ "$(raw after)" = "$before_after" ] &&
  [ "$(raw once)" = "$before_once" ] && [ "$(raw nightly)" = "$before_nightly" ] &&
  ok "the finished jobs' JSON is byte-identical, counters and all" || bad "a job's JSON changed" "$(raw burst)"
[ "$(runs_of burst)" = "$runs_burst" ] && [ "$(runs_of after)" = "$runs_after" ] &&
  [ "$(runs_of once)" = "$runs_once" ] && [ "$(lines "$tmp/burst.out")" = 3 ] && [ "$(lines "$tmp/once.out")" = 1 ] &&
  ok "the re-apply launched nothing: burst, after and once have the same runs" \
  || bad "extra runs" "burst $(runs_of burst); once $(runs_of once)"
# tick's runs all fall on the grid of the start it got at creation.
curl -s "$URL/v1/runs?job=tick&limit=1000" >"$tmp/tick.runs"
$PY - "$(raw tick)" "$tmp/tick.runs" <<'EOF'
import json, sys, datetime
sched = json.loads(sys.argv[1])["schedule"]
start = sched.split("/")[1]
t0 = datetime.datetime.strptime(start.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z") if "." in start \
    else datetime.datetime.strptime(start.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
runs = json.load(open(sys.argv[2]))
def ms(iso):
    return int(datetime.datetime.strptime(iso.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
base = int(t0.timestamp() * 1000)
off = [r["id"] for r in runs if r["cause"] != "scheduled" or (ms(r["scheduledAt"]) - base) % 2000 != 0]
sys.exit(1 if off or len(runs) < 4 else 0)
EOF
[ $? = 0 ] && ok "tick's runs all fall on its first start's 2 s grid (its start was kept)" \
  || bad "tick's runs" "$(raw tick) $(head -c 400 "$tmp/tick.runs")"

# ---- A real change: only that job is updated --------------------------------------
sed -i 's/"retries":1/"retries":4/' "$dir/30-after.json"
apply --dry-run
grep -q "^would update after$" "$tmp/out" && grep -q "^  retries: 1 -> 4$" "$tmp/out" &&
  [ "$(grep -c '^unchanged ' "$tmp/out")" = 4 ] &&
  ok "a changed file: the dry run shows that job's diff, the others unchanged" || bad "dry run of a change" "$(cat "$tmp/out")"
apply
grep -q "^updated after$" "$tmp/out" && [ "$(grep -c '^unchanged ' "$tmp/out")" = 4 ] &&
  [ "$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["retries"])' "$(raw after)")" = 4 ] &&
  [ "$(raw burst)" = "$before_burst" ] &&
  ok "apply: after updated, the others untouched" || bad "apply of a change" "$(cat "$tmp/out")"
stop_server
finish
