#!/bin/bash
# `chronos serve` backs its heap with transparent huge pages (cli/huge_heap.c:
# one re-exec with glibc.malloc.hugetlb=1) where the kernel allows them on
# request: the server's [heap] mapping is marked for huge pages (smaps "hg"),
# its pid is the one started, and no supervisor (nor so its task) inherits
# the tunable: it gets the environment the server was given (GLIBC_TUNABLES
# absent, or the user's own value), never the marker.  CHRONOS_HUGE_PAGES=false leaves the heap as
# it was.  Sanitizer builds skip the re-exec (their allocator ignores it).
#
#   CHRONOS=build/chronos bash tests/integration/test_huge_heap.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init huge_heap

thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo "[never]")
asan=0
nm -C "$CHRONOS" 2>/dev/null | grep -q __asan_init && asan=1

heap_hg() { # the server's [heap] mapping asks for huge pages
  awk '/\[heap\]/{h=1; next} h && /^VmFlags:/{print; exit}' "/proc/$SERVER/smaps" | grep -qw hg
}
no_heap_hg() { ! heap_hg; }
no_marker() { ! grep -q CHRONOS_HUGE_HEAP_PRIOR "$1"; }
# sup_env NAME DATA: starts a job of `sleep 5` on the server of data dir
# DATA and writes its supervisor's environment (as the server spawned it)
# to $tmp/NAME.env.
sup_env() {
  local later sup="" dir=$2; later=$(iso $(( $(now_ms) + 3600000 )))
  api POST /v1/scheduler/iso8601 "{\"name\":\"$1\",\"command\":\"sleep 5\",\"schedule\":\"R1/$later/PT1H\"}" >/dev/null
  api PUT "/v1/scheduler/job/$1" >/dev/null
  find_sup() { sup=$(pgrep -f "run-task.*$dir/" | head -1); [ -n "$sup" ]; }
  wait_for 20 find_sup || return 1
  tr '\0' '\n' <"/proc/$sup/environ" >"$tmp/$1.env"
  [ -s "$tmp/$1.env" ]
}

# ---- 1. The heap, the pid, a task's environment -------------------------------------
if start_server "$tmp/d1"; then
  pid=$SERVER
  if [[ "$thp" == *"[never]"* ]] || [ "$asan" = 1 ]; then
    ok "huge pages not available here ($thp, asan $asan): nothing to check of the heap"
  else
    check "the server's heap is marked for huge pages" heap_hg
  fi
  check "the pid started is the server's (the re-exec keeps it)" \
    grep -q "chronos" "/proc/$pid/cmdline"
  if sup_env plain "$tmp/d1"; then
    if grep -q "^GLIBC_TUNABLES=\|^CHRONOS_HUGE_HEAP_PRIOR=" "$tmp/plain.env"; then
      bad "a supervisor inherits nothing of the re-exec" "$(grep 'GLIBC\|HUGE' "$tmp/plain.env")"
    else
      ok "a supervisor inherits nothing of the re-exec"
    fi
  else
    bad "the job's supervisor runs" "$(tail -3 "$tmp/d1.log")"
  fi
  stop_server
else
  bad "server starts" "$(tail -5 "$tmp/d1.log")"
fi

# ---- 2. The user's own GLIBC_TUNABLES reaches tasks as given --------------------------
if start_server "$tmp/d2" GLIBC_TUNABLES=glibc.malloc.tcache_count=5; then
  if [[ "$thp" != *"[never]"* ]] && [ "$asan" = 0 ]; then
    check "the user's GLIBC_TUNABLES kept, huge pages added: the heap is marked" heap_hg
  fi
  if sup_env own "$tmp/d2"; then
    if grep -qx "GLIBC_TUNABLES=glibc.malloc.tcache_count=5" "$tmp/own.env"; then
      ok "a supervisor gets the user's GLIBC_TUNABLES, unchanged"
    else
      bad "a supervisor gets the user's GLIBC_TUNABLES, unchanged" "$(grep 'GLIBC\|HUGE' "$tmp/own.env")"
    fi
    check "... and no marker" no_marker "$tmp/own.env"
  else
    bad "the job's supervisor runs" "$(tail -3 "$tmp/d2.log")"
  fi
  stop_server
else
  bad "server starts with GLIBC_TUNABLES" "$(tail -5 "$tmp/d2.log")"
fi

# ---- 3. CHRONOS_HUGE_PAGES=false -----------------------------------------------------
if start_server "$tmp/d3" CHRONOS_HUGE_PAGES=false; then
  check "CHRONOS_HUGE_PAGES=false: the heap is left as it was" no_heap_hg
  stop_server
else
  bad "server starts with CHRONOS_HUGE_PAGES=false" "$(tail -5 "$tmp/d3.log")"
fi
finish
