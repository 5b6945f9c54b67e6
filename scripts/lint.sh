#!/bin/sh
# Checks conventions that a compiler does not: no banned string/time functions
# and no raw allocation outside the files that own them, no I/O in the core,
# no include against the design's arrows (docs/design.md).
set -u
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null | grep -v -E '^(tests|bench)/' || true)
[ -n "$files" ] || files=$(find common iso8601 cli -name '*.[ch]')
# Banned calls are banned in tests and benchmarks too; the allocation rule
# below is for the product's sources only.
all_c=$(git ls-files '*.c' '*.h' 2>/dev/null || true)
[ -n "$all_c" ] || all_c=$files
banned=$(echo "$all_c" | xargs grep -n -E '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gmtime|localtime|asctime|ctime|rand|srand|gets)\s*\(' 2>/dev/null | grep -v 'lint: allow')
if [ -n "$banned" ]; then
  echo "lint: banned functions (see docs/design.md, Conventions):"; echo "$banned"; status=1
fi
raw=$(echo "$files" | grep -v '^common/alloc\.c$' | xargs grep -n -E '(^|[^_a-z])(malloc|calloc|realloc|free|strdup|strndup)\s*\(' 2>/dev/null | grep -v -E 'chr_(malloc|calloc|realloc|free|strndup)|json_|lint: allow')
if [ -n "$raw" ]; then
  echo "lint: raw allocation outside common/alloc.c:"; echo "$raw"; status=1
fi
# The sans-IO parts take time as an argument; only adapters read clocks
# (and not even through common/clock.h).
timecalls=$(echo "$files" | grep -E '^(scheduler|iso8601)/' | xargs -r grep -n -E '(^|[^_A-Za-z.>])(time|clock_gettime|gettimeofday|timespec_get|chr_clock_[a-z_]+)\(|#include "common/clock\.h"' 2>/dev/null | grep -v -E '^[^:]+:[0-9]+:\s*(\*|/\*|//)' | grep -v 'lint: allow')
if [ -n "$timecalls" ]; then
  echo "lint: clock reads in scheduler/ or iso8601/ (they take time as an argument):"; echo "$timecalls"; status=1
fi
# One clock: the adapters read it through common/clock.h, whose clock.c is
# the one product file that calls the kernel (tests and bench/ keep theirs).
clockreads=$(echo "$files" | grep -v '^common/clock\.c$' | xargs -r grep -n -E '(^|[^_A-Za-z.>])(time|clock_gettime|gettimeofday|timespec_get)\(' 2>/dev/null | grep -v -E '^[^:]+:[0-9]+:\s*(\*|/\*|//)' | grep -v 'lint: allow')
if [ -n "$clockreads" ]; then
  echo "lint: clock reads outside common/clock.c (use common/clock.h):"; echo "$clockreads"; status=1
fi
# The core and the time engine do no I/O: no file, socket, process or stdio
# call, no such header.  The one exception is iso8601/tzdb.c, which reads the
# tz database's files (the scheduler gets zones already loaded).
io=$(echo "$files" | grep -E '^(scheduler|iso8601)/' | grep -v '^iso8601/tzdb\.c$' |
  xargs -r grep -n -E '(^|[^_A-Za-z.>])(open|openat|read|write|pread|pwrite|close|fopen|fread|fwrite|fclose|fprintf|printf|puts|fputs|perror|stat|fstat|lstat|opendir|readdir|mmap|socket|connect|fork|exec[lv]p?e?|system|popen|fsync|fdatasync|getenv|sleep|usleep|nanosleep)\s*\(|#include <(unistd|fcntl|dirent|sys/stat|sys/socket|sys/mman)\.h>' 2>/dev/null |
  grep -v -E '^[^:]+:[0-9]+:\s*(\*|/\*|//)' | grep -v 'lint: allow')
if [ -n "$io" ]; then
  echo "lint: I/O in scheduler/ or iso8601/ (only iso8601/tzdb.c reads files):"; echo "$io"; status=1
fi
# The arrows of docs/design.md: which folder's files may include which
# folders' headers (tests, benchmarks and cli/ may include anything).
arrows=$(echo "$files" | grep -v -E '^cli/' | xargs -r grep -n -E '^#include "[a-z0-9_/]+\.h"' 2>/dev/null |
  awk -F: '
    BEGIN {
      allow["common"] = "common"
      allow["iso8601"] = "common iso8601"
      allow["scheduler"] = "common iso8601 scheduler"
      allow["api"] = "common iso8601 scheduler api"
      allow["zkstore"] = "common zkstore"
      allow["offers"] = "common iso8601 scheduler offers"
      allow["offers/mesos"] = "common iso8601 scheduler offers offers/mesos"
      allow["server"] = "common iso8601 scheduler api zkstore offers offers/mesos server"
    }
    {
      from = $1; sub(/\/[^\/]*$/, "", from)
      inc = $0; sub(/.*#include "/, "", inc); sub(/".*/, "", inc)
      to = inc; sub(/\/[^\/]*$/, "", to)
      if (index(inc, "/") == 0) to = from
      if (!(from in allow)) next
      n = split(allow[from], ok, " "); found = 0
      for (i = 1; i <= n; i++) if (ok[i] == to) found = 1
      if (!found) print $1 ":" $2 ": " from "/ may not include " inc
    }')
if [ -n "$arrows" ]; then
  echo "lint: includes against the design's arrows (docs/design.md):"; echo "$arrows"; status=1
fi
# Nothing refers to documents outside the repository (a clone has no
# shared/ beside it), and every relative link of README.md and docs/*.md
# (`](x.md)`, `](docs/...)`, a #fragment aside) names a file that exists.
outside=$(git ls-files -z 2>/dev/null | xargs -0 -r grep -I -n -E '\.\./shared|(^|[^A-Za-z0-9_.-])shared/[A-Za-z0-9_-]+\.md' 2>/dev/null)
if [ -n "$outside" ]; then
  echo "lint: references to documents outside the repository:"; echo "$outside"; status=1
fi
links=$(for md in README.md docs/*.md; do
  [ -f "$md" ] || continue
  grep -o -E '\]\([^)[:space:]]+\)' "$md" | sed -e 's/^](//' -e 's/)$//' -e 's/#.*//' |
    grep -E '\.md$|^docs/' | grep -v -E '^[a-z]+:' |
    while read -r target; do
      [ -e "$(dirname "$md")/$target" ] || echo "$md: ($target) names no file"
    done
done)
if [ -n "$links" ]; then
  echo "lint: links to files that do not exist:"; echo "$links"; status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
