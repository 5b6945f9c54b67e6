# lib.sh - what the bench/*/run.sh scripts share (sourced; they run from the
# repository's root).
#
#   bench_tmpdir NAME   a temp dir TMPD (/tmp/chronos-bench-NAME.XXXXXX) and
#                       PIDFILE (one pid a line: the processes the script
#                       starts).  At exit, and on INT or TERM, every pid in
#                       PIDFILE is killed, whatever still runs from TMPD (task
#                       supervisors and their tasks, ZooKeeper's JVMs) is
#                       killed, a private ZooKeeper under TMPD/zk
#                       (tests/zk/zk.sh) is stopped, and TMPD is removed.
#   bench_host [WHAT..] the "host:" line the figures are printed under: cpus,
#                       model, kernel, then each WHAT (e.g. a tool's version).

bench_cleanup() {
  local pid
  while read -r pid; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done <"$PIDFILE"
  pkill -KILL -f "$TMPD" 2>/dev/null || true
  [ -d "$TMPD/zk" ] && tests/zk/zk.sh stop "$TMPD/zk" 2>/dev/null
  rm -rf "$TMPD"
}

bench_tmpdir() {
  TMPD=$(mktemp -d "/tmp/chronos-bench-$1.XXXXXX")
  PIDFILE=$TMPD/pids
  : >"$PIDFILE"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_host() {
  local line w
  line="host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
  for w in "$@"; do line="$line; $w"; done
  echo "$line"
}
