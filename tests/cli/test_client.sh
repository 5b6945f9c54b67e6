#!/bin/bash
# The `chronos` REST client commands as a user meets them, against a real
# server (the same binary, `chronos serve`) on a loopback port this test
# picks: every command's success path, its --help (exit 0), usage errors
# (exit 2), the server's refusals (exit 1, its message on one line), an
# unreachable server (exit 3), a failing one (exit 4, a stub answering 500)
# and one that answers oddly (chunked, 100 Continue, cut short, not HTTP).  Nothing sleeps to wait: conditions are polled with a deadline.
# Every process started here is killed by PID on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/cli/test_client.sh
#
# Last line: "N passed, N failed"; exits non-zero if any failed.
set -u
PY="/usr/bin/python3 -I -S"   # the standard library only: half the start-up CPU
# The shared helpers (wait_for, now_ms, free_port); ok, bad and check are
# this file's own (below), which say the exit code.
. "$(dirname "$0")/../lib.sh"

if [ -z "${CHRONOS:-}" ] || [ ! -x "$CHRONOS" ]; then
  echo "CHRONOS='${CHRONOS:-}' is not an executable (CHRONOS=build/chronos bash $0)"
  echo "0 passed, 1 failed"
  exit 1
fi
CHRONOS=$(realpath "$CHRONOS")
README=$(realpath "$(dirname "$0")/../../README.md") # the tour it shows is checked below
tmp=$(mktemp -d /tmp/chronos-cli.XXXXXX)
SERVER=""
STUB=""
cleanup() {
  [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null
  [ -n "$STUB" ] && kill -9 "$STUB" 2>/dev/null
  pkill -9 -f "$tmp" 2>/dev/null   # run supervisors and their tasks
  rm -rf "$tmp"
}
trap cleanup EXIT
OUT=$tmp/out
ERR=$tmp/err

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() {
  failed=$((failed + 1))
  echo "FAIL $1"
  shift
  for l in "$@"; do echo "    $l"; done
  if [ -s "$OUT" ]; then head -n 8 "$OUT" | sed 's/^/    stdout| /'; fi
  if [ -s "$ERR" ]; then head -n 4 "$ERR" | sed 's/^/    stderr| /'; fi
}
# check NAME CONDITION...: ok when the condition (a command) succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "rc $RC"; fi; }

# run ARGS...: `chronos ARGS...`; RC, stdout in $OUT, stderr in $ERR.
run() { "$CHRONOS" "$@" >"$OUT" 2>"$ERR" </dev/null; RC=$?; }
rc_is() { [ "$RC" = "$1" ]; }
out_has() { grep -q -- "$1" "$OUT"; }
out_is() { [ "$(cat "$OUT")" = "$1" ]; }
err_has() { grep -q -- "$1" "$ERR"; }
one_err_line() { [ "$(wc -l <"$ERR")" = 1 ]; }
is_json() { $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" 2>/dev/null; }
# py EXPR: evaluates EXPR with `d` = the JSON in $OUT.
py() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$OUT" 2>/dev/null; }

logs_has() { "$CHRONOS" logs "$1" 2>/dev/null | grep -q -- "$2"; }
runs_has() { "$CHRONOS" runs "$1" --json 2>/dev/null | $PY -c "import json,sys; sys.exit(0 if any($2 for r in json.load(sys.stdin)) else 1)"; }
# job JOB: GET /v1/scheduler/job/JOB into $OUT (the server's own answer, not the CLI's).
job() { curl -s "$URL/v1/scheduler/job/$1" >"$OUT"; }

# ---- Without a server ------------------------------------------------------
run help
check "chronos help exits 0 and documents exit codes 3 and 4" \
  eval 'rc_is 0 && out_has "cannot reach the server" && out_has "^  4 " && out_has "create"'
for c in create list show edit apply run kill delete runs logs ledger graph next serve; do
  run "$c" --help
  check "$c --help exits 0 with usage on stdout" eval "rc_is 0 && out_has '^usage: chronos $c' && [ ! -s '$ERR' ]"
done
run help apply
check "chronos help apply is apply's help" eval 'rc_is 0 && out_has "^usage: chronos apply"'
run next --job x --help
check "next --job --help is the server form's help" eval 'rc_is 0 && out_has "next --job NAME"'

# -- one version, completion, man page, config keys
run --version
check "--version prints the Makefile's version" eval "rc_is 0 && out_is \"chronos \$(sed -n 's/^VERSION := //p' '$(dirname "$0")/../../Makefile')\""
run completion bash
check "completion bash: a script completing the commands, suspend included" eval \
  'rc_is 0 && out_has "complete -F _chronos chronos" && out_has "suspend" && bash -n "$OUT"'
run completion zsh;  check "completion zsh: a #compdef script" eval 'rc_is 0 && out_has "^#compdef chronos"'
run completion fish; check "completion fish: exit 2" rc_is 2
if [ -x "$(dirname "$0")/../../scripts/manpage.sh" ]; then
  "$(dirname "$0")/../../scripts/manpage.sh" "$CHRONOS" "$(sed -n 's/^VERSION := //p' "$(dirname "$0")/../../Makefile")" >"$OUT" 2>"$ERR"; RC=$?
  check "the man page is made from the help texts and docs/chronos.1 is current (make man)" eval \
    'rc_is 0 && out_has "^.SH \"CHRONOS SUSPEND\"" && cmp -s "$OUT" "$(dirname "$0")/../../docs/chronos.1"'
fi
printf 'http_prot = 4401\n' >"$tmp/bad.conf"
run serve --config "$tmp/bad.conf"
check "a misspelled config key is refused, named, with the nearest key" eval \
  '[ "$RC" != 0 ] && err_has "unknown key .http_prot. (did you mean .http_port.?)"'

dead=$(free_port)
run list --server "http://127.0.0.1:$dead"
check "unreachable server: exit 3, one line naming the URL" eval \
  "rc_is 3 && one_err_line && err_has '^chronos: cannot reach the server at http://127.0.0.1:$dead: '"
CHRONOS_URL="http://127.0.0.1:$dead" run show x
check "CHRONOS_URL is used when --server is absent (exit 3)" eval "rc_is 3 && err_has ':$dead'"

run list --bogus;                       check "unknown option: exit 2" eval 'rc_is 2 && one_err_line && err_has "--bogus"'
run show;                               check "show without NAME: exit 2" eval 'rc_is 2 && err_has "missing NAME"'
run show a b;                           check "show with two names: exit 2" rc_is 2
run create x;                           check "create without --command: exit 2" eval 'rc_is 2 && err_has "command"'
run create x --command=true --mesos-resources=cpus=1,gpus=2
check "create --mesos-resources with an unknown key: exit 2 naming it" eval 'rc_is 2 && err_has gpus'
run create x --command=true --mesos-resources=cpus=lots
check "create --mesos-resources with a non-number: exit 2 naming it" eval 'rc_is 2 && err_has cpus && err_has lots'
run create x --command=true --executor=docker; check "create --executor=docker: exit 2" rc_is 2
run create x --command=true --schedule=R/2030-01-01T00:00:00Z/PT1H --parents=a
check "create with --schedule and --parents: exit 2" rc_is 2
run create x --command=true --env NOEQUALS;    check "create --env without =: exit 2" rc_is 2
run create x --command=true --retries=many;    check "create --retries=many: exit 2" rc_is 2
run create x --command=true --schedule;        check "create --schedule without a value: exit 2" rc_is 2
run runs --limit ten;                   check "runs --limit ten: exit 2" rc_is 2
run logs;                               check "logs without an argument: exit 2" rc_is 2
run apply;                              check "apply without -f: exit 2" rc_is 2
run graph --svg;                        check "graph --svg: exit 2" rc_is 2
run list --server ftp://example.com;    check "--server that is not http(s): exit 2" rc_is 2
run next --job;                         check "next --job without a name: exit 2" rc_is 2
run next --from 2024-01-01T00:00:00Z --count 2 '@daily'
check "local next is unchanged" out_is $'2024-01-02T00:00:00.000Z\n2024-01-03T00:00:00.000Z'

# ---- Servers that answer oddly ---------------------------------------------
# A stub that answers by the first segment of the path (the --server URL's
# own path, which the client puts before every request's): a 500, chunked
# bodies, a 100 Continue first, garbage, an answer cut short, an endless
# head, a closed connection, a Warning, and the Authorization it was sent.
stub_port=$(free_port)
cat >"$tmp/stub.py" <<'EOF'
import socketserver, sys
J = b'{"name":"x","command":"echo \\u00e9","n":[1,2,3]}'
def framed(status, body, extra=b""):
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n" % (status, len(body), extra) + body
class H(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().decode()
        heads = {}
        while True:
            h = self.rfile.readline()
            if h in (b"\r\n", b"\n", b""): break
            k, _, v = h.decode().partition(":"); heads[k.strip().lower()] = v.strip()
        case = line.split(" ")[1].split("/")[1]
        w = self.wfile.write
        if case == "500":
            w(framed(b"500 Internal Server Error", b'{"message":"store unavailable","status":"Internal Server Error"}'))
        elif case == "chunked":
            w(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(J), 7):
                piece = J[i:i + 7]; w(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            w(b"0\r\nX-Trailer: t\r\n\r\n")
        elif case == "continue":
            w(b"HTTP/1.1 100 Continue\r\n\r\n" + framed(b"200 OK", J))
        elif case == "garbage":
            w(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        elif case == "short":
            w(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + J[:10])
        elif case == "endless":
            w(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70000 + b"\r\n\r\n")
        elif case == "warn":
            w(framed(b"200 OK", J, b"Warning: 299 - \"field ignored\"\r\n"))
        elif case == "auth":
            w(framed(b"200 OK", heads.get("authorization", "none").encode()))
        elif case == "eof":
            w(b"HTTP/1.0 200 OK\r\n\r\n" + J)
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True; daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
$PY "$tmp/stub.py" "$stub_port" & STUB=$!
stub() { run show x --json --server "http://127.0.0.1:$stub_port/$1"; }
J='{"name":"x","command":"echo \u00e9","n":[1,2,3]}'
if wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$stub_port/500"; then
  run list --server "http://127.0.0.1:$stub_port/500"
  check "a 500 answer: exit 4 with the server's message" eval \
    'rc_is 4 && one_err_line && [ "$(cat "$ERR")" = "chronos: store unavailable" ]'
  stub chunked;  check "a chunked answer (extensions, trailers) is read whole" eval 'rc_is 0 && out_is "$J"'
  stub continue; check "a 100 Continue before the answer is skipped" eval 'rc_is 0 && out_is "$J"'
  stub eof;      check "an HTTP/1.0 answer without a length is read to its end" eval 'rc_is 0 && out_is "$J"'
  stub garbage;  check "an answer that is not HTTP: exit 4, said so" eval \
    'rc_is 4 && one_err_line && err_has "not HTTP"'
  stub short;    check "an answer cut short: exit 3, said so" eval \
    'rc_is 3 && one_err_line && err_has "closed in the middle"'
  stub endless;  check "an endless head: exit 4, bounded" eval 'rc_is 4 && err_has "too long"'
  stub warn;     check "a Warning header is told on stderr, the answer still printed" eval \
    'rc_is 0 && out_is "$J" && err_has "chronos: warning: 299 - \"field ignored\""'
  mkdir -p "$tmp/home"
  printf 'machine other login no password no\nmachine 127.0.0.1\n  login "al ice"\n  password s3cr:t\n' >"$tmp/home/.netrc"
  HOME=$tmp/home run show x --json --server "http://127.0.0.1:$stub_port/auth"
  check "~/.netrc's entry for the host is sent as Basic credentials" \
    out_is "Basic $(printf '%s' 'al ice:s3cr:t' | base64)"
  HOME=$tmp/home run show x --json --user bob:pw --server "http://127.0.0.1:$stub_port/auth"
  check "--user wins over ~/.netrc" out_is "Basic $(printf 'bob:pw' | base64)"
else
  bad "the stub did not start"
fi
kill -9 "$STUB" 2>/dev/null; wait "$STUB" 2>/dev/null; STUB=""

# ---- A real server ----------------------------------------------------------
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
export CHRONOS_URL=$URL
"$CHRONOS" serve --http_port "$PORT" --data_dir "$tmp/data" --verbose false --user "$(id -un)" >"$tmp/server.log" 2>&1 &
SERVER=$!
disown "$SERVER"   # killed by PID in cleanup; no job-control notice after the summary
if ! wait_for 15 curl -sf "$URL/ping" -o /dev/null; then
  bad "server did not start" "$(tail -5 "$tmp/server.log")"
  echo "$passed passed, $failed failed"
  exit 1
fi
cd "$tmp"

# -- create, exactly as the issue writes it
"$CHRONOS" create example --command=/bin/echo "Hello, World!" --executor=shell --mesos-resources=cpus=1,mem=128 >"$OUT" 2>"$ERR"
RC=$?
check "create example (the issue's line) prints 'created example'" eval 'rc_is 0 && out_is "created example"'
run create quick --command 'echo quick'
# -f: without it, logs prints what the run wrote so far, which may be
# nothing yet when it has only just started (a race this check once lost).
run logs -f quick
check "logs right after create waits for the run to start, then prints it" eval 'rc_is 0 && out_is quick'
if wait_for 20 logs_has example "Hello, World!"; then
  ok "chronos logs example prints Hello, World!"
else
  bad "chronos logs example never printed Hello, World!" "$("$CHRONOS" logs example 2>&1 | head -3)"
fi
job example
check "the job has cpus 1, mem 128, shell true and the quoted command" \
  py "d['cpus']==1 and d['mem']==128 and d['shell'] is True and d['command']==\"/bin/echo 'Hello, World!'\""
run create example --command=/bin/echo "Bye" --retries 7
check "create of an existing name: exit 1, one line naming --replace" eval \
  'rc_is 1 && one_err_line && err_has "job .example. exists: nothing changed" && err_has -- --replace'
job example
check "a refused create changed nothing" py "d['retries']==2 and 'Hello' in d['command']"
"$CHRONOS" create example --command=/bin/echo "Hello, World!" --executor=shell --mesos-resources=cpus=1,mem=128 --replace >"$OUT" 2>"$ERR"
RC=$?
check "create --replace of an existing job prints 'updated example'" eval 'rc_is 0 && out_is "updated example"'
v=$("$CHRONOS" --version | awk '{print $2}')
curl -s "$URL/v1/status" >"$OUT"
check "/v1/status shows the version --version prints" py "d['version']=='$v'"
run list --server "127.0.0.1:$PORT" --json
check "--server host:port without http:// is accepted" eval 'rc_is 0 && is_json'

run create argv --command=/bin/echo "a  b" "it's" --executor=command
job argv
check "--executor=command: shell false, command and arguments as words" \
  py "d['shell'] is False and d['command']=='/bin/echo' and d['arguments']==['a  b',\"it's\"]"
wait_for 20 logs_has argv "a  b it's" && ok "the command executor passes the words untouched" \
  || bad "argv output" "$("$CHRONOS" logs argv 2>&1 | head -2)"

run create nightly --command 'echo nightly; echo oops >&2' --schedule 'R/2030-01-01T00:00:00Z/PT1H' \
  --tz Europe/Paris --retries 4 --owner ops@example.com --env A=1 --env B=x=y \
  --description "the nightly job" --mesos-executor=/opt/exec --mesos-resources cpus=0.5,mem=64,disk=10
check "create with every option (--opt value form) exits 0" eval 'rc_is 0 && out_is "created nightly"'
job nightly
check "every option lands in its field" py "d['schedule']=='R/2030-01-01T00:00:00Z/PT1H' and \
d['scheduleTimeZone']=='Europe/Paris' and d['retries']==4 and d['owner']=='ops@example.com' and \
d['environmentVariables']==[{'name':'A','value':'1'},{'name':'B','value':'x=y'}] and \
d['description']=='the nightly job' and d['executor']=='/opt/exec' and d['cpus']==0.5 and \
d['mem']==64 and d['disk']==10 and d['shell'] is True"
run create child --command=true --parents=nightly,example --disabled
job child
check "create --parents makes a dependent job; --disabled" py "d['parents']==['nightly','example'] and d['disabled'] is True"
run create broken --command=true --retries=1000
check "a job the server refuses: exit 1, its message on one line" eval \
  'rc_is 1 && one_err_line && err_has "^chronos: retries"'

# -- list and show
run list
check "list prints the table header" out_has "^NAME  *SCHEDULE/PARENTS  *TZ  *STATUS  *STATE  *NEXT  *LAST-RUN$"
check "list is ordered by name" eval '[ "$(awk "NR > 1 {print \$1}" "$OUT")" = "$(awk "NR > 1 {print \$1}" "$OUT" | LC_ALL=C sort)" ]'
check "list: TZ is the job's zone, UTC without one, - for a dependent job" eval \
  'grep -q "^nightly .* Europe/Paris " "$OUT" && grep -q "^example .* UTC  *succeeded " "$OUT" && grep -q "^child  *after nightly,example  *- " "$OUT"'
check "list: a disabled job's NEXT is disabled" eval 'grep -q "^child .* disabled  *disabled  *never$" "$OUT"'
check "list: no internal or Chronos-only words (fresh, recording)" eval '! grep -qE "fresh|recording" "$OUT"'
check "list: a job that ran shows 'ago', a future one 'in', a dependent 'after'" eval \
  'grep -q "^example .* ago$" "$OUT" && grep -q "^nightly .*R/2030-01-01T00:00:00Z/PT1H .* in [0-9]*d  *never$" "$OUT" && grep -q "^child  *after nightly,example .*disabled" "$OUT"'
run list --json
check "list --json is the server's JSON array" eval 'rc_is 0 && py "\"example\" in [j[\"name\"] for j in d]"'
run show nightly
check "show prints key: value lines, then the job's status" eval 'rc_is 0 && out_has "^schedule: *R/2030-01-01T00:00:00Z/PT1H$" && out_has "^retries: *4$" && out_has "^nextRunAt: *2029-12-31T23:00:00.000Z (in " && out_has "^remainingRepeats: *-$" && out_has "^state: *idle$"'
run show nightly --json
check "show --json is the job's JSON (Chronos's shape: no progress)" eval 'rc_is 0 && py "d[\"name\"]==\"nightly\" and \"nextRunAt\" not in d and \"lastRunState\" not in d"'
run show nope
check "show of an unknown job: exit 1 with the server's message" eval \
  'rc_is 1 && one_err_line && [ "$(cat "$ERR")" = "chronos: job '"'"'nope'"'"' not found" ]'

# -- run, runs, logs
run run example --args "again"
check "run NAME --args prints 'started NAME'" eval 'rc_is 0 && out_is "started example"'
wait_for 20 logs_has example "Hello, World! again" && ok "the manual run got its arguments" \
  || bad "run --args output" "$("$CHRONOS" logs example 2>&1 | head -2)"
run run nope;  check "run of an unknown job: exit 1" eval 'rc_is 1 && one_err_line'
run runs example
check "runs prints the run table" eval 'rc_is 0 && out_has "^ID  *STATE  *EXIT  *SCHEDULED  *STARTED  *DURATION  *REASON$" && [ "$(grep -c "^ct:" "$OUT")" -ge 2 ]'
run runs example --json --limit 1
check "runs --json --limit 1: one run of the job" eval 'rc_is 0 && py "len(d)==1 and d[0][\"job\"]==\"example\""'
id=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$OUT" 2>/dev/null)
run runs --help; check "runs --help says starting, not recording" eval 'out_has starting && ! out_has recording'
run runs --state starting; check "runs --state starting is accepted" rc_is 0
run runs --state bogus; check "runs --state bogus: exit 1 (refused)" eval 'rc_is 1 && one_err_line'
run runs nope;          check "runs of an unknown job: exit 1" eval 'rc_is 1 && one_err_line'
run logs "$id"
check "logs RUN_ID prints that run's stdout" eval 'rc_is 0 && out_has "Hello, World!"'
run logs "ct:1:0:nope"; check "logs of an unknown run: exit 1" eval 'rc_is 1 && one_err_line'
run logs nightly;       check "logs of a job that never ran: exit 1" eval 'rc_is 1 && err_has "no runs"'
run create errs --command 'echo to-stdout; echo to-stderr >&2'
wait_for 20 runs_has errs "r['state']=='finished'" || true
run logs errs --stderr
check "logs --stderr prints the run's stderr" eval 'rc_is 0 && out_is "to-stderr"'
run create slow --command 'for i in 1 2 3; do echo tick $i; sleep 0.3; done'
wait_for 20 runs_has slow "r['state'] in ('running','finished')" || true
run logs slow -f
check "logs -f follows the run to its end" eval 'rc_is 0 && out_is "$(printf "tick 1\ntick 2\ntick 3")"'

# -- kill
run create sleeper --command 'sleep 300'
if wait_for 20 runs_has sleeper "r['state']=='running'"; then
  # The command line loads no TLS, HTTP server, ZooKeeper or libcurl library
  # for plain http:// (the server's binary, chronos-server, has them).
  "$CHRONOS" logs -f sleeper >/dev/null 2>&1 &
  follower=$!
  maps_loaded() { grep -q libjansson "/proc/$follower/maps" 2>/dev/null; }
  if wait_for 10 maps_loaded; then
    sleep 0.2 # in its read loop by now: whatever it loads is loaded
    libs=$(grep -o -E '/[^ ]*lib(curl|zookeeper|gnutls|microhttpd|ssl)[^ ]*' "/proc/$follower/maps" | sort -u)
    [ -z "$libs" ] && ok "logs -f (a live client) maps no curl, TLS, ZooKeeper or HTTP server library" ||
      bad "client libraries" "$libs"
  else
    bad "logs -f sleeper did not start"
  fi
  kill "$follower" 2>/dev/null; wait "$follower" 2>/dev/null
  run kill sleeper
  check "kill prints 'killed NAME'" eval 'rc_is 0 && out_is "killed sleeper"'
  wait_for 20 runs_has sleeper "r['state']=='killed'" && ok "the killed run ends as killed" \
    || bad "killed run state" "$("$CHRONOS" runs sleeper 2>&1 | tail -2)"
  run list
  check "list: a killed run shows killed and when, not fresh/never" eval \
    'grep -q "^sleeper .* killed  *idle  .* ago$" "$OUT"'
else
  bad "the sleeper never ran"
fi
run kill nope; check "kill of an unknown job: exit 1" eval 'rc_is 1 && one_err_line'

# -- a job in retry (the server's default retry delay is 60 s)
run create flaky --command 'exit 3' --retries 1
if wait_for 20 runs_has flaky "r['cause']=='retry' and r.get('notBefore')"; then
  run list
  check "list: a job waiting for its retry shows failed, retrying in" eval \
    'grep -q "^flaky .* failed  *retrying in [0-9]*s " "$OUT"'
  timeout 3 "$CHRONOS" logs -f flaky >"$OUT" 2>"$ERR"
  check "logs -f on a pending retry says what it waits for" eval \
    'err_has "is a retry, pending until 20[0-9-]*T" && err_has "waiting for it to start"'
else
  bad "flaky never got a retry"
fi
run delete flaky

# -- ledger
run ledger nightly
check "ledger of a job that missed nothing says so" eval 'rc_is 0 && out_has "no instants missed"'
run create busy --command 'sleep 5' --schedule "R/$(date -u +%Y-%m-%dT%H:%M:%SZ)/PT1S"
ledger_has() { "$CHRONOS" ledger busy 2>/dev/null | grep -q "coalesced-busy"; }
if wait_for 20 ledger_has; then
  run ledger busy
  check "ledger prints the table of instants not run" eval \
    'rc_is 0 && out_has "^FROM  *TO  *COUNT  *REASON$" && grep -qE "^20[0-9:.TZ-]+  +20[0-9:.TZ-]+  +[0-9]+  +coalesced-busy$" "$OUT"'
else
  bad "ledger busy never showed coalesced-busy" "$("$CHRONOS" ledger busy 2>&1 | head -3)"
fi
run ledger busy --json; check "ledger --json is the server's array" eval 'rc_is 0 && py "d[0][\"reason\"]==\"coalesced-busy\""'
run ledger nope; check "ledger of an unknown job: exit 1" eval 'rc_is 1 && one_err_line'
run delete busy

# -- next --job
run next --job nightly --count 3
check "next --job prints the instants in UTC and in the job's zone" out_is \
  "$(printf '%s\n' 'UTC                       Europe/Paris' '2029-12-31T23:00:00.000Z  2030-01-01T00:00:00.000+01:00' \
     '2030-01-01T00:00:00.000Z  2030-01-01T01:00:00.000+01:00' '2030-01-01T01:00:00.000Z  2030-01-01T02:00:00.000+01:00')"
run next --job nightly --count 2 --json
check "next --job --json is the server's JSON" eval 'rc_is 0 && py "len(d[\"next\"])==2"'
run next --job nope;  check "next --job of an unknown job: exit 1" eval 'rc_is 1 && one_err_line'
run next --job child; check "next --job of a dependent job: exit 1" eval 'rc_is 1 && one_err_line'

# -- the README's tour shows the CLI as it is (so it cannot rot): each table
# header it shows is the one the CLI prints now, and each command it runs
# exists (its --help exits 0)
# readme_after CMD: the README's line after "    $ chronos CMD", words only.
readme_after() { awk -v c="    \$ chronos $1" 'found { print; exit } $0 == c || index($0, c " ") == 1 { found = 1 }' "$README" | tr -s ' ' | sed 's/^ //'; }
words() { head -1 "$OUT" | tr -s ' ' | sed 's/^ //'; }
run list
check "README: the header shown after \`chronos list\` is the CLI's" eval \
  '[ -n "$(readme_after list)" ] && [ "$(readme_after list)" = "$(words)" ]'
run runs
check "README: the header shown after \`chronos runs\` is the CLI's" eval \
  '[ -n "$(readme_after runs)" ] && [ "$(readme_after runs)" = "$(words)" ]'
run next --job nightly --count 1
check "README: the header shown after \`chronos next --job\` is the CLI's" eval \
  '[ "$(readme_after "next --job")" = "$(words)" ]'
cmds=$(grep -oE '^    \$ chronos [a-z-]+' "$README" | awk '{print $3}' | sort -u)
missing=""
for c in $cmds; do "$CHRONOS" "$c" --help >/dev/null 2>&1 || missing="$missing $c"; done
check "README: every command its tour runs exists ($(echo $cmds | tr '\n' ' '))" eval \
  '[ -n "$cmds" ] && [ -z "$missing" ]'

# -- graph
run graph
check "graph prints a dot digraph with the edges" eval 'rc_is 0 && out_has "digraph" && out_has " -> "'
run graph --csv
check "graph --csv lists links" eval 'rc_is 0 && out_has "^link,nightly,child$" && out_has "^node,example,"'

# -- apply: Chronos 3 files, a dependent job listed before its parent
mkdir -p "$tmp/jobs"
cat >"$tmp/jobs/a_etl.json" <<'EOF'
[
  {"name": "etl-load", "command": "echo load", "parents": ["etl-extract"], "retries": "1",
   "cpus": "0.2", "shell": "true", "owner": "ops@example.com", "scheduleTimeZone": null},
  {"name": "etl-extract", "command": "/opt/etl/extract.sh", "shell": false,
   "arguments": ["--date", "two words"], "schedule": "R/2030-06-01T12:00:00.000Z/P1W",
   "scheduleTimeZone": "Europe/Paris", "epsilon": "PT30M", "mem": 64,
   "environmentVariables": [{"name": "JVMOPTS", "value": "-Xmx1000m"}],
   "uris": ["https://example.com/bundle.tgz"], "disabled": true,
   "constraints": [["rack", "EQUALS", "rack-1"]],
   "container": {"type": "DOCKER", "image": "busybox:1.36", "network": "BRIDGE",
                 "volumes": [{"hostPath": "/srv", "containerPath": "/data", "mode": "RO"}]}}
]
EOF
cat >"$tmp/jobs/b_report.json" <<'EOF'
{"name": "etl-report", "command": "echo report", "parents": ["etl-load", "example"],
 "owner": "ops@example.com", "ownerName": "Ops", "retries": 0}
EOF
echo "not a job" >"$tmp/jobs/README.txt"
run apply -f jobs
check "apply creates every job, parents first" eval \
  'rc_is 0 && out_is "$(printf "created etl-extract\ncreated etl-load\ncreated etl-report")"'
run apply -f jobs
check "a second apply changes nothing (unchanged, exit 0)" eval \
  'rc_is 0 && out_is "$(printf "unchanged etl-extract\nunchanged etl-load\nunchanged etl-report")"'
job etl-load
check "a dependent job from a file is stored with its parents" py "d['parents']==['etl-extract'] and d['cpus']==0.2"
sed -i 's/"ownerName": "Ops", //' "$tmp/jobs/b_report.json"
run apply -f jobs/b_report.json -f jobs/a_etl.json
check "apply sends only what changed (a field removed from a file)" eval \
  'rc_is 0 && out_is "$(printf "unchanged etl-extract\nunchanged etl-load\nupdated etl-report")"'
echo '{"name": "etl-bad", "command": "x", "retries": 500}' >"$tmp/bad.json"
run apply -f bad.json
check "apply of a job the server refuses: exit 1 naming the job" eval 'rc_is 1 && err_has "etl-bad: retries"'
echo '{"name": "x", "command":' >"$tmp/broken.json"
run apply -f broken.json;  check "apply of a file that is not JSON: exit 1" eval 'rc_is 1 && err_has "broken.json"'
run apply -f missing.json; check "apply of a missing file: exit 1" rc_is 1
# -- unknown fields: the CLI is strict, the API warns
echo '{"name":"typo","command":"true","schedulee":"R/2030-01-01T00:00:00Z/PT1H"}' >"$tmp/typo.json"
run apply -f typo.json
check "apply of a typo (schedulee): exit 1 naming it and the near field, nothing sent" eval \
  'rc_is 1 && err_has "typo: schedulee: unknown field (did you mean .schedule.?)" && ! "$CHRONOS" show typo >/dev/null 2>&1'
hdr=$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' -d @"$tmp/typo.json" "$URL/v1/scheduler/iso8601" | tr -d '\r')
check "the API accepts it with a Warning naming the field" eval \
  'echo "$hdr" | grep -q "^HTTP/1.1 204" && echo "$hdr" | grep -q "^Warning: 299 - \"unknown field .schedulee."'
run delete typo

# -- apply: all or nothing, --dry-run with a diff, -f -, R// re-applied
printf '[{"name":"ok-one","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT1H"},{"name":"bad-two","command":"x","retries":500}]' >"$tmp/half.json"
run apply -f half.json
check "apply is all or nothing: a refused job names itself and nothing is sent" eval \
  'rc_is 1 && err_has "bad-two: retries" && ! "$CHRONOS" show ok-one >/dev/null 2>&1'
sed -i 's/"ownerName": "Ops", //; s/"retries": 0}/"retries": 3}/' "$tmp/jobs/b_report.json"
run apply -f jobs --dry-run
check "apply --dry-run prints what would change and the field's diff" eval \
  'rc_is 0 && out_has "^would update etl-report$" && out_has "^  retries: 0 -> 3$" && out_has "^unchanged etl-load$"'
job etl-report
check "apply --dry-run sends nothing" py "d['retries']==0"
echo '{"name":"hourly","command":"echo hour","schedule":"R//PT1H"}' >"$tmp/hourly.json"
"$CHRONOS" apply -f - <"$tmp/hourly.json" >"$OUT" 2>"$ERR"; RC=$?
check "apply -f - reads the jobs from stdin" eval 'rc_is 0 && out_is "created hourly"'
wait_for 20 runs_has hourly "r['state']=='finished'" || true
job hourly
sched=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["schedule"])' "$OUT")
check "R//PT1H is stored with the start the server chose" eval '[[ "$sched" == R/20*/PT1H ]]'
"$CHRONOS" apply -f - <"$tmp/hourly.json" >"$OUT" 2>"$ERR"; RC=$?
check "re-applying an R// file: unchanged" eval 'rc_is 0 && out_is "unchanged hourly"'
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d @"$tmp/hourly.json" "$URL/v1/scheduler/iso8601"
job hourly
check "re-POSTing the same R// job keeps the chosen start" py "d['schedule']=='$sched'"
nruns() { "$CHRONOS" runs hourly --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
if wait_for 3 eval '[ "$(nruns)" -gt 1 ]'; then
  bad "re-applying or re-POSTing an unchanged R// job ran it again" "$(nruns) runs"
else
  ok "re-applying or re-POSTing an unchanged R// job does not run it again"
fi
printf '[{"name":"c1","command":"x","parents":["c2"]},{"name":"c2","command":"x","parents":["c1"]}]' >"$tmp/cycle.json"
run apply -f cycle.json
check "apply of a cycle: exit 1, nothing sent" eval 'rc_is 1 && err_has cycle && ! "$CHRONOS" show c1 >/dev/null 2>&1'

# -- edit
cat >"$tmp/editor.sh" <<'EOF'
#!/bin/sh
sed -i 's/"retries": 4,/"retries": 6,/' "$1"
EOF
chmod +x "$tmp/editor.sh"
EDITOR="$tmp/editor.sh" run edit nightly
check "edit sends the changed JSON back" eval 'rc_is 0 && out_is "updated nightly"'
job nightly
check "the edit is stored, the rest kept" py "d['retries']==6 and d['scheduleTimeZone']=='Europe/Paris'"
EDITOR=true run edit nightly
check "edit without a change prints unchanged" eval 'rc_is 0 && out_is "unchanged nightly"'
cat >"$tmp/bad-editor.sh" <<'EOF'
#!/bin/sh
sed -i 's/"retries": 6,/"retries": 600,/' "$1"
EOF
chmod +x "$tmp/bad-editor.sh"
EDITOR="$tmp/bad-editor.sh" TMPDIR="$tmp" run edit nightly
check "an edit the server refuses: exit 1, the file kept" eval \
  'rc_is 1 && err_has "retries" && err_has "kept in $tmp/chronos-edit-"'
EDITOR=true run edit nope; check "edit of an unknown job: exit 1" eval 'rc_is 1 && err_has "not found"'

# -- delete
run delete nightly
check "delete of a job others depend on: exit 1 naming them" eval 'rc_is 1 && one_err_line && err_has child'
run delete child
check "delete prints 'deleted NAME'" eval 'rc_is 0 && out_is "deleted child"'
run show child;   check "a deleted job is gone" rc_is 1
run delete child; check "delete of an unknown job: exit 1" rc_is 1

# -- suspend, resume, delete of several names
run suspend etl-report etl-load
check "suspend NAME... prints suspended per job" eval 'rc_is 0 && out_is "$(printf "suspended etl-report\nsuspended etl-load")"'
job etl-report
check "suspend sets disabled and keeps the rest" py "d['disabled'] is True and d['parents']==['etl-load','example']"
run suspend etl-report; check "suspend of a suspended job: unchanged" eval 'rc_is 0 && out_is "unchanged etl-report"'
run resume etl-report;  check "resume clears disabled" eval 'rc_is 0 && out_is "resumed etl-report"'
job etl-report;         check "resumed job is enabled" py "d['disabled'] is False"
run suspend nope;       check "suspend of an unknown job: exit 1" eval 'rc_is 1 && one_err_line'
run delete etl-report etl-load
check "delete a b: children first, one line each" eval 'rc_is 0 && out_is "$(printf "deleted etl-report\ndeleted etl-load")"'

# -- --server wins over CHRONOS_URL
CHRONOS_URL="http://127.0.0.1:$dead" run list --server "$URL" --json
check "--server overrides CHRONOS_URL" eval 'rc_is 0 && is_json'

# -- https://: libcurl, loaded for it alone, with the server's own certificate
# trusted through CHRONOS_CACERT
if openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
     -days 2 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1; then
  TLS_PORT=$(free_port)
  "$CHRONOS" serve --http_port "$TLS_PORT" --data_dir "$tmp/tls" --verbose false --user "$(id -un)" \
    --ssl_cert "$tmp/cert.pem" --ssl_key "$tmp/key.pem" >"$tmp/tls.log" 2>&1 &
  TLS_SERVER=$!
  disown "$TLS_SERVER"
  if wait_for 15 curl -sf --cacert "$tmp/cert.pem" "https://127.0.0.1:$TLS_PORT/ping" -o /dev/null; then
    CHRONOS_CACERT=$tmp/cert.pem run create tls-job --command true --server "https://127.0.0.1:$TLS_PORT"
    check "create over https:// with CHRONOS_CACERT" eval 'rc_is 0 && out_is "created tls-job"'
    CHRONOS_CACERT=$tmp/cert.pem run list --server "https://127.0.0.1:$TLS_PORT"
    check "list over https:// shows the job" eval 'rc_is 0 && out_has "^tls-job "'
    run list --server "https://127.0.0.1:$TLS_PORT"
    check "https:// to a certificate nobody trusts: exit 3, said so" eval \
      'rc_is 3 && one_err_line && err_has "certificate"'
  else
    bad "the https server did not start" "$(tail -3 "$tmp/tls.log")"
  fi
  kill -9 "$TLS_SERVER" 2>/dev/null
else
  bad "openssl could not make a certificate"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
