#!/bin/bash
# The notification outbox through a ZooKeeper failover (tests/ha/lib.sh:
# a real ZooKeeper, three `chronos serve`): the webhook receiver is down
# (connection refused) when a job's retries run out on the leader, so the
# notification waits in <root>/outbox; the leader is killed with -9, a
# standby takes over and takes the outbox, the receiver comes up on the same
# port, and the notification is delivered at least once, every delivery with
# the id the old leader gave it (header and body agree: a receiver drops
# duplicates by it); the outbox is empty afterwards.  A standby forwards
# `chronos notify test` to the leader.  (kill -9 of a single server between
# the failure and the delivery is tests/integration/test_notify.sh's.)
# Every process is stopped by pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_notify_ha.sh
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/chronos}")
. "$REPO/tests/ha/lib.sh"

ha_init
RECV=""
recv_stop() { [ -n "$RECV" ] && kill "$RECV" 2>/dev/null && wait "$RECV" 2>/dev/null; RECV=""; }
trap 'recv_stop; ha_cleanup' EXIT
py() { /usr/bin/python3 -I -S -c "$@"; }   # -I -S: the standard library only, twice as fast to start
rcv=$tmp/rcv
mkdir -p "$rcv"
HTTP=$(free_port)
# recv_start: the receivers of test_notify.sh, the HTTP one on $HTTP.
recv_start() {
  rm -f "$rcv/ports"
  /usr/bin/python3 "$REPO/tests/integration/notify_recv.py" "$rcv" "$HTTP" >>"$tmp/recv.log" 2>&1 &
  RECV=$!
  wait_for 10 test -f "$rcv/ports"
}
# hooks_of JOB: the ids of the webhook deliveries about JOB answered 200, one
# a line, "header-id body-id".
hooks_of() {
  [ -f "$rcv/hooks.jsonl" ] || return 0
  py "
import json
for l in open('$rcv/hooks.jsonl'):
    h=json.loads(l); b=json.loads(h['body'])
    hd={k.lower():v for k,v in h['headers'].items()}
    if b.get('job')=='$1' and h['status']==200:
        print(hd.get('x-chronos-notification-id'), b.get('id'))"
}
delivered() { [ -n "$(hooks_of "$1")" ]; }
outbox_children() { $PYQ "$REPO/tests/zk/zkcli.py" "$ZKH" ls /chronos/outbox 2>&1; }
outbox_empty() { [ "$(outbox_children)" = "[]" ]; }

FLAGS=(--http_notification_url "http://127.0.0.1:$HTTP/hook" --notify_backoff_ms 300
       --notify_backoff_max_ms 1500 --notify_timeout_ms 1500 --failure_retry 200)

zk_start 1 || { bad "ZooKeeper starts"; finish; }
for i in 1 2 3; do srv_start "$i" "${FLAGS[@]}" || bad "server $i starts"; done
check "a leader is elected" wait_for 20 has_leader
L=$(leader)
[ -n "$L" ] || finish

# ---- 1. The receiver is down when the retries run out --------------------------------
at=$(iso $(( $(now_ms) + 1000 )))
code=$(api "$L" POST /v1/scheduler/iso8601 \
  "{\"name\":\"doomed\",\"command\":\"exit 3\",\"retries\":1,\"schedule\":\"R1/$at/PT1H\"}")
check "the job is created on the leader" [ "$code" = 204 ]
queued() { grep -q "(failed of job 'doomed') into the outbox" "$tmp/s$L.log"; }
tried() { grep -q "notify: .* to webhook failed" "$tmp/s$L.log"; }
if wait_for 20 queued && wait_for 10 tried; then
  ok "the failure is in the outbox, and the first attempt found the receiver down"
else
  bad "no notification queued on the leader" "$(tail -5 "$tmp/s$L.log")"
fi
id=$(sed -n "s/.*notification \([0-9a-f-]*\) (failed of job 'doomed') into the outbox.*/\1/p" \
  "$tmp/s$L.log" | head -1)
check "the notification's node is in ZooKeeper's outbox" bash -c "[ -n '$id' ] && \
  /usr/bin/python3 '$REPO/tests/zk/zkcli.py' '$ZKH' ls /chronos/outbox | grep -q '$id'"

# ---- 2. kill -9 of the leader; a standby takes over; the receiver comes up -------------
srv_kill9 "$L"
new_leader() { local n; n=$(leader); [ -n "$n" ] && [ "$n" != "$L" ]; }
check "a standby takes over" wait_for 30 new_leader
N=$(leader)
recv_start || bad "the receiver starts" "$(cat "$tmp/recv.log")"
if wait_for 20 delivered doomed; then
  ok "delivered after the failover"
  ids=$(hooks_of doomed)
  check "every delivery carries the id the old leader gave it (header and body)" \
    bash -c "[ -n '$id' ] && printf '%s\n' \"$ids\" | awk -v id='$id' '\$1 != id || \$2 != id {bad++} END {exit bad > 0 || NR < 1}'"
  n=$(printf '%s\n' "$ids" | wc -l)
  echo "     (delivered $n time(s))"
  check "the outbox is empty once delivered" wait_for 10 outbox_empty
else
  bad "not delivered after the failover" "$(tail -5 "$tmp/s${N:-1}.log")"
fi

# ---- 3. A standby forwards `chronos notify test` to the leader ------------------------
S=""
for i in 1 2 3; do
  if srv_alive "$i" && [ "$i" != "$N" ]; then S=$i; break; fi
done
if [ -n "$S" ]; then
  "$CHRONOS" notify test --server "127.0.0.1:${PORT[$S]}" >"$tmp/cli.out" 2>&1
  rc=$?
  check "notify test through a standby: the leader sends, the webhook answers" \
    bash -c "[ $rc = 0 ] && grep -q '^webhook  *sent  *HTTP 200' '$tmp/cli.out'"
else
  bad "no standby left"
fi

# A graceful stop of what is left (the sanitizers check the sender's
# threads and the tests' slots are let go).
for i in 1 2 3; do srv_alive "$i" && srv_stop "$i"; done
recv_stop
finish
