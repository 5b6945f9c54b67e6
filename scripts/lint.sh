#!/bin/sh
# Checks conventions that a compiler does not: no banned string/time functions
# and no raw allocation outside the files that own them (../shared/conventions.md).
set -u
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null | grep -v -E '^(tests|bench)/' || true)
[ -n "$files" ] || files=$(find common iso8601 cli -name '*.[ch]')
banned=$(echo "$files" | xargs grep -n -E '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gmtime|localtime|asctime|ctime|rand|srand|gets)\s*\(' 2>/dev/null | grep -v 'lint: allow')
if [ -n "$banned" ]; then
  echo "lint: banned functions (see conventions.md):"; echo "$banned"; status=1
fi
raw=$(echo "$files" | grep -v '^common/alloc\.c$' | xargs grep -n -E '(^|[^_a-z])(malloc|calloc|realloc|free|strdup|strndup)\s*\(' 2>/dev/null | grep -v -E 'chr_(malloc|calloc|realloc|free|strndup)|json_|lint: allow')
if [ -n "$raw" ]; then
  echo "lint: raw allocation outside common/alloc.c:"; echo "$raw"; status=1
fi
timecalls=$(echo "$files" | grep -v -E '^(cli|common/clock)' | xargs grep -n -E '\b(time|clock_gettime|gettimeofday)\s*\(' 2>/dev/null | grep -v 'lint: allow')
if [ -n "$timecalls" ]; then
  echo "lint: clock reads outside cli/ and common/clock (the core takes time as an argument):"; echo "$timecalls"; status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
