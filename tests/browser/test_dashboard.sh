#!/bin/bash
# The web dashboard in a real browser (issue 15): Debian's chromium,
# headless, driven by playwright-core (api/dashboard/package-lock.json)
# against one `chronos serve` on a loopback port with its own data
# directory, stopped by pid on exit.  The checks are in dashboard.mjs; it
# saves a screenshot of every page to build/screenshots/.  Ends with a line
# "N passed, N failed".
#
#   CHRONOS=build/chronos bash tests/browser/test_dashboard.sh
set -u
cd "$(dirname "$0")/../.."
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. tests/lib.sh
lib_init browser
if [ ! -x /usr/bin/chromium ] || [ ! -d api/dashboard/node_modules/playwright-core ]; then
  bad "chromium and playwright-core are installed" "run make deps (apt chromium, npm ci in api/dashboard)"
  finish
fi
start_server "$tmp/data" || { bad "server starts" "$(tail -5 "$tmp/data.log")"; finish; }
ok "server starts on port $PORT"
# The server's own checks of the page's files (the browser's cache hides them).
hdr=$(curl -s -D- -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/jobs/x")
check "a deep link answers the page, gzipped, revalidated (no-cache) with an ETag" \
  bash -c 'grep -qi "^Content-Encoding: gzip" <<<"$1" && grep -qi "^Cache-Control: no-cache" <<<"$1" && grep -qi "^ETag: \"" <<<"$1"' _ "$hdr"
asset=$(curl -s "http://127.0.0.1:$PORT/" | grep -o '/assets/app-[A-Za-z0-9]*\.js' | head -1)
etag=$(curl -s -D- -o /dev/null "http://127.0.0.1:$PORT$asset" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
check "a hashed asset is immutable" bash -c 'curl -s -D- -o /dev/null "$1" | grep -qi "^Cache-Control: .*immutable"' _ "http://127.0.0.1:$PORT$asset"
check "an asset's ETag answers 304" test "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "http://127.0.0.1:$PORT$asset")" = 304
SHOTS=${SHOTS:-build/screenshots}
mkdir -p "$SHOTS"
node tests/browser/dashboard.mjs "http://127.0.0.1:$PORT" "$SHOTS" >"$tmp/node.out" 2>&1
rc=$?
grep -E '^(ok|FAIL) ' "$tmp/node.out" | while read -r line; do echo "$line"; done
np=$(grep -c '^ok ' "$tmp/node.out"); nf=$(grep -c '^FAIL ' "$tmp/node.out")
passed=$((passed + np)); failed=$((failed + nf))
if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then bad "dashboard.mjs ran to its end" "$(tail -15 "$tmp/node.out")"; fi
grep -v -E '^(ok|FAIL) ' "$tmp/node.out" | tail -20
stop_server
finish
