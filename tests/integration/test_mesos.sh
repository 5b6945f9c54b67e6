#!/bin/bash
# chronos on a Mesos cluster, through the real binary, against the strict
# Mesos master double (tests/mesos/double.py: every call validated against
# the Debian protos, tasks run as local processes on fake agents):
#   1. it subscribes as Chronos did (user, name, checkpoint, a week's
#      failover_timeout, webui_url) and stores the framework id;
#   2. the seed's example, created with the CLI exactly as the README says,
#      runs on an agent and `chronos logs example` prints its output, read
#      through the agent's files API;
#   3. a job that fits no agent waits, saying why, and does not hold back a
#      small one (no head-of-line blocking); a constraint picks the agent;
#   4. the server killed with a run in flight: the next one resubscribes
#      with the same framework id, reconciles, and the run ends once - the
#      master saw one task for that instant;
#   5. the master restarts (forgets the stream, keeps the tasks): chronos
#      resubscribes and goes on;
#   6. every update with a uuid was acknowledged exactly once, and the
#      double recorded no protocol violation.
# Every process started here is stopped by pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_mesos.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/../lib.sh"
lib_init mesos
PY=/usr/bin/python3

DOUBLE=""
trap 'kill -9 $DOUBLE 2>/dev/null; lib_cleanup' EXIT

# The double: two agents, one on rack r1, one on r2; fast heartbeats and
# offer rounds so that the test is quick.
cat >"$tmp/agents.json" <<'EOF'
[{"id": "agent-r1", "hostname": "127.0.0.1", "cpus": 2, "mem": 2048, "disk": 4096,
  "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": "r1"}}]},
 {"id": "agent-r2", "hostname": "127.0.0.1", "cpus": 2, "mem": 2048, "disk": 4096,
  "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": "r2"}}]}]
EOF
start_double() {
  $PY "$REPO/tests/mesos/double.py" --work-dir "$tmp/double" --agents-json "@$tmp/agents.json" \
    --heartbeat 1 --alloc-interval 0.3 --update-retry 2 ${DPORT:+--port $DPORT} \
    >"$tmp/double.out" 2>>"$tmp/double.log" &
  DOUBLE=$!
  wait_for 20 test -s "$tmp/double.out" || return 1
  DPORT=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' \
    "$tmp/double.out")
}
# dget PATH: the double's control API (JSON on stdout).
dget() { curl -s -m 5 "http://127.0.0.1:$DPORT/double/$1"; }
# jq-like: dq PATH PYTHON-EXPR (v is the JSON).
dq() { dget "$1" | $PY -c "import json,sys; v=json.load(sys.stdin); print($2)"; }

cli() { "$CHRONOS" "$@" --server "http://127.0.0.1:$PORT"; }
# runs_of JOB: the double's task ids of JOB's runs, one per line.
tasks_of() { dq tasks "'\\n'.join(t['task_id'] for t in v if t['task_id'].split(':')[3] == '$1')"; }
succeeded() { [ "$(field "$1" successCount)" -ge "${2:-1}" ] 2>/dev/null; }

if ! start_double; then
  bad "the master double did not start" "$(tail -5 "$tmp/double.log")"
  finish
fi
data=$tmp/d1
if ! start_server "$data" --master "127.0.0.1:$DPORT"; then
  bad "server did not start" "$(tail -5 "$data.log")"
  finish
fi

# ---- 1. Subscribed as Chronos was -------------------------------------------
wait_for 20 eval '[ "$(dq state "v[\"subscribed\"]")" = True ]' &&
  ok "subscribed to the master" || bad "not subscribed" "$(tail -5 "$data.log")"
fw=$(dq state 'v["framework_info"]')
echo "$fw" | grep -q "'checkpoint': True" && echo "$fw" | grep -q "'failover_timeout': 604800" &&
  echo "$fw" | grep -q "'name': 'chronos'" && echo "$fw" | grep -q "'webui_url': 'http://" &&
  ok "FrameworkInfo: name chronos, checkpoint, a week's failover_timeout, webui_url" ||
  bad "FrameworkInfo" "$fw"
fwid=$(dq state 'v["framework_id"]')
grep -rq "$fwid" "$data/store" 2>/dev/null && ok "the framework id is in the store" ||
  bad "framework id not stored" "$fwid"

# ---- 2. The seed's example ----------------------------------------------------
out=$(cli create example --command=/bin/echo "Hello, World!" --executor=shell \
  --mesos-resources=cpus=1,mem=128 2>&1)
[ $? = 0 ] && ok "chronos create example (the README's line)" || bad "create example" "$out"
wait_for 30 succeeded example && ok "example ran on Mesos and succeeded" ||
  bad "example did not succeed" "$(tail -5 "$data.log")"
task=$(tasks_of example | head -1)
[ -n "$task" ] && ok "the master ran task $task" || bad "no task of example at the master"
res=$(dq tasks "[t['resources'] for t in v if t['task_id'] == '$task']")
echo "$res" | grep -q "cpus" && echo "$res" | grep -q "128" &&
  ok "its resources are the job's (cpus 1, mem 128)" || bad "resources" "$res"
logs=$(cli logs example 2>&1)
[ "$logs" = "Hello, World!" ] && ok "chronos logs example prints Hello, World! (from the agent)" ||
  bad "logs" "$logs"

# ---- 3. No head-of-line blocking; constraints ----------------------------------
code=$(api POST /v1/scheduler/iso8601 \
  '{"name":"huge","command":"true","schedule":"R1//PT1H","cpus":64,"mem":64}')
[ "$code" = 204 ] && ok "a job bigger than any agent is accepted (an agent may join)" ||
  bad "huge" "$code $(cat "$tmp/body")"
code=$(api POST /v1/scheduler/iso8601 \
  '{"name":"small","command":"true","schedule":"R1//PT1H","cpus":0.1,"mem":32}')
wait_for 30 succeeded small && ok "a small job runs while the huge one waits" ||
  bad "small blocked" "$(field huge lastError)"
why=$(curl -s "http://127.0.0.1:$PORT/v1/runs?job=huge")
echo "$why" | grep -q "waiting for resources" && ok "the huge run says why it waits" ||
  bad "no reason" "$why"
code=$(api POST /v1/scheduler/iso8601 \
  '{"name":"onr2","command":"true","schedule":"R1//PT1H","cpus":0.1,"mem":32,
    "constraints":[["rack","EQUALS","r2"]]}')
wait_for 30 succeeded onr2 && t=$(tasks_of onr2 | head -1) &&
  [ "$(dq tasks "[t['agent_id'] for t in v if t['task_id'] == '$t'][0]")" = agent-r2 ] &&
  ok "rack EQUALS r2 ran on agent-r2" || bad "constraint" "$(dget tasks | head -c 300)"
api DELETE /v1/scheduler/job/huge >/dev/null

# ---- 3a. The figures: both agents with what they offered; a running task's
# resources used on its agent, and no longer once it ended ----------------------
stq() { curl -s "http://127.0.0.1:$PORT/v1/status" | $PY -c "import json,sys; s=json.load(sys.stdin); r=s['resources']; print($1)"; }
wait_for 20 eval '[ "$(stq "sorted(a[\"id\"] for a in r[\"agents\"] if 0 < a[\"offered\"][\"cpus\"] <= 2 and 0 < a[\"offered\"][\"mem\"] <= 2048)")" = "['"'"'agent-r1'"'"', '"'"'agent-r2'"'"']" ]' &&
  ok "status lists both agents with what they offered (at most 2 cpus, 2048 MB each)" ||
  bad "agents in status" "$(curl -s "http://127.0.0.1:$PORT/v1/status" | head -c 600)"
[ "$(stq "r['total'] is None and all(a['total'] is None for a in r['agents'])")" = True ] &&
  ok "status: no total on Mesos (an agent may join)" || bad "total on Mesos" "$(stq r)"
# The task runs until the test lets it end (a fixed sleep could end before a
# slow check on a loaded machine has looked): at least 5 s after it is seen
# running, so its task time is at least that, less the update's way here.
api POST /v1/scheduler/iso8601 "{\"name\":\"figs\",\"command\":\"while [ ! -e $tmp/figs.go ]; do sleep 0.1; done\",
  \"schedule\":\"R1//PT1H\",\"cpus\":0.5,\"mem\":96,\"disk\":10,\"constraints\":[[\"rack\",\"EQUALS\",\"r1\"]]}" >/dev/null
if wait_for 30 eval '[ "$(dq tasks "[t[\"state\"] for t in v if t[\"task_id\"].endswith(\":figs\")]")" = "['"'"'TASK_RUNNING'"'"']" ]'; then
  figs_end=$(( $(now_ms) + 5000 ))
  wait_for 5 eval '[ "$(stq "[a[\"used\"] for a in r[\"agents\"] if a[\"id\"] == \"agent-r1\"][0][\"cpus\"]")" = 0.5 ]'
  [ "$(stq "[(a['id'], a['used']) for a in r['agents']] == [('agent-r1', {'cpus': 0.5, 'mem': 96.0, 'disk': 10.0}), ('agent-r2', {'cpus': 0.0, 'mem': 0.0, 'disk': 0.0})] or [(a['id'], a['used']) for a in r['agents']] == [('agent-r2', {'cpus': 0.0, 'mem': 0.0, 'disk': 0.0}), ('agent-r1', {'cpus': 0.5, 'mem': 96.0, 'disk': 10.0})]")" = True ] &&
    [ "$(stq "r['used'] == {'cpus': 0.5, 'mem': 96.0, 'disk': 10.0}")" = True ] &&
    ok "the running task's resources are used on agent-r1 (and in the sum)" ||
    bad "used while running" "$(stq r)"
  sleep_until "$figs_end"
  touch "$tmp/figs.go"
  wait_for 30 succeeded figs
  wait_for 5 eval '[ "$(stq "r[\"used\"][\"cpus\"]")" = 0.0 ]' &&
    ok "nothing used once it ended" || bad "used after the end" "$(stq r)"
  [ "$(curl -s "http://127.0.0.1:$PORT/v1/status" | $PY -c "import json,sys; print(json.load(sys.stdin)['taskTimeSeconds'] >= 3.5)")" = True ] &&
    ok "taskTimeSeconds counts the task's 5 s and more" || bad "task time on Mesos" "$(curl -s "http://127.0.0.1:$PORT/v1/status")"
else
  bad "figs never ran" "$(dget tasks | head -c 300)"
fi

# ---- 3b. Suppress when nothing waits, revive when a run is ready ----------------
last_sr() { dq calls "([c['type'] for c in v if c['type'] in ('SUPPRESS', 'REVIVE')] or ['-'])[-1]"; }
wait_for 20 eval '[ "$(last_sr)" = SUPPRESS ]' &&
  ok "nothing waits: offers are suppressed" || bad "no SUPPRESS" "$(dq calls "[c['type'] for c in v][-12:]")"
nrev=$(dq calls "sum(1 for c in v if c['type'] == 'REVIVE')")
cli run small >/dev/null 2>&1
wait_for 30 succeeded small 2 &&
  [ "$(dq calls "sum(1 for c in v if c['type'] == 'REVIVE')")" -gt "$nrev" ] &&
  ok "a manual run revives offers and runs" || bad "no REVIVE for a ready run"

# ---- 3c. A container job's ContainerInfo ----------------------------------------------
code=$(api POST /v1/scheduler/iso8601 '{"name":"boxed","command":"echo boxed","schedule":"R1//PT1H",
  "cpus":0.1,"mem":32,"container":{"type":"DOCKER","image":"library/busybox:1.36","network":"BRIDGE",
  "forcePullImage":true,"volumes":[{"containerPath":"/data","hostPath":"/srv/data","mode":"RO"}],
  "parameters":[{"key":"label","value":"team=ops"}]}}')
[ "$code" = 204 ] && ok "a container job is accepted" || bad "boxed" "$code $(cat "$tmp/body")"
wait_for 30 eval '[ -n "$(tasks_of boxed)" ]'
ci=$(dq tasks "[t['task_info'].get('container') for t in v if t['task_id'].split(':')[3] == 'boxed'][0]")
echo "$ci" | grep -q "'type': 'DOCKER'" && echo "$ci" | grep -q "'image': 'library/busybox:1.36'" &&
  echo "$ci" | grep -q "'network': 'BRIDGE'" && echo "$ci" | grep -q "'force_pull_image': True" &&
  echo "$ci" | grep -q "'container_path': '/data'" && echo "$ci" | grep -q "'host_path': '/srv/data'" &&
  echo "$ci" | grep -q "'mode': 'RO'" && echo "$ci" | grep -q "'key': 'label'" &&
  ok "its TaskInfo carries the DOCKER ContainerInfo: image, network, volume, parameters" ||
  bad "ContainerInfo" "$ci"

# ---- 3d. maxCompletionTime ------------------------------------------------------------
code=$(api POST /v1/scheduler/iso8601 '{"name":"long","command":"sleep 60","schedule":"R1//PT1H",
  "cpus":0.1,"mem":32,"maxCompletionTime":2,"retries":0}')
wait_for 30 eval '[ "$(field long errorCount)" -ge 1 ] 2>/dev/null' &&
  ok "a run past its maxCompletionTime is killed and fails" || bad "long" "$(field long lastError)"
curl -s "http://127.0.0.1:$PORT/v1/runs?job=long" | grep -q "maxCompletionTime" &&
  ok "saying why" || bad "no reason" "$(curl -s "http://127.0.0.1:$PORT/v1/runs?job=long" | head -c 300)"

# ---- 4. A server killed with a run in flight -------------------------------------
code=$(api POST /v1/scheduler/iso8601 \
  '{"name":"slow","command":"sleep 3","schedule":"R1//PT1H","cpus":0.1,"mem":32}')
wait_for 20 eval '[ -n "$(tasks_of slow)" ]' && ok "slow is running" || bad "slow never started"
kill9_server
start_server "$data" --master "127.0.0.1:$DPORT" || bad "restart" "$(tail -5 "$data.log")"
wait_for 30 succeeded slow && ok "after the restart slow ends as a success" ||
  bad "slow" "$(field slow lastError)"
n=$(tasks_of slow | wc -l)
[ "$n" = 1 ] && ok "and the master saw exactly one task for it (reconciled, not relaunched)" ||
  bad "slow tasks" "$n: $(tasks_of slow | tr '\n' ' ')"
[ "$(dq state 'v["framework_id"]')" = "$fwid" ] && ok "the same framework id after the restart" ||
  bad "framework id changed"

# ---- 5. The master restarts ----------------------------------------------------------
subs=$(dq calls "sum(1 for c in v if c.get('type') == 'SUBSCRIBE')")
curl -s -X POST -d '{}' "http://127.0.0.1:$DPORT/double/restart" >/dev/null
wait_for 30 eval '[ "$(dq calls "sum(1 for c in v if c.get(\"type\") == \"SUBSCRIBE\")")" -gt "$subs" ] &&
  [ "$(dq state "v[\"subscribed\"]")" = True ]' &&
  ok "after a master restart chronos subscribes again" || bad "no resubscribe"
cli run example >/dev/null 2>&1
wait_for 30 succeeded example 2 && ok "and runs go on" || bad "no run after master restart"

# ---- 6. Acknowledgements and violations ----------------------------------------------
sleep 1
unacked=$(dq acks 'len(v["unacked"])')
[ "$unacked" = 0 ] && ok "every update with a uuid was acknowledged" ||
  bad "unacknowledged" "$(dget acks | head -c 400)"
viol=$(dget violations)
[ "$viol" = "[]" ] && ok "no protocol violation" || bad "violations" "$(echo "$viol" | head -c 800)"
stop_server
kill "$DOUBLE" 2>/dev/null; wait "$DOUBLE" 2>/dev/null; DOUBLE=""
finish
