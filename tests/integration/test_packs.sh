#!/bin/bash
# Packs (zkstore/packs.h, zkstore/pack.h) against one real ZooKeeper and one
# `chronos serve` (tests/ha/lib.sh): a leader loads its jobs through the packs
# of <root>/packs/<xx>, yet every load must give exactly what a node-by-node
# read gives, whatever was done to ZooKeeper behind chronos's back.  Each
# restart below is checked twice: the job listing (GET /v1/scheduler/jobs)
# against a model kept here, and the leader's load line
#   packs: N jobs taken from packs, M read node by node (S shards without a
#   usable pack, K stale entries)
# against what the packs may and may not vouch for.
#
#   1. ~300 jobs (some with names that are encoded, 3 dependent ones, 2 that
#      run every 2 s): a graceful stop packs what is held, the restart takes
#      every job from the packs and reads 0 nodes one by one.
#   2. A job node, and another job's state node, set behind chronos's back:
#      their entries are stale, read.
#   3. A job node deleted and created again with other content (both version
#      0, so a version check alone would pass): its shard falls back.
#   4. A job node created behind chronos's back: its shard falls back.
#   5. A pack overwritten with garbage: "pack of shard xx not used", read.
#   6. A job deleted and created again, another updated, another created
#      through the API, then kill -9 (nothing packed): the new bytes win, and
#      the running jobs' states are not taken stale from the packs.
#   7. Every pack deleted: a node-by-node load gives the same listing as the
#      loads through packs before and after it; the packs are rebuilt.
# Every process is stopped by pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_packs.sh
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/chronos}")
ST=4000
. "$REPO/tests/ha/lib.sh"

ha_init
T0=$(now_ms)

# zk: runs the ZooKeeper CLI commands read on stdin in one session
# (tests/zk/zkcli.py); its output on stdout.
zk() {
  { cat; echo quit; } | $PYQ "$REPO/tests/zk/zkcli.py" "$ZKH" 2>&1
}
# zk_ok: the same, failing (with the output shown) when a command was refused.
zk_ok() {
  local out; out=$(zk)
  if grep -qE 'does not exist|already exists|Exception|not valid|Usage|Command not found' <<<"$out"; then
    printf '%s\n' "$out" | sed -n '/SyncConnected/,$p' | grep -v '^$' | sed 's/^/     zk: /'
    return 1
  fi
}

# jobs.py: the job listings and the model of what they must be.
cat >"$tmp/jobs.py" <<'EOF'
import json, sys
# What running changes: compared for jobs that do not run (names "p-*" etc.),
# not for the ones that run every 2 s (names "r-*").
VOLATILE = {"successCount", "errorCount", "lastSuccess", "lastError",
            "errorsSinceLastSuccess"}

def load(f):
    return {j["name"]: j for j in json.load(open(f))}

def norm(j):
    return {k: v for k, v in j.items() if not (j["name"].startswith("r-") and k in VOLATILE)}

def shard(name):
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    h ^= h >> 16; h ^= h >> 8
    return "%02x" % (h & 0xff)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "same":            # same WANT GOT: equal listings (running jobs: definitions)
    a, b = load(args[0]), load(args[1])
    bad = 0
    for n in sorted(set(a) | set(b)):
        if n not in b: print("     missing: %r" % n); bad += 1
        elif n not in a: print("     unexpected: %r" % n); bad += 1
        elif norm(a[n]) != norm(b[n]):
            d = {k: (norm(a[n]).get(k), norm(b[n]).get(k)) for k in set(norm(a[n])) | set(norm(b[n]))
                 if norm(a[n]).get(k) != norm(b[n]).get(k)}
            print("     differs: %r: %s" % (n, d)); bad += 1
        if bad >= 10: break
    sys.exit(1 if bad else 0)
elif cmd == "patch":         # patch FILE JSON: {name: null (gone) | {field: value, "_from": name}}
    jobs = load(args[0])
    for n, ch in json.loads(args[1]).items():
        if ch is None:
            jobs.pop(n, None)
            continue
        j = dict(jobs[ch.pop("_from", n)])
        j.update(ch)
        j["name"] = n
        jobs[n] = j
    json.dump(sorted(jobs.values(), key=lambda j: j["name"]), open(args[0], "w"))
elif cmd == "count":         # count FILE
    print(len(load(args[0])))
elif cmd == "field":         # field FILE NAME FIELD
    print(load(args[0]).get(args[1], {}).get(args[2]))
elif cmd == "shard":         # shard NAME
    print(shard(args[0]))
elif cmd == "in_shard":      # in_shard FILE NAME: jobs of the listing in NAME's shard
    s = shard(args[1])
    print(sum(1 for n in load(args[0]) if shard(n) == s))
elif cmd == "ran":           # ran BEFORE AFTER MIN: every r-* job's successCount grew by >= MIN
    a, b = load(args[0]), load(args[1])
    bad = [n for n in a if n.startswith("r-") and
           b.get(n, {}).get("successCount", -1) < a[n]["successCount"] + int(args[2])]
    for n in bad:
        print("     %s: successCount %s, then %s" % (n, a[n]["successCount"], b.get(n, {}).get("successCount")))
    sys.exit(1 if bad else 0)
elif cmd == "node":          # node ZKOUT NAME [FIELD=VALUE...]: the stored JSON of job NAME
    for line in open(args[0]):   # (from `get` output), changed; compact, one line
        line = line.strip()
        if line.startswith("{"):
            j = json.loads(line)
            if j.get("name") == args[1]:
                for kv in args[2:]:
                    k, v = kv.split("=", 1)
                    j[k] = v
                print(json.dumps(j, separators=(",", ":"), ensure_ascii=False))
                sys.exit(0)
    sys.exit(1)
elif cmd == "state":         # state ZKOUT FIELD=INT...: the one state node of `get` output, changed
    for line in open(args[0]):
        line = line.strip()
        if line.startswith("{") and '"successCount"' in line:
            j = json.loads(line)
            for kv in args[1:]:
                k, v = kv.split("=", 1)
                j[k] = int(v)
            print(json.dumps(j, separators=(",", ":")))
            sys.exit(0)
    sys.exit(1)
elif cmd == "version":       # version ZKOUT NAME: dataVersion shown after NAME's `get -s`
    seen = False
    for line in open(args[0]):
        line = line.strip()
        if line.startswith("{") and json.loads(line).get("name") == args[1]:
            seen = True
        elif seen and line.startswith("dataVersion = "):
            print(line.split("=")[1].strip())
            sys.exit(0)
    sys.exit(1)
EOF
jobs() { $PYQ "$tmp/jobs.py" "$@"; }

# listing FILE: the leader's jobs.
listing() { [ "$(api_answer 1 GET /v1/scheduler/jobs)" = 200 ] && cp "$tmp/body" "$1"; }

# start: starts the server, waits until it leads and has logged its load;
# FROM READ BAD STALE from that line, the listing in $tmp/now.json.
start() {
  touch "$tmp/s1.log"
  mark=$(wc -l <"$tmp/s1.log")
  run_from=$mark
  FROM=-1 READ=-1 BAD=-1 STALE=-1
  srv_start 1 || { bad "the server starts"; return 1; }
  wait_for $(( ST / 1000 + 20 )) has_leader || { bad "the server leads"; return 1; }
  local line
  wait_for 10 logged 'jobs taken from packs' || { bad "the load line is logged"; return 1; }
  line=$(tail -n +"$((mark + 1))" "$tmp/s1.log" | grep 'jobs taken from packs' | tail -1)
  read -r FROM READ BAD STALE < <(sed -E 's/.*packs: ([0-9]+) jobs taken from packs, ([0-9]+) read node by node \(([0-9]+) shards without a usable pack, ([0-9]+) stale entries\).*/\1 \2 \3 \4/' <<<"$line")
  echo "     load: $FROM from packs, $READ read, $BAD bad shards, $STALE stale"
  listing "$tmp/now.json" || { bad "the listing is read"; return 1; }
}
# logged RE: the server logged a line matching RE since the mark.
logged() { tail -n +"$((mark + 1))" "$tmp/s1.log" | grep -q "$1"; }
# stop: a graceful stop (SIGTERM: packs what is held first); the log of the
# run it ends starts after line stopped_from (what after_stop and step 1
# read: that run, its stop, the next start).
stop() { stopped_from=${run_from:-0}; mark=$(wc -l <"$tmp/s1.log"); srv_stop 1; }
same() { jobs same "$tmp/expect.json" "$tmp/now.json"; }
# after_stop STEP WHAT: the checks of a restart after a graceful stop.  The
# stop's packing is bounded (5 s); on a loaded machine it can run out and
# says so ("packs: N shards left unpacked at the stop"): the next load then
# reads those shards' jobs one by one, which is slower, not wrong.  So:
# every job loads, and no more shards lack a usable pack than the stop
# said it left (or, when the leader stepped down before the stop, every job
# loads).  Otherwise nothing may be read, no shard bad, none stale.
after_stop() {
  local left
  left=$(tail -n +"$((stopped_from + 1))" "$tmp/s1.log" | sed -n 's/.*packs: \([0-9]*\) shards left unpacked at the stop.*/\1/p' | tail -1)
  if [ -z "$left" ] && tail -n +"$((stopped_from + 1))" "$tmp/s1.log" | grep -q 'stepping down:'; then
    # Its lease lapsed before the stop (a loaded machine): a leader that no
    # longer leads packs nothing at the stop, and says only why it stepped down.
    echo "     the leader stepped down before its stop: $READ jobs read, $BAD shards without a usable pack"
    check "$1: a restart after a step-down loads every job" is "$((FROM + READ))" "$TOTAL"
  elif [ -n "$left" ]; then
    echo "     the stop left $left shards unpacked (a loaded machine): $READ jobs read, $BAD shards without a usable pack, $STALE stale entries"
    check "$1: a restart after a cut-short packing loads every job" is "$((FROM + READ))" "$TOTAL"
    check "$1: and no more shards lack a pack than the stop left" test "$BAD" -le "$left"
  else
    check "$1: $2: 0 nodes read one by one" is "$READ/$BAD/$STALE" 0/0/0
    check "$1: every job comes from them" is "$FROM" "$TOTAL"
  fi
}
count_right() { [ "$(jobs count "$tmp/now.json")" = "$(jobs count "$tmp/expect.json")" ]; }
is() { [ "$1" = "$2" ] || { echo "     got $1, want $2"; return 1; }; }
field() { jobs field "$tmp/now.json" "$1" "$2"; }

zk_start 1 || { bad "ZooKeeper starts"; finish; }
start || finish

# 1. Many jobs, a graceful stop, a restart through the packs alone.
# One client on 4 connections (a curl per job costs 300 process starts).
/usr/bin/python3 - "${PORT[1]}" >"$tmp/codes" <<'EOF'
import http.client, json, sys, threading
port, codes = int(sys.argv[1]), []
def post(ks):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for k in ks:
        body = json.dumps({"name": "p-%d" % k, "command": "echo %d" % k,
                           "description": "job number %d" % k,
                           "schedule": "R/2099-01-01T00:00:00Z/P1D", "owner": "o%d@b.c" % k})
        try:
            c.request("POST", "/v1/scheduler/iso8601", body, {"Content-Type": "application/json"})
            r = c.getresponse(); r.read(); codes.append(r.status)
        except OSError as e:
            codes.append(str(e)); c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ts = [threading.Thread(target=post, args=(range(i, 301, 4),)) for i in range(1, 5)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(map(str, codes)))
EOF
check "300 jobs are created (204 each)" is "$(grep -c '^204$' "$tmp/codes")" 300
for name in dot.ted .lead ..two under_score UPPER.Case-9; do
  code=$(api 1 POST /v1/scheduler/iso8601 "{\"name\":\"$name\",\"command\":\"echo $name\",\"schedule\":\"R/2099-01-01T00:00:00Z/P1D\"}")
  [ "$code" = 204 ] || bad "create '$name'" "status $code"
done
for k in 1 2 3; do
  code=$(api 1 POST /v1/scheduler/dependency \
    "{\"name\":\"d-$k\",\"command\":\"echo d$k\",\"parents\":[\"p-$k\",\"p-300\"],\"owner\":\"a@b.c\"}")
  [ "$code" = 204 ] || bad "create d-$k" "status $code"
done
for k in 1 2; do
  code=$(api 1 POST /v1/scheduler/iso8601 \
    "{\"name\":\"r-$k\",\"command\":\"true\",\"schedule\":\"R/$(iso "$(now_ms)")/PT2S\",\"cpus\":0.01,\"mem\":1,\"disk\":1}")
  [ "$code" = 204 ] || bad "create r-$k" "status $code"
done
runs_twice() { listing "$tmp/r.json" && [ "$(jobs field "$tmp/r.json" r-2 successCount)" -ge 2 ]; }
check "the running jobs run" wait_for 15 runs_twice
listing "$tmp/expect.json"
TOTAL=$(jobs count "$tmp/expect.json")
check "the listing has every job ($TOTAL)" is "$TOTAL" 310
stop
check "a graceful stop packs what is held" logged 'packs: packed [0-9]* shards before stopping'
start
# The stop's packing is bounded (5 s); on a loaded machine it can run out
# and says so; the shards it left are then read one by one, which is slower,
# not wrong.  Otherwise nothing may be read.
if tail -n +"$((stopped_from + 1))" "$tmp/s1.log" | grep -q 'shards left unpacked at the stop'; then
  echo "     the stop left shards unpacked (a loaded machine): $READ jobs read"
  check "1: a restart after a cut-short packing loads every job" is "$((FROM + READ))" "$TOTAL"
else
  check "1: a graceful restart reads 0 nodes one by one" is "$READ" 0
  check "1: and takes every job from the packs" is "$FROM" "$TOTAL"
fi
check "1: with no bad shard and no stale entry" is "$BAD/$STALE" 0/0
check "1: the job count is right" count_right
check "1: the listing equals the one before the stop" same
check "1: the running jobs' states were not lost" jobs ran "$tmp/expect.json" "$tmp/now.json" 0

# The stored bytes of the nodes the next scenarios change (one CLI session).
S7=$(jobs shard p-7) S12=$(jobs shard p-12) S8=$(jobs shard p-8) S9=$(jobs shard p-9) SX=$(jobs shard ext-1)
zk >"$tmp/zk.out" <<EOF
get /chronos/jobs/$S7/p-7
get /chronos/state/$S12/p-12
get -s /chronos/jobs/$S8/p-8
get /chronos/jobs/$(jobs shard p-1)/p-1
ls /chronos/state/$S8
EOF
stop

# 2. A job node, and another job's state node, set behind chronos's back.
data=$(jobs node "$tmp/zk.out" p-7 command=changed-by-zk)
state=$(jobs state "$tmp/zk.out" successCount=4242)
check "2: the stored job p-7 and state of p-12 are read with the CLI" test -n "$data" -a -n "$state"
printf "set /chronos/jobs/%s/p-7 '%s'\nset /chronos/state/%s/p-12 '%s'\n" \
  "$S7" "$data" "$S12" "$state" | zk_ok || bad "2: set p-7 and p-12's state in ZooKeeper"
jobs patch "$tmp/expect.json" '{"p-7":{"command":"changed-by-zk"},"p-12":{"successCount":4242}}'
start
check "2: p-7 has the command set in ZooKeeper" is "$(field p-7 command)" changed-by-zk
check "2: p-12 has the success count set in ZooKeeper" is "$(field p-12 successCount)" 4242
check "2: their pack entries are found stale (2) and read" is "$STALE/$READ" 2/2
check "2: every other job comes from the packs" is "$FROM" $(( TOTAL - 2 ))
check "2: the job count is right" count_right
check "2: the listing is the model's" same
stop

# 3. A job node deleted and created again with other content, version 0 both
# times (p-8 was never updated), so only the directory's counters tell.
check "3: p-8's job node is at version 0" is "$(jobs version "$tmp/zk.out" p-8)" 0
data=$(jobs node "$tmp/zk.out" p-8 command=recreated description=recreated-by-zk)
st8=""
if grep -qE "[[ ]p-8[],]" <(grep '^\[' "$tmp/zk.out" | head -1); then
  st8=p-8   # a state node too: left as it is (its version stays)
fi
echo "     p-8 in shard $S8, state node: ${st8:-none}"
printf "delete /chronos/jobs/%s/p-8\ncreate /chronos/jobs/%s/p-8 '%s'\n" "$S8" "$S8" "$data" | zk_ok ||
  bad "3: delete and create p-8 in ZooKeeper"
jobs patch "$tmp/expect.json" '{"p-8":{"command":"recreated","description":"recreated-by-zk"}}'
n8=$(jobs in_shard "$tmp/expect.json" p-8)
start
check "3: p-8 has the command it was created again with" is "$(field p-8 command)" recreated
check "3: its shard has no usable pack" is "$BAD" 1
check "3: the $n8 jobs of that shard are read node by node" is "$READ" "$n8"
check "3: the others come from the packs" is "$FROM" $(( TOTAL - n8 ))
check "3: the job count is right" count_right
check "3: the listing is the model's" same
stop

# 4. A job node created behind chronos's back (no state node).
data=$(jobs node "$tmp/zk.out" p-1 name=ext-1 command=external)
printf "create /chronos/jobs/%s/ext-1 '%s'\n" "$SX" "$data" | zk_ok || bad "4: create ext-1 in ZooKeeper"
# No state node: it starts as a job just created would (its first instant).
jobs patch "$tmp/expect.json" '{"ext-1":{"_from":"p-1","command":"external"}}'
TOTAL=$((TOTAL + 1))
nx=$(jobs in_shard "$tmp/expect.json" ext-1)
start
check "4: the job created in ZooKeeper exists" is "$(api_answer 1 GET /v1/scheduler/job/ext-1)" 200
check "4: with its command" is "$(field ext-1 command)" external
check "4: its shard has no usable pack and its $nx jobs are read" is "$BAD/$READ" "1/$nx"
check "4: the job count is right" count_right
check "4: the listing is the model's" same
stop

# 5. A pack overwritten with garbage.
printf "set /chronos/packs/%s 'garbage'\n" "$S9" | zk_ok || bad "5: set the pack of $S9 in ZooKeeper"
n9=$(jobs in_shard "$tmp/expect.json" p-9)
start
check "5: the damaged pack is logged as not used" logged "chronos: pack of shard $S9 not used: "
check "5: its shard's $n9 jobs are read node by node" is "$BAD/$READ" "1/$n9"
check "5: p-9 is intact" is "$(field p-9 command)" "echo 9"
check "5: the job count is right" count_right
check "5: the listing is the model's" same
check "5: the damaged pack is packed again" wait_for 10 logged "packs: packed shard $S9: "

# 6. Own writes, then kill -9: nothing of them is packed.
listing "$tmp/before6.json"
sleep 4   # the running jobs run (their states are written) after this listing
c1=$(api 1 DELETE /v1/scheduler/job/p-10)
c2=$(api 1 POST /v1/scheduler/iso8601 '{"name":"p-10","command":"second-life","schedule":"R/2099-01-01T00:00:00Z/P1D","owner":"o10@b.c"}')
c3=$(api 1 POST /v1/scheduler/iso8601 '{"name":"p-11","command":"updated-before-kill","description":"job number 11","schedule":"R/2099-01-01T00:00:00Z/P1D","owner":"o11@b.c"}')
c4=$(api 1 POST /v1/scheduler/iso8601 '{"name":"new-1","command":"late","schedule":"R/2099-01-01T00:00:00Z/P1D"}')
srv_kill9 1
check "6: delete, create, update and create are accepted" is "$c1 $c2 $c3 $c4" "204 204 204 204"
jobs patch "$tmp/expect.json" '{"p-10":{"command":"second-life","description":""},
  "p-11":{"command":"updated-before-kill"},
  "new-1":{"_from":"p-1","command":"late","description":"","owner":""}}'
TOTAL=$((TOTAL + 1))
# What the load may take from the packs: nothing of p-10's shard (deleting a
# job empties its pack); not p-11 (updated) nor the running jobs (their
# states were written since the last pack) when they are elsewhere: stale;
# not new-1 (in no pack).
S10=$(jobs shard p-10)
n10=$(jobs in_shard "$tmp/expect.json" p-10)
want_stale=0
for name in p-11 r-1 r-2; do [ "$(jobs shard "$name")" != "$S10" ] && want_stale=$((want_stale + 1)); done
want_read=$(( n10 + want_stale ))
[ "$(jobs shard new-1)" != "$S10" ] && want_read=$((want_read + 1))
start
check "6: p-10, deleted and created again, has its second life" is "$(field p-10 command)" second-life
check "6: p-10 has no trace of its first life" is "$(field p-10 description)" ""
check "6: p-11, updated, has its new command" is "$(field p-11 command)" updated-before-kill
check "6: new-1, created just before kill -9, exists" is "$(field new-1 command)" late
# The packer wakes each second: on a loaded machine it may pack p-10's shard
# (a delete makes it pack the whole shard) between the DELETE and the kill.
# Then p-10's second life is in no pack and is read node by node, and fewer
# entries may be stale; what the server shows must be the same either way.
if [ "$BAD" = 0 ]; then
  echo "     (the packer packed p-10's shard again before the kill)"
  check "6: p-10's shard was packed again without its first life; p-10 is read" test "$READ" -ge 1
  check "6: no more entries stale than written after the last pack" test "$STALE" -le "$want_stale"
else
  check "6: p-10's shard (only) has no usable pack" is "$BAD" 1
  check "6: p-11's and the running jobs' entries are found stale" is "$STALE" "$want_stale"
  check "6: they, new-1 and p-10's shard are read node by node" is "$READ" "$want_read"
fi
check "6: the running jobs' states are the newest: no run is lost" \
  jobs ran "$tmp/before6.json" "$tmp/now.json" 1
check "6: the job count is right" count_right
check "6: the listing is the model's" same

# 7. The truth node by node: a load through packs, then one without any pack,
# then one through the packs rebuilt, all give the same listing.
stop
start
after_stop 7 "a graceful restart"
check "7: the job count is right" count_right
check "7: the listing is the model's" same
cp "$tmp/now.json" "$tmp/packed.json"
stop
echo "deleteall /chronos/packs" | zk_ok || bad "7: delete the packs in ZooKeeper"
start
check "7: without packs, every job is read node by node" is "$FROM/$READ" "0/$TOTAL"
check "7: the listing read node by node is the model's" same
check "7: and the one loaded through packs" jobs same "$tmp/packed.json" "$tmp/now.json"
cp "$tmp/now.json" "$tmp/truth.json"
stop
start
after_stop 7 "the packs are rebuilt"
check "7: the listing equals the node-by-node one" jobs same "$tmp/truth.json" "$tmp/now.json"
check "7: the job count is right" count_right
stop

# 8. A job made by hand with no state node and a schedule due now runs (its
# first state node is created, not set), and the API deletes it (there is no
# state node to delete).
SR=$(jobs shard r-hand)
data=$(jobs node "$tmp/zk.out" p-1 name=r-hand command=true "schedule=R/$(iso $(( $(now_ms) + 3000 )))/PT2S")
printf "create /chronos/jobs/%s/r-hand '%s'\n" "$SR" "$data" | zk_ok || bad "8: create r-hand in ZooKeeper"
start
ran_once() { [ "$(api_answer 1 GET /v1/scheduler/job/r-hand)" = 200 ] &&
  $PYQ -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["successCount"] >= 1 else 1)' "$tmp/body"; }
check "8: the job made by hand without a state runs" wait_for 20 ran_once
check "8: the server still leads (its state was written)" has_leader
check "8: the API deletes it" is "$(api 1 DELETE /v1/scheduler/job/r-hand)" 204
check "8: it is gone" is "$(api_answer 1 GET /v1/scheduler/job/r-hand)" 400
stop
start
check "8: and stays gone after a restart" is "$(api_answer 1 GET /v1/scheduler/job/r-hand)" 400
stop

check "no sanitizer report in the server's log" \
  bash -c "! grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' '$tmp/s1.log'"
echo "     $(( ($(now_ms) - T0) / 1000 )) s"
finish
