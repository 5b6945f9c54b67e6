#!/bin/bash
# Which binary supervises a run, through the real server: the small
# `chronos-run-task` beside the server's binary (it links no TLS, HTTP or
# ZooKeeper library, so a launch does not load them), and the server's own
# binary (`chronos-server run-task`) when that one is not there.  Either way
# the run finishes with its output kept; and `chronos serve` without
# `chronos-server` beside it says which file it lacks.  Every process started here is stopped
# by pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_supervisor.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init sup

# sup_exe DATA JOB: the executable of the supervisor of JOB's active run
# (its pid is the first field of the run directory's claim).
sup_exe() {
  local claim pid
  claim=$(ls "$1"/runs/*:"$2"/claim 2>/dev/null | head -1)
  [ -n "$claim" ] || return 1
  pid=$(cut -d' ' -f1 "$claim")
  readlink "/proc/$pid/exe"
}
sup_maps() {
  local claim; claim=$(ls "$1"/runs/*:"$2"/claim 2>/dev/null | head -1)
  cat "/proc/$(cut -d' ' -f1 "$claim")/maps" 2>/dev/null
}
finished_with() { # finished_with JOB TEXT: its last run succeeded, stdout has TEXT
  "$CHRONOS" logs "$1" 2>/dev/null | grep -q "$2" && [ "$(field "$1" successCount)" = 1 ]
}

# ---- 1. Beside the binary: the small supervisor ------------------------------
small=$(dirname "$CHRONOS")/chronos-run-task
[ -x "$small" ] || { bad "no $small beside $CHRONOS (make builds both)"; finish; }
data=$tmp/d1
start_server "$data" || { bad "server did not start" "$(tail -5 "$data.log")"; finish; }
export CHRONOS_URL=http://127.0.0.1:$PORT
code=$(api POST /v1/scheduler/iso8601 "{\"name\":\"slow\",\"command\":\"echo small; sleep 3\"}")
[ "$code" = 204 ] || bad "POST slow" "$code $(cat "$tmp/body")"
wait_for 15 sup_exe "$data" slow >/dev/null || bad "the run of slow never had a supervisor"
exe=$(sup_exe "$data" slow)
[ "$exe" = "$(realpath "$small")" ] && ok "the supervisor is chronos-run-task beside the server" ||
  bad "supervisor binary" "$exe, not $small"
maps=$(sup_maps "$data" slow)
if [ -n "$maps" ] && ! echo "$maps" | grep -q -E 'libcurl|libzookeeper|libgnutls|libmicrohttpd'; then
  ok "it maps no curl, ZooKeeper, TLS or HTTP server library"
else
  bad "supervisor libraries" "$(echo "$maps" | grep -o -E '/[^ ]*\.so[^ ]*' | sort -u | tr '\n' ' ')"
fi
wait_for 20 finished_with slow small && ok "its run finished, output kept" ||
  bad "run under chronos-run-task" "$("$CHRONOS" logs slow 2>&1 | tail -3)"
stop_server

# ---- 2. Alone: the server's own binary supervises ----------------------------
mkdir -p "$tmp/alone"
cp "$CHRONOS" "$CHRONOS-server" "$tmp/alone/"
data=$tmp/d2
CHRONOS=$tmp/alone/chronos start_server "$data" ||
  { bad "server (alone) did not start" "$(tail -5 "$data.log")"; finish; }
code=$(api POST /v1/scheduler/iso8601 "{\"name\":\"slow\",\"command\":\"echo alone; sleep 3\"}")
[ "$code" = 204 ] || bad "POST slow (alone)" "$code $(cat "$tmp/body")"
wait_for 15 sup_exe "$data" slow >/dev/null || bad "the run of slow (alone) never had a supervisor"
exe=$(sup_exe "$data" slow)
[ "$exe" = "$tmp/alone/chronos-server" ] && ok "without chronos-run-task beside it, the server's binary supervises" ||
  bad "supervisor binary (alone)" "$exe"
wait_for 20 finished_with slow alone && ok "that run finished too, output kept" ||
  bad "run under chronos run-task" "$("$CHRONOS" logs slow 2>&1 | tail -3)"
stop_server

# ---- 3. `chronos serve` without the server's binary beside it ----------------
rm "$tmp/alone/chronos-server"
out=$("$tmp/alone/chronos" serve --data_dir "$tmp/d3" --http_port "$(free_port)" 2>&1); rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"cannot run the server, $tmp/alone/chronos-server: No such file"* ]] &&
  [ ! -e "$tmp/d3" ] && ok "chronos serve without chronos-server beside it: exit 1, naming the file" ||
  bad "serve without chronos-server" "rc $rc: $out"
finish
