#!/bin/bash
# chronos-python (the vendored client in tests/clients/chronos_python, MIT)
# against the real server on a loopback port this test picks, on both of its
# API versions: list, add, update, search, run, job_stat, stats, graph,
# metrics, delete_tasks and delete, each checked by reading back through the
# HTTP API (tests/clients/test_chronos_python.py).  The server is stopped by
# pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_chronos_python.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
lib_init chronospy

if ! /usr/bin/python3 -c 'import httplib2' 2>/dev/null; then
  bad "python3-httplib2 is missing (make deps installs it)"
  finish
fi
if ! start_server "$tmp/data"; then
  bad "the server did not start" "$(tail -5 "$tmp/data.log")"
  finish
fi
/usr/bin/python3 "$HERE/../clients/test_chronos_python.py" "127.0.0.1:$PORT" "$tmp" >"$tmp/py.out" 2>&1
sed '$d' "$tmp/py.out" # all but its total: this script prints the total
# The client's checks count as this script's (its last line is its own total).
p=$(grep -c '^ok ' "$tmp/py.out")
f=$(grep -c '^FAIL ' "$tmp/py.out")
passed=$((passed + p))
failed=$((failed + f))
tail -1 "$tmp/py.out" | grep -qE '^[0-9]+ passed, [0-9]+ failed$' ||
  bad "the client's test did not finish" "$(tail -3 "$tmp/py.out")"
[ "$p" -ge 20 ] || bad "the client's test ran only $p checks"
stop_server
finish
