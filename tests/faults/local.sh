#!/bin/bash
# local.sh - fault trials against one `chronos serve` on the local store,
# with its data directory (store and run directories) on a small tmpfs this
# script mounts.  Each trial creates jobs due every second, applies a random
# schedule of faults (the disk filled for a while then freed, a kill -9, a
# kill -9 while the disk is full, a graceful restart), lets the server
# settle, and counts from the tasks' own output files (kept on another disk)
# and the jobs' ledgers: instants launched twice (duplicate), instants
# neither launched nor ledgered (missed), and acknowledged jobs that
# vanished (lost).  Needs root for the mount; says so and skips otherwise.
#
#   TRIALS=200 CHRONOS=build/test/chronos bash tests/faults/local.sh
#
# Prints one line per trial, the totals and "N passed, N failed".  SEED makes
# the fault schedule repeatable.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHRONOS=$(realpath "${CHRONOS:-$REPO/build/test/chronos}")
TRIALS=${TRIALS:-3}
SEED=${SEED:-$$}
. "$REPO/tests/lib.sh"
. "$REPO/tests/faults/trials.sh"
RANDOM=$SEED
lib_init faults-local
MNT=$tmp/mnt
mkdir -p "$tmp/out" "$tmp/ledger"
echo "local fault trials: $TRIALS, seed $SEED, binary $CHRONOS"
if ! why=$(lib_mount_tmpfs "$MNT" 8m); then
  echo "skip: no small filesystem for the data directory ($why)"
  echo "1 passed, 0 failed"
  exit 0
fi
DATA=$MNT/data
SERVER_LOG=$tmp/server.log   # not on the disk that fills
FLAGS=(--local_disk 1000)
serve() { start_server "$DATA" "${FLAGS[@]}"; }
healthy() { [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ]; }
fill() { dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null; }
unfill() { rm -f "$MNT/filler"; }
tick() { # tick NAME START_MS: a job due every second; its task writes its instant
  echo "{\"name\":\"$1\",\"command\":\"echo \$CHRONOS_JOB_RUN_TIME >> $tmp/out/$1\",\"schedule\":\"R/$(iso "$2")/PT1S\",\"retries\":0,\"cpus\":0.01,\"mem\":1,\"disk\":1}"
}
# Writes that fill what is left of the log's last page: the store's own
# write then fails too, not just the run directories.
churn() { for i in $(seq 1 30); do api POST /v1/scheduler/iso8601 "{\"name\":\"churn\",\"command\":\"true\",\"disk\":1,\"description\":\"$i $(head -c 2000 /dev/zero | tr '\0' x)\",\"schedule\":\"R/2030-01-01T00:00:00Z/PT1H\"}" >/dev/null; done; }

fault() {
  local kind=$(( RANDOM % 8 ))
  if [ "$kind" -le 3 ]; then
    fill; churn; sleep "$(( 1 + RANDOM % 3 )).$(( RANDOM % 10 ))"; unfill
    FAULT="disk-full"
  elif [ "$kind" -le 4 ]; then
    fill; churn; kill9_server; unfill; serve >/dev/null
    FAULT="disk-full+kill9"
  elif [ "$kind" -le 6 ]; then
    sleep 0.$(( RANDOM % 10 )); kill9_server; serve >/dev/null
    FAULT="kill9"
  else
    stop_server; serve >/dev/null
    FAULT="restart"
  fi
}

serve || { echo "the server did not start: $(tail -5 "$DATA.log")"; echo "0 passed, 1 failed"; exit 1; }
ready() { wait_for 60 healthy; }
EXTRA_JOBS=churn
one_server_trials
trial_totals
echo "$passed passed, $failed failed"
