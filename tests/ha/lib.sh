# lib.sh - a chronos cluster for tests (sourced by tests/integration/test_ha.sh
# and tests/faults/run.sh): a real ZooKeeper (tests/zk/zk.sh) and up to three
# `chronos serve` processes on loopback ports picked here, sharing one runs
# directory (the local resource manager of this host, as three servers on one
# machine must), each with its own data dir and log.  Everything started here
# is stopped by pid on exit, even on failure: call ha_init first.
#
# Needs: CHRONOS (the binary), REPO (the repository root).

ST=${ST:-2000}            # ZooKeeper session timeout (ms) of the servers
declare -a PORT PID

. "$REPO/tests/lib.sh"

ha_cleanup() {
  for i in 1 2 3; do
    [ -n "${PID[$i]:-}" ] && kill -CONT "${PID[$i]}" 2>/dev/null
    [ -n "${PID[$i]:-}" ] && kill -9 "${PID[$i]}" 2>/dev/null
  done
  "$REPO/tests/zk/zk.sh" stop "$tmp/zk" 2>/dev/null
  lib_cleanup
}

ha_init() {
  tmp=$(mktemp -d /tmp/chronos-ha.XXXXXX)
  mkdir -p "$tmp/out" "$tmp/runs" "$tmp/ledger"
  trap ha_cleanup EXIT
  trap 'exit 130' INT TERM
}

zk_start() { ZKH=$("$REPO/tests/zk/zk.sh" start "$tmp/zk" "${1:-1}") || return 1; }

# srv_start I [FLAGS...]: starts server I (same port as before on a restart).
srv_start() {
  local i=$1; shift
  [ -n "${PORT[$i]:-}" ] || PORT[$i]=$(free_port)
  "$CHRONOS" serve --zk "$ZKH" --zk_session_timeout "$ST" --data_dir "$tmp/s$i" \
    --runs_dir "$tmp/runs" --http_port "${PORT[$i]}" --hostname 127.0.0.1 --user "$(id -un)" "$@" \
    >>"$tmp/s$i.log" 2>&1 &
  PID[$i]=$!
  HTTP_PORT=${PORT[$i]} wait_for 20 http_ok /ping
}
# An empty I (no leader found on a loaded machine) is a failed check, not an
# abort of the whole script under set -u.
srv_kill9() {
  [ -n "${1:-}" ] || { bad "a server to kill -9" "none given (no leader?)"; return 1; }
  kill -9 "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; PID[$1]=""
}
srv_stop() {
  [ -n "${1:-}" ] || { bad "a server to stop" "none given (no leader?)"; return 1; }
  kill "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; PID[$1]=""
}
srv_alive() { [ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }

# is_leader I: server I says it leads.
is_leader() {
  srv_alive "$1" &&
    HTTP_PORT=${PORT[$1]} HTTP_TIMEOUT=2 http GET /v1/status && [[ $HTTP_BODY == *'"isLeader":true'* ]]
}
# leader: the index of the one server that leads (empty when none or several).
leader() {
  local found="" n=0
  for i in 1 2 3; do
    if is_leader "$i"; then found=$i; n=$((n + 1)); fi
  done
  [ "$n" -eq 1 ] && echo "$found"
}
has_leader() { [ -n "$(leader)" ]; }
# leaders: how many servers say they lead (must never be more than one).
leaders() {
  local n=0
  for i in 1 2 3; do is_leader "$i" && n=$((n + 1)); done
  echo "$n"
}

# api I METHOD PATH [BODY]: the status code; the body in $tmp/body.
api() {
  HTTP_PORT=${PORT[$1]} http "$2" "$3" "${4-}"
  printf '%s' "$HTTP_BODY" >"$tmp/body"
  echo "$HTTP_CODE"
}

# api_answer I METHOD PATH [BODY]: as api, but asked again (for up to 20 s)
# while the answer is "no leader now" (503, 502, or no answer): on a loaded
# machine a lone leader's lease can lapse and it leads again a moment later.
# For reads whose point is what the leader holds, not whether one leads.
api_answer() {
  local code end=$(( $(now_ms) + 20000 ))
  while :; do
    code=$(api "$@")
    case $code in 503 | 502 | 000) ;; *) break ;; esac
    [ "$(now_ms)" -ge "$end" ] && break
    sleep 0.3
  done
  echo "$code"
}
# wait_leader: the one leader's index, waited for (up to ST + 20 s); empty
# when none came.
wait_leader() {
  local l="" end=$(( $(now_ms) + ST + 20000 ))
  until l=$(leader) && [ -n "$l" ]; do
    [ "$(now_ms)" -ge "$end" ] && break
    sleep 0.2
  done
  echo "$l"
}

# tick_job NAME START_MS: a job due every second from START_MS whose task
# appends the instant it runs for to $tmp/out/NAME.
tick_job() {
  echo "{\"name\":\"$1\",\"command\":\"echo \$CHRONOS_JOB_RUN_TIME >> $tmp/out/$1\",\"schedule\":\"R/$(iso "$2")/PT1S\",\"retries\":0,\"cpus\":0.01,\"mem\":1,\"disk\":1}"
}

# settled FROM_MS TO_MS JOB:START:PERIOD...: account, asked again every
# second for up to ACCOUNT_SETTLE_S (20) while it fails: a run launched late (a
# loaded machine, an ASan supervisor) writes its line late, and late is not
# missed; a duplicate never heals, so it still fails, that much later.
settled() {
  local end=$(( $(now_ms) + ${ACCOUNT_SETTLE_S:-20} * 1000 )) out
  until out=$(account "$@"); do
    [ "$(now_ms)" -ge "$end" ] && { printf '%s\n' "$out"; return 1; }
    sleep 1
  done
  printf '%s\n' "$out"
}

# account FROM_MS TO_MS JOB:START:PERIOD...: every instant launched once or
# ledgered (tests/ha/check.py), with the ledgers read from the leader.
account() {
  local l; l=$(leader)
  [ -n "$l" ] || { echo "account: no leader"; return 1; }
  local from=$1 to=$2; shift 2
  for spec in "$@"; do
    local name=${spec%%:*}
    curl -s -m 5 "http://127.0.0.1:${PORT[$l]}/v1/scheduler/job/$name/ledger" \
      >"$tmp/ledger/$name.json"
  done
  $PYQ "$REPO/tests/ha/check.py" "$tmp/out" "$tmp/ledger" "$from" "$to" "$@"
}
