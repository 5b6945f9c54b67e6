#!/bin/sh
# A scheduled job and two dependents: extract -> transform -> load.
# Usage: examples/chain.sh [http://127.0.0.1:4400]
set -eu
URL=${1:-http://127.0.0.1:4400}
post() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$URL/v1/scheduler/$1"; }
post iso8601 '{"name":"extract","command":"echo extract","schedule":"R/2030-01-01T02:00:00/P1D","scheduleTimeZone":"Europe/London"}'
post dependency '{"name":"transform","command":"echo transform","parents":["extract"]}'
post dependency '{"name":"load","command":"echo load","parents":["transform"]}'
curl -fsS "$URL/v1/scheduler/jobs"; echo
