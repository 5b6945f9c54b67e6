#!/bin/bash
# Notifications through the real binary, to real receivers on loopback ports
# (tests/integration/notify_recv.py: an SMTP server and an HTTP receiver):
# a job whose retries run out mails its two owners and posts the webhook
# once each (basic auth, an HMAC signature that verifies, the run's stderr
# and link); --disable_after_failures disables a job and says so; a kill -9
# after the failure, before the delivery, still delivers after the restart,
# with the same id; a receiver that answers 500 three times then 200 gets it
# once more after a growing backoff; a receiver that hangs does not delay a
# job due meanwhile.  A job's notifyEvents: [] tells nothing (no outbox
# node), ["deleted"] only its deletion; a bad entry is a 400 naming it.  A
# run that no offer fits for --notify_waiting_ms tells `waiting` once; one
# that fits never.  `chronos notify test` prints what each sink answered
# (a 500 fails it, an unknown job is a 404, no sink configured says so).
# Sentry (--raven_dsn) gets an event through its store API.  Backoffs and
# timeouts are small flags, so the whole suite takes ~40 s.  Every process
# is stopped by pid on exit.
#
#   CHRONOS=build/chronos bash tests/integration/test_notify.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init notify

py() { /usr/bin/python3 -I -S -c "$@"; }   # -I -S: the standard library only, twice as fast to start
rcv=$tmp/rcv
mkdir -p "$rcv"
/usr/bin/python3 "$(dirname "$0")/notify_recv.py" "$rcv" >"$tmp/recv.log" 2>&1 &
RECV=$!
trap 'kill $RECV 2>/dev/null; lib_cleanup' EXIT
wait_for 10 test -f "$rcv/ports" || { bad "receivers did not start" "$(cat "$tmp/recv.log")"; finish; }
SMTP=$(awk '$1 == "smtp" {print $2}' "$rcv/ports")
HTTP=$(awk '$1 == "http" {print $2}' "$rcv/ports")

printf 'hook:s3cret' >"$tmp/creds"
printf 'k3y-for-hmac' >"$tmp/hmac"
chmod 600 "$tmp/creds" "$tmp/hmac"
FLAGS=(--mail_server "127.0.0.1:$SMTP" --mail_from chronos@test.invalid
       --http_notification_url "http://127.0.0.1:$HTTP/hook"
       --http_notification_credentials_file "$tmp/creds"
       --notification_hmac_key_file "$tmp/hmac" --cluster_name itest
       --notify_backoff_ms 300 --notify_backoff_max_ms 1500 --notify_timeout_ms 1500
       --failure_retry 200 --disable_after_failures 2 --notify_waiting_ms 2000 --local_cpus 2)
data=$tmp/d1
if ! start_server "$data" "${FLAGS[@]}"; then
  bad "server did not start" "$(tail -5 "$data.log")"
  finish
fi

# mails_for JOB: the mail files whose subject names JOB.
mails_for() { grep -l "^Subject: .*job '$1'" "$rcv"/mail-*.eml 2>/dev/null; }
nmails() { mails_for "$1" | wc -l; }
has_mails() { [ "$(nmails "$1")" -ge "$2" ]; }
# hooks JOB STATUS: webhook requests about JOB answered STATUS.
hooks() {
  py "
import json,sys
n=0
for l in open('$rcv/hooks.jsonl'):
    h=json.loads(l); b=json.loads(h['body'])
    if b.get('job')=='$1' and h['status']==$2: n+=1
print(n)" 2>/dev/null || echo 0
}
hooks_are() { [ "$(hooks "$1" "$2")" = "$3" ]; }
# hooks_ev JOB EVENT: webhook requests about JOB's EVENT answered 200.
hooks_ev() {
  py "
import json
n=0
for l in open('$rcv/hooks.jsonl'):
    h=json.loads(l); b=json.loads(h['body'])
    if b.get('job')=='$1' and b.get('event')=='$2' and h['status']==200: n+=1
print(n)" 2>/dev/null || echo 0
}
hooks_ev_are() { [ "$(hooks_ev "$1" "$2")" = "$3" ]; }
# cli ARGS...: the chronos client against this server (stdout and stderr in
# $tmp/cli.out), its exit status.
cli() { "$CHRONOS" "$@" --server "127.0.0.1:$PORT" >"$tmp/cli.out" 2>&1; }
hooks_ge() { [ "$(hooks "$1" "$2")" -ge "$3" ]; }
pending_zero() {
  curl -s -H "Accept: text/plain" "http://127.0.0.1:$PORT/metrics" |
    awk '/^chronos_notifications_pending\{/ {k++; s += $2} END {exit !(k > 0 && s == 0)}'
}
# job NAME RETRIES OWNER COMMAND: a job that runs once, a second from now.
job() {
  local at; at=$(iso $(( $(now_ms) + 1000 )))
  api POST /v1/scheduler/iso8601 "{\"name\":\"$1\",\"command\":\"$4\",\"retries\":$2,\"owner\":\"$3\",\"schedule\":\"R1/$at/PT1H\"}"
}

# ---- 1. Retries exhausted: one mail to both owners, one webhook ---------------------
t0=$(now_ms)
[ "$(job nightly 1 'a@x.invalid, b@y.invalid' 'echo boom-on-stderr >&2; exit 3')" = 204 ] ||
  bad "create nightly" "$(cat "$tmp/body")"
if wait_for 20 has_mails nightly 1 && wait_for 10 hooks_are nightly 200 1 && wait_for 10 pending_zero; then
  m=$(mails_for nightly)
  check "mail: one message, to both owners" [ "$(nmails nightly)" = 1 ]
  check "mail: both owners are recipients" grep -q '^X-Rcpt: a@x.invalid,b@y.invalid$' "$m"
  check "mail: Chronos's subject with the cluster" grep -q "^Subject: \[itest\] \[Chronos\] job 'nightly' failed!" "$m"
  check "mail: the exit code, the stderr, a link to the run" \
    bash -c "grep -q '^exit code: 3' '$m' && grep -q '^boom-on-stderr' '$m' && grep -q '^link: http://127.0.0.1:$PORT/runs/ct:[0-9]*:1:nightly' '$m'"
  check "webhook: posted once" hooks_are nightly 200 1
  out=$(py "
import json,hmac,hashlib,base64
for l in open('$rcv/hooks.jsonl'):
    h=json.loads(l); b=json.loads(h['body'])
    if b.get('job')!='nightly': continue
    sig=hmac.new(b'k3y-for-hmac', h['body'].encode(), hashlib.sha256).hexdigest()
    hd={k.lower():v for k,v in h['headers'].items()}
    print(hd.get('x-chronos-signature')=='sha256='+sig,
          hd.get('authorization')=='Basic '+base64.b64encode(b'hook:s3cret').decode(),
          all(isinstance(v,str) for v in b.values()),
          b['subject'], b['event'], b['to'], b['exitCode'], b['errorCount'], b['retries'],
          hd.get('x-chronos-notification-id')==b['id'], 'boom-on-stderr' in b['stderr'])")
  check "webhook: signed, basic auth, Chronos's string body" \
    [ "$out" = "True True True [itest] [Chronos] job 'nightly' failed! failed a@x.invalid, b@y.invalid 3 1 1 True True" ]
else
  bad "retries exhausted: nothing delivered" "$(ls "$rcv"; tail -5 "$data.log")"
fi

# ---- 2. --disable_after_failures 2: the second failure in a row disables ----------
job flap 0 'c@z.invalid' 'exit 1' >/dev/null
wait_for 10 has_mails flap 1
api PUT /v1/scheduler/job/flap >/dev/null
if wait_for 10 field_is flap disabled True; then
  ok "disabled after 2 failures in a row"
  wait_for 10 bash -c "grep -q \"^Subject: \[itest\] \[Chronos\] job 'flap' disabled\" $rcv/mail-*.eml"
  check "mail: job disabled" grep -q "^Subject: \[itest\] \[Chronos\] job 'flap' disabled" $(mails_for flap)
  check "webhook: one failed, one disabled" wait_for 5 hooks_are flap 200 2
else
  bad "flap not disabled" "$(field flap disabled)"
fi

# ---- 2b. A job's notifyEvents: none, or only some -----------------------------------
code=$(api POST /v1/scheduler/iso8601 '{"name":"typo","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D","notifyEvents":["failed","fialed"]}')
msg=$(py "import json; print(json.load(open('$tmp/body'))['message'])")
check "notifyEvents: a bad entry is a 400 naming it and its value" \
  [ "$code $msg" = '400 notifyEvents[1]: unknown event "fialed" (failed, disabled, exhausted, deleted, lost, timeout, skipped, recovered, waiting)' ]
at=$(iso $(( $(now_ms) + 1000 )))
api POST /v1/scheduler/iso8601 "{\"name\":\"quiet\",\"command\":\"exit 7\",\"retries\":0,\"owner\":\"q@x.invalid\",\"schedule\":\"R1/$at/PT1H\",\"notifyEvents\":[]}" >/dev/null
api POST /v1/scheduler/iso8601 "{\"name\":\"picky\",\"command\":\"exit 7\",\"retries\":0,\"owner\":\"p@x.invalid\",\"schedule\":\"R1/$at/PT1H\",\"notifyEvents\":[\"deleted\"]}" >/dev/null
job loud 0 'l@x.invalid' 'exit 7' >/dev/null
check "notifyEvents round-trips through GET" field_is picky notifyEvents "['deleted']"
if wait_for 15 hooks_are loud 200 1 && wait_for 10 field_is quiet errorCount 1 &&
   wait_for 10 field_is picky errorCount 1; then
  sleep 1
  quiet_silent() {
    grep -q "of job 'loud') into the outbox" "$data.log" &&
      ! grep -q "of job 'quiet') into the outbox" "$data.log" && [ "$(nmails quiet)" = 0 ] &&
      hooks_are quiet 200 0
  }
  check "notifyEvents []: the failure made no outbox node, sent nothing" quiet_silent
  check "notifyEvents [deleted]: the failure is not told" hooks_are picky 200 0
  check "the same failure of a job without notifyEvents is told" hooks_ev_are loud failed 1
  api DELETE /v1/scheduler/job/picky >/dev/null
  check "notifyEvents [deleted]: its deletion is told" wait_for 10 hooks_ev_are picky deleted 1
else
  bad "quiet/picky/loud did not fail and tell" "$(tail -5 "$data.log")"
fi

# ---- 3. kill -9 between the failure and the delivery -----------------------------------
echo "fail 1000" >"$rcv/http_mode"
echo fail >"$rcv/smtp_mode"
job crash 0 'd@x.invalid' 'exit 4' >/dev/null
if wait_for 15 hooks_ge crash 500 1; then
  id1=$(py "
import json
for l in open('$rcv/hooks.jsonl'):
    b=json.loads(json.loads(l)['body'])
    if b.get('job')=='crash': print(b['id']); break")
  kill9_server
  echo ok >"$rcv/http_mode"
  rm -f "$rcv/smtp_mode"
  start_server "$data" "${FLAGS[@]}" || bad "restart" "$(tail -5 "$data.log")"
  if wait_for 15 hooks_are crash 200 1 && wait_for 10 has_mails crash 1; then
    ok "delivered after kill -9 and restart"
    id2=$(py "
import json
for l in open('$rcv/hooks.jsonl'):
    h=json.loads(l); b=json.loads(h['body'])
    if b.get('job')=='crash' and h['status']==200: print(b['id'])")
    check "the same id before and after the restart" [ -n "$id1" ] && [ "$id1" = "$id2" ]
    check "mail carries the id too" grep -q "^X-Chronos-Notification-Id: $id1" $(mails_for crash)
    check "a job's notifyEvents survive the restart" field_is quiet notifyEvents "[]"
  else
    bad "not delivered after the restart" "$(tail -5 "$data.log")"
  fi
else
  bad "crash: no attempt before the kill"
  echo ok >"$rcv/http_mode"
  rm -f "$rcv/smtp_mode"
fi

# ---- 4. 500 three times, then 200: delivered once more after backoff -------------
echo "fail 3" >"$rcv/http_mode"
job flaky 0 'e@x.invalid' 'exit 5' >/dev/null
if wait_for 15 hooks_are flaky 200 1; then
  out=$(py "
import json
ts=[]; st=[]
for l in open('$rcv/hooks.jsonl'):
    h=json.loads(l); b=json.loads(h['body'])
    if b.get('job')=='flaky': ts.append(h['t']); st.append(h['status'])
gaps=[b-a for a,b in zip(ts,ts[1:])]
# backoff 300 ms doubling, jittered into [d/2, d]: gaps of at least 150, 300, 600
print(st, all(g >= m - 20 for g,m in zip(gaps,[150,300,600])))")
  check "500, 500, 500, then one 200, each after its backoff" [ "$out" = "[500, 500, 500, 200] True" ]
  sleep 1
  check "no delivery after the 200" hooks_are flaky 200 1
else
  bad "flaky: never delivered"
fi
check "/metrics counts the webhook's sent and failed" bash -c \
  "curl -s -H 'Accept: text/plain' http://127.0.0.1:$PORT/metrics | grep -q '^chronos_notifications_failed_total{sink=\"webhook\"} [1-9]' &&
   curl -s -H 'Accept: text/plain' http://127.0.0.1:$PORT/metrics | grep -q '^chronos_notifications_sent_total{sink=\"mail\"} [1-9]'"

# ---- 5. A receiver that hangs does not delay a job due meanwhile ------------------
echo hang >"$rcv/http_mode"
job stuck 0 'f@x.invalid' 'exit 6' >/dev/null
wait_for 10 bash -c "grep -q '\"status\": -1' '$rcv/hooks.jsonl'" || bad "stuck: no hanging attempt"
start=$(( ( $(now_ms) / 1000 + 2 ) * 1000 ))
api POST /v1/scheduler/iso8601 "{\"name\":\"tick\",\"command\":\"date +%s%3N >> $tmp/ticks\",\"schedule\":\"R3/$(iso $start)/PT1S\"}" >/dev/null
sleep_until $(( start + 3000 ))
wait_for 5 has_lines "$tmp/ticks" 3
out=$(awk -v s="$start" '{ d = $1 - (s + (NR - 1) * 1000); if (d < 0 || d > 900) bad++ } END {print NR, bad + 0}' "$tmp/ticks" 2>/dev/null)
check "a job due while the webhook hangs runs on time (3 runs, none > 0.9 s late)" [ "$out" = "3 0" ]
echo ok >"$rcv/http_mode"

# ---- 6. Waiting for resources longer than --notify_waiting_ms (2 s) ----------------
# The host offers 2 cpus (--local_cpus): hog takes 1.5, so fat (1 cpu) fits
# no offer and waits; slim (0.25) fits the rest and runs.  (A job asking more
# than the host's total is refused at PUT: its runs could never start.)
at=$(iso $(( $(now_ms) + 1000 )))
api POST /v1/scheduler/iso8601 "{\"name\":\"hog\",\"command\":\"sleep 60\",\"cpus\":1.5,\"schedule\":\"R1/$at/PT1H\"}" >/dev/null
wait_for 10 bash -c "curl -s http://127.0.0.1:$PORT/v1/runs?job=hog | grep -q '\"state\":\"running\"'" ||
  bad "hog does not run" "$(curl -s "http://127.0.0.1:$PORT/v1/runs?job=hog")"
at=$(iso $(( $(now_ms) + 500 )))
api POST /v1/scheduler/iso8601 "{\"name\":\"fat\",\"command\":\"true\",\"cpus\":1,\"schedule\":\"R1/$at/PT1H\"}" >/dev/null
api POST /v1/scheduler/iso8601 "{\"name\":\"slim\",\"command\":\"sleep 4\",\"cpus\":0.25,\"schedule\":\"R1/$at/PT1H\"}" >/dev/null
if wait_for 15 hooks_ev_are fat waiting 1; then
  ok "a run that fits no offer for 2 s tells 'waiting'"
  out=$(py "
import json
for l in open('$rcv/hooks.jsonl'):
    b=json.loads(json.loads(l)['body'])
    if b.get('job')=='fat' and b.get('event')=='waiting':
        print(b['subject'], '|', b['runId'].endswith(':fat'), '|', 'needs cpus 1' in b['reason'])")
  check "its subject, run id and reason" \
    [ "$out" = "[itest] [Chronos] job 'fat': run waiting for resources | True | True" ]
  sleep 3
  check "told once, not again while it still waits" hooks_ev_are fat waiting 1
  check "a run that fits never tells 'waiting'" hooks_ev_are slim waiting 0
else
  bad "fat never told 'waiting'" "$(curl -s "http://127.0.0.1:$PORT/v1/runs?job=fat")"
fi
api DELETE /v1/scheduler/task/kill/hog >/dev/null

# ---- 7. chronos notify test --------------------------------------------------------
cli notify test --job nightly; rc=$?
check "notify test --job: exit 0, a line per sink, each sent" \
  bash -c "[ $rc = 0 ] && grep -q '^mail  *sent  *SMTP 250' '$tmp/cli.out' && grep -q '^webhook  *sent  *HTTP 200' '$tmp/cli.out' && [ \$(wc -l <'$tmp/cli.out') = 2 ]"
test_mail_to_owners() {
  local m
  m=$(grep -l "^Subject: \[itest\] \[Chronos\] test notification for job nightly" "$rcv"/mail-*.eml 2>/dev/null)
  [ -n "$m" ] && grep -q '^X-Rcpt: a@x.invalid,b@y.invalid$' $m
}
check "notify test --job: the mail goes to the job's owners" wait_for 5 test_mail_to_owners
check "notify test --job: the webhook's payload names the job, event test" hooks_ev_are nightly test 1
cli notify test; rc=$?
check "notify test without a job: mail skipped (no recipient), webhook sent, exit 0" \
  bash -c "[ $rc = 0 ] && grep -q '^mail  *skipped' '$tmp/cli.out' && grep -q '^webhook  *sent' '$tmp/cli.out'"
echo "fail 1" >"$rcv/http_mode"
cli notify test --job nightly; rc=$?
check "notify test: a receiver answering 500 shows it and fails (exit 1)" \
  bash -c "[ $rc = 1 ] && grep -q '^webhook  *failed  *HTTP 500' '$tmp/cli.out' && grep -q '^mail  *sent' '$tmp/cli.out'"
echo ok >"$rcv/http_mode"
cli notify test --job no-such-job; rc=$?
code=$(api POST /v1/notify/test '{"job":"no-such-job"}')
check "notify test --job of an unknown job: 404, exit 1, says so" \
  bash -c "[ $rc = 1 ] && [ $code = 404 ] && grep -q \"job 'no-such-job' not found\" '$tmp/cli.out'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' -d x "http://127.0.0.1:$PORT/v1/notify/test")
check "notify test is a write: a body that is not JSON is refused (415)" [ "$code" = 415 ]

stop_server

# ---- 8. No sink configured -----------------------------------------------------------
if start_server "$tmp/d2"; then
  cli notify test; rc=$?
  check "notify test with no sink: exit 1, says none is configured" \
    bash -c "[ $rc = 1 ] && grep -q 'no notification sink is configured' '$tmp/cli.out'"
  stop_server
else
  bad "server without sinks did not start" "$(tail -5 "$tmp/d2.log")"
fi

# ---- 9. Sentry: --raven_dsn ---------------------------------------------------------
"$CHRONOS" serve --data_dir "$tmp/d4" --http_port "$(free_port)" --raven_dsn 'https://sentry.invalid/42' \
  >"$tmp/bad_dsn.log" 2>&1
rc=$?
check "a DSN without a key refuses to start, naming raven_dsn" \
  bash -c "[ $rc != 0 ] && grep -q '^chronos serve: raven_dsn: ' '$tmp/bad_dsn.log'"
# sentry JOB EVENT: what the Sentry receiver got about JOB's EVENT.
sentry() {
  py "
import json
for l in open('$rcv/hooks.jsonl'):
    h=json.loads(l)
    if h.get('path')!='/sentry/api/42/store/' or h['status']!=200: continue
    b=json.loads(h['body']); hd={k.lower():v for k,v in h['headers'].items()}
    if b['tags'].get('job')!='$1' or b['tags'].get('event')!='$2': continue
    print(hd.get('x-sentry-auth'), '|', b['level'], b['tags']['cluster'], len(b['event_id']),
          b['message']['formatted'].split(chr(10))[0], '|', 'sentry-stderr' in b['extra']['stderr'],
          b['extra']['exitCode'])" 2>/dev/null
}
sentry_has() { [ -n "$(sentry "$1" "$2")" ]; }
if start_server "$tmp/d3" --raven_dsn "http://pubkey:s3cr3t@127.0.0.1:$HTTP/sentry/42" --cluster_name itest \
   --notify_backoff_ms 300 --failure_retry 200; then
  job sentried 0 '' 'echo sentry-stderr >&2; exit 9' >/dev/null
  if wait_for 15 sentry_has sentried failed; then
    out=$(sentry sentried failed)
    check "Sentry: an event through the store API, X-Sentry-Auth, level error, tags, the run's figures" \
      [ "$out" = "Sentry sentry_version=7, sentry_client=chronos, sentry_key=pubkey, sentry_secret=s3cr3t | error itest 32 [itest] [Chronos] job 'sentried' failed! | True 9" ]
  else
    bad "Sentry: no event" "$(tail -5 "$tmp/d3.log")"
  fi
  cli notify test; rc=$?
  check "notify test through Sentry" bash -c "[ $rc = 0 ] && grep -q '^sentry  *sent  *HTTP 200' '$tmp/cli.out'"
  stop_server
else
  bad "server with Sentry did not start" "$(tail -5 "$tmp/d3.log")"
fi
finish
