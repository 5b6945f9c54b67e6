#!/bin/sh
# Checks conventions that a compiler does not: no banned string/time functions
# and no raw allocation outside the files that own them (../shared/conventions.md).
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
  echo "lint: banned functions (see conventions.md):"; echo "$banned"; status=1
fi
raw=$(echo "$files" | grep -v '^common/alloc\.c$' | xargs grep -n -E '(^|[^_a-z])(malloc|calloc|realloc|free|strdup|strndup)\s*\(' 2>/dev/null | grep -v -E 'chr_(malloc|calloc|realloc|free|strndup)|json_|lint: allow')
if [ -n "$raw" ]; then
  echo "lint: raw allocation outside common/alloc.c:"; echo "$raw"; status=1
fi
# The sans-IO parts take time as an argument; only adapters read clocks.
timecalls=$(echo "$files" | grep -E '^(scheduler|iso8601)/' | xargs -r grep -n -E '(^|[^_A-Za-z.>])(time|clock_gettime|gettimeofday)\(' 2>/dev/null | grep -v -E '^[^:]+:[0-9]+:\s*(\*|/\*|//)' | grep -v 'lint: allow')
if [ -n "$timecalls" ]; then
  echo "lint: clock reads in scheduler/ or iso8601/ (they take time as an argument):"; echo "$timecalls"; status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
