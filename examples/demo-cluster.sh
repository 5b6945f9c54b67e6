#!/bin/bash
# The cluster story on one machine: a Mesos master (the strict test double
# of tests/mesos/, with two agents that run tasks as local processes), a
# ZooKeeper, and a chronos server that finds the master through ZooKeeper
# (zk://.../mesos), registers as a framework, and runs the example of the
# README on an agent.  Then `chronos logs example` reads the output back
# from the agent's sandbox.  Everything runs on 127.0.0.1, on free ports,
# under a temporary directory, and is stopped on exit.
#
#   make demo-cluster        (or: bash examples/demo-cluster.sh [build/chronos])
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
CHRONOS=$(realpath "${1:-$REPO/build/chronos}")
PY=/usr/bin/python3
dir=$(mktemp -d /tmp/chronos-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  bash "$REPO/tests/zk/zk.sh" stop "$dir/zk" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "ZooKeeper"
ZK=$(bash "$REPO/tests/zk/zk.sh" start "$dir/zk" 1) || { echo "ZooKeeper did not start"; exit 1; }
echo "ZooKeeper at $ZK"

say "A Mesos master with two agents, registered in ZooKeeper under /mesos"
$PY "$REPO/tests/mesos/double.py" --work-dir "$dir/master" --agents 2 --heartbeat 5 \
  --zk "$ZK/mesos" >"$dir/master.out" 2>"$dir/master.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/master.out" ] && break; sleep 0.1; done
[ -s "$dir/master.out" ] || { echo "the master did not start:"; tail -5 "$dir/master.log"; exit 1; }
head -1 "$dir/master.out"

say "chronos serve --master zk://$ZK/mesos"
port=$(free_port)
"$CHRONOS" serve --http_port "$port" --data_dir "$dir/chronos" --user "$(id -un)" \
  --master "zk://$ZK/mesos" >"$dir/chronos.log" 2>&1 &
pids+=($!)
export CHRONOS_URL=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$CHRONOS_URL/ping" >/dev/null && break; sleep 0.1; done
grep -m1 "Mesos cluster" "$dir/chronos.log"

say 'chronos create example --command=/bin/echo "Hello, World!" --executor=shell --mesos-resources=cpus=1,mem=128'
"$CHRONOS" create example --command=/bin/echo "Hello, World!" --executor=shell \
  --mesos-resources=cpus=1,mem=128 || exit 1
for _ in $(seq 300); do
  "$CHRONOS" list --json 2>/dev/null | grep -q '"successCount":[1-9]' && break
  sleep 0.1
done

say "chronos runs example"
"$CHRONOS" runs example
say "chronos logs example"
"$CHRONOS" logs example
say "the framework as the master sees it"
curl -s "http://127.0.0.1:$(head -1 "$dir/master.out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["port"])')/master/state" |
  $PY -c 'import json,sys; s=json.load(sys.stdin); f=s["frameworks"][0]
print("framework", f["id"], f["name"]); [print(" ", t["id"], t["state"], "on", t["slave_id"]) for t in f["tasks"] + f["completed_tasks"]]'
