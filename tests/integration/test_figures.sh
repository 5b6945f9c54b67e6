#!/bin/bash
# The cluster's figures on the local resource manager, through the real
# binary: /v1/status shows this host's totals, a running job's resources as
# used while it runs and not after, the task time grows by the run's
# duration; /metrics has the gauges and counters; `chronos status` prints
# the table and --json.  Every process started here is killed on exit.
#
#   CHRONOS=build/chronos bash tests/integration/test_figures.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init figures

# st EXPR: a Python expression over s = GET /v1/status, printed.
st() {
  curl -s "http://127.0.0.1:$PORT/v1/status" |
    /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}
st_true() { [ "$(st "$1" 2>/dev/null)" = True ]; }

data=$tmp/d
if ! start_server "$data" --local_cpus 4 --local_mem 8192 --local_disk 10000; then
  bad "server start" "$(tail -5 "$data.log")"
  finish
fi
host=$(hostname)

check "status: resources total is this host's (4 cpus, 8192 MB, 10000 MB)" \
  st_true "s['resources']['total'] == {'cpus': 4.0, 'mem': 8192.0, 'disk': 10000.0}"
check "status: one agent, this host, with its total and nothing used" \
  st_true "[(a['hostname'], a['total']['cpus'], a['used']['cpus']) for a in s['resources']['agents']] == [('$host', 4.0, 0.0)]"
check "status: no task time yet" st_true "s['taskTimeSeconds'] == 0"

started=$tmp/busy.started
due=$(( $(now_ms) + 1000 ))
# It runs until the checks below have looked (a fixed sleep could end first on
# a loaded machine), and 3 s at least.
go=$tmp/busy.go
api POST /v1/scheduler/iso8601 "{\"name\":\"busy\",\"command\":\"date +%s%3N >> $started; sleep 3; while [ ! -e $go ]; do sleep 0.05; done\",\
\"schedule\":\"R1/$(iso $due)/PT1H\",\"cpus\":1.5,\"mem\":512,\"disk\":100}" >/dev/null
if wait_for 10 has_lines "$started" 1; then
  wait_for 5 st_true "s['runsActive'] == 1"
  check "status: the running job's resources are used (sum and on the agent)" \
    st_true "s['resources']['used'] == {'cpus': 1.5, 'mem': 512.0, 'disk': 100.0} and s['resources']['agents'][0]['used'] == s['resources']['used']"
  check "status: the agent offers what is left (total - used)" \
    st_true "s['resources']['agents'][0]['offered'] == {'cpus': 2.5, 'mem': 7680.0, 'disk': 9900.0}"
  prom=$(curl -s -H "Accept: text/plain;version=0.0.4" "http://127.0.0.1:$PORT/metrics")
  check "metrics: chronos_resources_used{resource=\"cpus\"} 1.5 while it runs" \
    grep -qx 'chronos_resources_used{resource="cpus"} 1.5' <<<"$prom"
  check "metrics: the agent's used cpus" \
    grep -qx "chronos_agent_resources_used{agent=\"$host\",resource=\"cpus\"} 1.5" <<<"$prom"
  table=$("$CHRONOS" status --server "http://127.0.0.1:$PORT")
  check "chronos status: an agents table with this host and its used cpus" \
    grep -qE "^$host +$host +2\.50 +1\.50 +7680 +512 +9900 +100 *$" <<<"$table"
  touch "$go"
  wait_for 10 field_is busy successCount 1
  ended=$(now_ms)
  check "status: nothing used once the run ended" \
    st_true "s['resources']['used'] == {'cpus': 0.0, 'mem': 0.0, 'disk': 0.0}"
  # The run took 3 s and more: its task time is about that (started and
  # ended as the server saw them: no less than the sleep, at most the wait).
  check "status: taskTimeSeconds grew by about the run's 3 s" \
    st_true "3.0 <= s['taskTimeSeconds'] <= $(( (ended - $(head -1 "$started")) / 1000 + 2 ))"
  check "job: taskTimeSeconds equals the total (one job)" \
    st_true "s['taskTimeSeconds'] == $(status_field busy taskTimeSeconds)"
  prom=$(curl -s -H "Accept: text/plain;version=0.0.4" "http://127.0.0.1:$PORT/metrics")
  check "metrics: chronos_job_task_seconds_total{job=\"busy\"} and the total" \
    bash -c 'grep -qE "^chronos_job_task_seconds_total\{job=\"busy\"\} [3-9]" <<<"$1" &&
             grep -qE "^chronos_task_seconds_total [3-9]" <<<"$1"' _ "$prom"
  mj=$(curl -s "http://127.0.0.1:$PORT/metrics?format=json")
  check "metrics json: resources.total.cpus and jobs.taskTime.ms.busy" \
    /usr/bin/python3 -c "import json,sys; m=json.loads(sys.argv[1]);
assert m['gauges']['resources.total.cpus']['value'] == 4.0
assert m['counters']['jobs.taskTime.ms.busy']['count'] >= 3000" "$mj"
else
  bad "the job never started" "$(tail -5 "$data.log")"
fi

out=$("$CHRONOS" status --server "http://127.0.0.1:$PORT")
check "chronos status: leader, health, jobs, task time and the sums table" \
  bash -c 'grep -q "^healthy *yes" <<<"$1" && grep -q "^jobs *1$" <<<"$1" &&
           grep -q "^task time" <<<"$1" &&
           grep -qE "^cpus +4\.00 +0\.00 +[0-9.]+ +4\.00 *$" <<<"$1"' _ "$out"
check "chronos status --json: the server's JSON with resources" \
  bash -c '"$1" status --json --server "$2" |
           /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); assert s[\"resources\"][\"total\"][\"cpus\"] == 4.0"' \
  _ "$CHRONOS" "http://127.0.0.1:$PORT"
stop_server
finish
