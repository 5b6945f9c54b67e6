#!/bin/bash
# Security tests of `chronos serve` through the real binary (issue 12): who
# a task runs as, browsers kept out, a kill that reaches every process,
# resources enforced, secrets out of argv, arguments as argv, HTTP hygiene.
# Ends with a line "N passed, N failed".
#
#   CHRONOS=build/chronos bash tests/integration/test_security.sh
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
export CHRONOS
exec /usr/bin/python3 "$(dirname "$0")/security_test.py" "$@"
