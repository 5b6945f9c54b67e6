# lib.sh - the helpers every shell test of chronos shares (sourced): results
# (ok, bad, check, finish), time (now_ms, iso), loopback ports, polling with
# a deadline, and one `chronos serve` on the local store (start_server,
# stop_server, kill9_server, api, field) whose processes are stopped by pid
# on exit, even on failure.  tests/ha/lib.sh builds the cluster on it.
#
# Needs: CHRONOS (the binary).  lib_init makes $tmp and the exit trap.

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() { echo "$passed passed, $failed failed"; exit $(( failed > 0 )); }

# now_ms: the wall clock in ms, from bash 5's EPOCHREALTIME (no fork; the
# digits only, whatever the locale's decimal point).
now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $(( t / 1000 )); }
# sleep_until MS: sleeps until the wall clock reads MS (one sleep, no polling).
sleep_until() {
  local d=$(( $1 - $(now_ms) ))
  [ "$d" -gt 0 ] && sleep "$(( d / 1000 )).$(printf %03d $(( d % 1000 )))"
  return 0
}
iso() { date -u -d "@$(( $1 / 1000 )).$(printf %03d $(( $1 % 1000 )))" +%Y-%m-%dT%H:%M:%S.%3NZ; }

# PYQ: python for the standard library only (-I -S: no site packages, about
# half the start-up CPU), for the small helpers that run many times.
PYQ="/usr/bin/python3 -I -S"
free_port() {
  $PYQ -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS CMD...: polls CMD until it succeeds, first every 50 ms,
# then less and less often, up to every 400 ms: most waits end within a
# second, and a long one should not cost a curl or a python every 100 ms
# (each is 20-40 ms of CPU, and a whole `make test` waits for hours).
wait_for() {
  local deadline=$(( $(now_ms) + $1 * 1000 )) nap=50; shift
  until "$@"; do
    [ "$(now_ms)" -ge "$deadline" ] && return 1
    sleep "0.$(printf %03d "$nap")"
    nap=$(( nap * 3 / 2 > 400 ? 400 : nap * 3 / 2 ))
  done
}

# http METHOD PATH [BODY]: one HTTP/1.1 exchange with the server on $PORT
# (HTTP_PORT=P http ...: on port P; HTTP_TIMEOUT: seconds, default 10),
# spoken by bash itself over /dev/tcp: a curl costs ~30 ms of CPU here,
# and the helpers below run hundreds of times per suite.  Sets HTTP_CODE
# ("000" when no whole answer came in time) and HTTP_BODY.  A small body
# (up to 4 KiB, by its Content-Length) is read by bash; a larger, chunked
# or unbounded one by one cat (bash reads a socket a byte per call).
# Bodies are JSON text (bash drops NUL bytes); for anything else use curl.
http() {
  local LC_ALL=C body=${3-} port=${HTTP_PORT:-$PORT} t=${HTTP_TIMEOUT:-10}
  local fd line len=-1 chunked=0 raw n
  HTTP_CODE=000 HTTP_BODY=
  { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$1" "$2" "$port" "${#body}" "$body" >&"$fd" 2>/dev/null
  if IFS= read -r -t "$t" line <&"$fd" && [[ $line =~ ^HTTP/1\.[01]\ ([0-9][0-9][0-9]) ]]; then
    local code=${BASH_REMATCH[1]}
    while IFS= read -r -t "$t" line <&"$fd"; do
      line=${line%$'\r'}
      [ -z "$line" ] && break
      case ${line,,} in
        content-length:*) len=${line#*:}; len=${len//[!0-9]/} ;;
        transfer-encoding:*chunked*) chunked=1 ;;
      esac
    done
    if [ "$chunked" = 0 ] && [ "$len" -ge 0 ] && [ "$len" -le 4096 ]; then
      [ "$len" = 0 ] || IFS= read -r -N "$len" -t "$t" HTTP_BODY <&"$fd"
      [ "${#HTTP_BODY}" = "$len" ] && HTTP_CODE=$code
    else
      raw=$(timeout "$t" cat <&"$fd"; printf x); raw=${raw%x}
      if [ "$chunked" = 1 ]; then
        while [[ $raw == *$'\r\n'* ]]; do
          line=${raw%%$'\r\n'*}; n=$(( 16#${line%%;*} )); raw=${raw#*$'\r\n'}
          [ "$n" -gt 0 ] || { HTTP_CODE=$code; break; }
          HTTP_BODY+=${raw:0:n}; raw=${raw:n+2}
        done
      elif [ "$len" -lt 0 ]; then
        HTTP_BODY=$raw HTTP_CODE=$code
      elif [ "${#raw}" -ge "$len" ]; then
        HTTP_BODY=${raw:0:len} HTTP_CODE=$code
      fi
    fi
  fi
  exec {fd}<&-
  [ "$HTTP_CODE" != 000 ]
}
# http_ok PATH: GET PATH answers 2xx.
http_ok() { http GET "$1" && [ "${HTTP_CODE:0:1}" = 2 ]; }

# ---- One server on the local store ------------------------------------------

SERVER=""
# Kills the server and every process started under $tmp, unmounts what was
# mounted there (lib_mount_tmpfs), removes it (kept when KEEP is set).
lib_cleanup() {
  [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null
  pkill -9 -f "$tmp" 2>/dev/null   # run-task supervisors and their tasks
  sleep 0.2
  for m in $(awk -v t="$tmp/" 'index($2, t) == 1 {print $2}' /proc/mounts); do umount -l "$m"; done
  # A server that crashed leaves its log: keep everything, and say where.
  local crashed
  crashed=$(grep -l -E 'AddressSanitizer|runtime error:|free\(\)|double free|corrupted|Assertion|assertion failed' \
    "$tmp"/*.log "$tmp"/*/*.log 2>/dev/null | head -3)
  if [ -n "$crashed" ]; then
    echo "kept $tmp: a server log shows a crash ($(echo $crashed | tr '\n' ' '))" >&2
    return
  fi
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
# lib_mount_tmpfs DIR SIZE: a small filesystem a test can fill (root only);
# false, with the reason on stdout, when it cannot be mounted.
lib_mount_tmpfs() {
  mkdir -p "$1"
  if [ "$(id -u)" != 0 ]; then echo "mounting a tmpfs needs root"; return 1; fi
  mount -t tmpfs -o "size=$2" tmpfs "$1" 2>&1 || return 1
}
lib_init() {
  tmp=$(mktemp -d /tmp/chronos-${1:-it}.XXXXXX)
  trap lib_cleanup EXIT
  trap 'exit 130' INT TERM
}

# start_server DATA_DIR [NAME=VALUE...] [FLAG...]: starts a server with those
# environment variables and flags (its log: $SERVER_LOG, else DATA_DIR.log),
# waits for /ping.  PORT stays the same across restarts within one test.
start_server() {
  local data=$1; shift
  local -a envs=()
  while [ $# -gt 0 ] && [[ "$1" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do envs+=("$1"); shift; done
  [ -n "${PORT:-}" ] || PORT=$(free_port)
  # Tasks run as this test's user (as root, the server's default is nobody,
  # who cannot write the test's files) unless the test names one.
  case " $* " in *" --user "*|*" --user="*) ;; *) set -- --user "$(id -un)" "$@" ;; esac
  env "${envs[@]}" "$CHRONOS" serve --http_port "$PORT" --data_dir "$data" "$@" \
    >>"${SERVER_LOG:-$data.log}" 2>&1 &
  SERVER=$!
  # Generous: an ASan server on a loaded 2-core machine starts slowly.
  wait_for 30 http_ok /ping
}
stop_server() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; SERVER=""; }
kill9_server() { kill -9 "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; SERVER=""; }
server_alive() { [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; }

# api METHOD PATH [BODY]: the status code; the body in $tmp/body.
api() {
  http "$1" "$2" "${3-}"
  printf '%s' "$HTTP_BODY" >"$tmp/body"
  echo "$HTTP_CODE"
}
# field JOB KEY: a field of GET /job/JOB.
field() {
  http GET "/v1/scheduler/job/$1"
  $PYQ -c "import json,sys; print(json.load(sys.stdin).get('$2'))" <<<"$HTTP_BODY"
}
field_is() { [ "$(field "$1" "$2")" = "$3" ]; }
# status_field JOB KEY: a field of GET /job/JOB/status (the job's progress:
# nextRunAt, remainingRepeats, lastRunState, ..., which the job JSON leaves out).
status_field() {
  http GET "/v1/scheduler/job/$1/status"
  $PYQ -c "import json,sys; print(json.load(sys.stdin).get('$2'))" <<<"$HTTP_BODY"
}
# status_has JOB KEY=VALUE...: every KEY of one GET /job/JOB/status reads
# VALUE (as status_is prints it): one request for all, so a check of the
# state before a run due soon is not outrun by its own requests.
status_has() {
  local job=$1; shift
  http GET "/v1/scheduler/job/$job/status"
  $PYQ -c "import json,sys
st = json.load(sys.stdin)
sys.exit(0 if all(str(st.get(k)) == v for k, v in (a.split('=', 1) for a in sys.argv[1:])) else 1)" "$@" <<<"$HTTP_BODY"
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
