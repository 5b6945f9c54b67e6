#!/bin/bash
# Store damage through the real binary: a data directory made by `chronos
# serve` (jobs posted and deleted, a snapshot, a log after it) is copied, and
# each copy damaged in one place: the log's first header, a middle record,
# the last record, what follows it, the snapshot's header, body and checksum.
#   - a torn tail (the last record cut part-way, or zeros after it) starts
#     with every job but the torn request's, and logs the cut with the file
#     and the offset;
#   - any other damage refuses to start, naming the file and the offset,
#     with a non-zero status, and leaves the data directory byte for byte as
#     it was (LOCK aside: it names the last process that opened the store);
#   - `chronos store check` exits 1 and names the damage;
#   - `chronos store recover` keeps the records before it, sets the damaged
#     file aside (bytes intact) and says what was lost; the server then
#     starts with exactly the jobs of the kept records (no deleted job back).
# Which jobs the kept records hold comes from this test's own requests: one
# log record per acknowledged request (checked), found by reading the log's
# framing here (u32 payload length at byte 8 of each 24-byte header).
#
#   CHRONOS=build/chronos bash tests/integration/test_store_damage.sh
set -u
export LC_ALL=C
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init damage

post() { api POST /v1/scheduler/iso8601 \
  "{\"name\":\"$1\",\"command\":\"true\",\"schedule\":\"R/2030-01-01T00:00:00Z/PT1H\"}"; }
jobs_now() { # the job names the server has, sorted, one line
  curl -s "http://127.0.0.1:$PORT/v1/scheduler/jobs" |
    /usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(j["name"] for j in json.load(sys.stdin))))'
}

# The requests, as the test made them: "+name" posted, "-name" deleted.
apply() { # apply "SET" ACTIONS...: the set after the actions, sorted, one line
  local set=" $1 "; shift
  for a in "$@"; do
    case $a in
      +*) set="$set ${a#+} " ;;
      -*) set=$(echo "$set" | tr ' ' '\n' | grep -vx "${a#-}" | tr '\n' ' ') ;;
    esac
  done
  echo $set | tr ' ' '\n' | grep -v '^$' | sort | tr '\n' ' ' | sed 's/ $//'
}

offsets() { # offsets FILE: the records' offsets, then the end of the last
  /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], 'rb').read()
o, out = 0, []
while o + 24 <= len(b):
    out.append(o)
    o += 24 + struct.unpack_from('<I', b, o + 8)[0]
print(' '.join(map(str, out + [o])))
EOF
}
flip() { /usr/bin/python3 -c "
import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read()); b[at] ^= 0x5a; open(p, 'wb').write(b)" "$1" "$2"; }
digest() { # every file of a data dir but the store's LOCK, with its hash
  (cd "$1" && find . -type f ! -path ./store/LOCK -print0 | sort -z | xargs -0 sha256sum)
}

# ---- The data directory: jobs, deletions, a snapshot, a log after it -----------
base=$tmp/base
phase1=(+j1 +j2 +j3 +j4 +j5 +j6 +j7 +j8 -j2 -j5)
phase2=(+j9 -j3 +j10 +j11 -j10 -j7 +tail)
made=1
if start_server "$base"; then
  for a in "${phase1[@]}"; do
    case $a in +*) c=$(post "${a#+}") ;; -*) c=$(api DELETE "/v1/scheduler/job/${a#-}") ;; esac
    [ "$c" = 204 ] || { made=0; bad "request $a" "$c"; }
  done
  stop_server
else
  made=0; bad "the first server did not start" "$(tail -3 "$base.log")"
fi
[ $made = 1 ] && "$CHRONOS" store compact --data_dir "$base" >"$tmp/compact.out" 2>&1 ||
  { made=0; bad "store compact" "$(cat "$tmp/compact.out")"; }
if [ $made = 1 ] && start_server "$base"; then
  for a in "${phase2[@]}"; do
    case $a in +*) c=$(post "${a#+}") ;; -*) c=$(api DELETE "/v1/scheduler/job/${a#-}") ;; esac
    [ "$c" = 204 ] || { made=0; bad "request $a" "$c"; }
  done
  stop_server
else
  made=0; bad "the server after compact did not start"
fi
snap_jobs=$(apply "" "${phase1[@]}")
wal=$(cd "$base/store" 2>/dev/null && ls wal.* 2>/dev/null | head -1)
read -r -a offs <<<"$(offsets "$base/store/$wal" 2>/dev/null)"
if [ $made = 1 ] && [ -f "$base/store/snap" ] && [ "$(ls "$base/store" | grep -c '^wal\.')" = 1 ] &&
   [ "${#offs[@]}" = $(( ${#phase2[@]} + 1 )) ] && [ "${offs[-1]}" = "$(stat -c %s "$base/store/$wal")" ]; then
  ok "a data dir with a snapshot and a log of ${#phase2[@]} records, one per request"
else
  bad "the data dir is not as the test needs it" "$(ls "$base/store" 2>&1 | tr '\n' ' ') offsets ${offs[*]:-}"
  echo "$passed passed, $((failed + 1)) failed"; exit 1
fi
if "$CHRONOS" store check --data_dir "$base" >"$tmp/check.out" 2>&1; then
  ok "store check: the undamaged store is healthy (exit 0)"
else
  bad "store check of the undamaged store" "$(cat "$tmp/check.out")"
fi

# ---- A second server on the same data dir names the first one's pid ---------------
d=$tmp/locked; cp -a "$base" "$d"
if start_server "$d"; then
  first=$SERVER
  timeout 20 "$CHRONOS" serve --http_port "$(free_port)" --data_dir "$d" >"$tmp/second.log" 2>&1
  rc=$?
  [ $rc -ne 0 ] && grep -q "in use by process $first" "$tmp/second.log" && grep -q "store/LOCK" "$tmp/second.log" &&
    ok "a second server refuses, naming the first one's pid and the LOCK file" ||
    bad "second server" "rc $rc: $(cat "$tmp/second.log")"
  "$CHRONOS" store recover --data_dir "$d" >"$tmp/rec.out" 2>&1
  rc=$?
  [ $rc -ne 0 ] && grep -q "in use by process $first" "$tmp/rec.out" &&
    ok "store recover refuses while a server holds the store" || bad "recover while held" "rc $rc: $(cat "$tmp/rec.out")"
  stop_server
fi

# ---- Torn tails: the server starts ----------------------------------------------------
# torn_case NAME MAKE_DAMAGE WANT_JOBS WANT_OFFSET
torn_case() {
  local name=$1 damage=$2 want=$3 at=$4
  d=$tmp/$name; cp -a "$base" "$d"
  $damage "$d/store/$wal"
  if ! "$CHRONOS" store check --data_dir "$d" >"$d.check" 2>&1 || ! grep -q torn "$d.check"; then
    bad "$name: store check" "$(cat "$d.check")"
  fi
  if start_server "$d"; then
    local got; got=$(jobs_now)
    stop_server
    [ "$got" = "$want" ] && ok "$name: starts with the acknowledged jobs ($got)" ||
      bad "$name: jobs" "got '$got', want '$want'"
    grep -q "$wal: cut a torn tail of [0-9]* bytes at offset $at " "$d.log" &&
      ok "$name: the cut is logged with the file and offset $at" ||
      bad "$name: log of the cut" "$(grep -i store "$d.log")"
  else
    bad "$name: the server did not start" "$(tail -3 "$d.log")"
  fi
}
cut_last() { truncate -s $(( offs[${#phase2[@]} - 1] + 40 )) "$1"; }
add_zeros() { head -c 4096 /dev/zero >>"$1"; }
all_but_last=$(apply "$snap_jobs" "${phase2[@]:0:${#phase2[@]}-1}")
torn_case torn-last-record cut_last "$all_but_last" "${offs[${#phase2[@]} - 1]}"
torn_case zeros-after-last add_zeros "$(apply "$snap_jobs" "${phase2[@]}")" "${offs[-1]}"

# ---- Damage: refused, unchanged, checked, recovered ----------------------------------------
# damage_case NAME FILE MAKE_DAMAGE WANT_OFFSET KEPT_JOBS (the offset: digits, or a
# pattern where the test cannot know it)
damage_case() {
  local name=$1 file=$2 damage=$3 at=$4 want=$5
  d=$tmp/$name; cp -a "$base" "$d"
  $damage "$d/store/$file"
  local before; before=$(digest "$d")
  local damaged_sum; damaged_sum=$(sha256sum <"$d/store/$file")
  "$CHRONOS" serve --http_port "$(free_port)" --data_dir "$d" >"$d.log" 2>&1 &
  SERVER=$!
  if ! wait_for 20 eval '! kill -0 $SERVER 2>/dev/null'; then
    stop_server; bad "$name: the server started on a damaged store"; return
  fi
  wait "$SERVER"; local rc=$?; SERVER=""
  if [ $rc -ne 0 ] && grep -q "store/$file: at offset $at," "$d.log" &&
     grep -q "store check --data_dir $d" "$d.log"; then
    ok "$name: refused (exit $rc), naming $file and offset $at, pointing at check and recover"
  else
    bad "$name: refusal" "rc $rc: $(cat "$d.log")"
  fi
  [ "$(digest "$d")" = "$before" ] && ok "$name: the data dir is unchanged" ||
    bad "$name: the refused start changed the data dir"
  "$CHRONOS" store check --data_dir "$d" >"$d.check" 2>&1; rc=$?
  [ $rc = 1 ] && grep -q "$file .*DAMAGED" "$d.check" && grep -q "at offset $at," "$d.check" &&
    ok "$name: store check exits 1, naming $file at offset $at" || bad "$name: check" "rc $rc: $(cat "$d.check")"
  "$CHRONOS" store recover --data_dir "$d" >"$d.recover" 2>&1; rc=$?
  local aside; aside=$(cd "$d/store" && ls | grep "^$file\.damaged-" | head -1)
  if [ $rc = 0 ] && [ -n "$aside" ] && grep -q "set aside: $file -> $aside" "$d.recover" &&
     grep -q "lost: " "$d.recover" && [ "$(sha256sum <"$d/store/$aside")" = "$damaged_sum" ]; then
    ok "$name: recover sets $file aside intact as $aside and reports what was lost"
  else
    bad "$name: recover" "rc $rc: $(cat "$d.recover"; ls "$d/store")"
  fi
  if start_server "$d"; then
    local got; got=$(jobs_now)
    stop_server
    [ "$got" = "$want" ] && ok "$name: after recover, exactly the jobs of the kept records (${got:-none})" ||
      bad "$name: jobs after recover" "got '$got', want '$want'"
  else
    bad "$name: no start after recover" "$(tail -3 "$d.log")"
  fi
}
n=${#phase2[@]}
header() { flip "$1" 0; }
middle() { flip "$1" $(( offs[2] + 30 )); }
last_record() { flip "$1" $(( offs[n - 1] + 30 )); }
junk_after() { head -c 64 /dev/zero | tr '\0' '\253' >>"$1"; }
snap_header() { flip "$1" 3; }
snap_body() { flip "$1" $(( $(stat -c %s "$1") / 2 )); }
snap_trailer() { flip "$1" $(( $(stat -c %s "$1") - 1 )); }
damage_case wal-header "$wal" header 0 "$snap_jobs"
damage_case wal-middle-record "$wal" middle "${offs[2]}" "$(apply "$snap_jobs" "${phase2[@]:0:2}")"
damage_case wal-last-record "$wal" last_record "${offs[n - 1]}" "$all_but_last"
damage_case wal-junk-after-last "$wal" junk_after "${offs[-1]}" "$(apply "$snap_jobs" "${phase2[@]}")"
damage_case snap-header snap snap_header 0 ""
snap_len=$(stat -c %s "$base/store/snap")
damage_case snap-trailer snap snap_trailer $(( snap_len - 4 )) ""
# The body: where the damage shows depends on which byte of a node it hit
# (its framing, or only the checksum), so any offset will do.
damage_case snap-body snap snap_body '[0-9][0-9]*' ""

finish
