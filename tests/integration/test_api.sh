#!/bin/bash
# HTTP API integration tests of `chronos serve` (the contract of issue 5):
# a table of malformed requests, then every endpoint's success and error
# paths, Basic auth and TLS.  Ends with a line "N passed, N failed".
#
#   CHRONOS=build/chronos bash tests/integration/test_api.sh
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
export CHRONOS
exec /usr/bin/python3 "$(dirname "$0")/api_test.py" "$@"
