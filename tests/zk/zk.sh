#!/bin/bash
# zk.sh - a real ZooKeeper (Debian's `zookeeper` package) for tests: a
# standalone server or an N-node ensemble on 127.0.0.1, on ports picked here,
# data in a directory the caller owns.  Every server is a java process whose
# pid is recorded, so the caller can stop, kill, freeze or restart one.
#
#   tests/zk/zk.sh start DIR [N]   start N servers (default 1); prints the
#                                  connect string "127.0.0.1:P1,127.0.0.1:P2,..."
#                                  once a session can be made on each (<= 60 s)
#   tests/zk/zk.sh stop DIR        kill every server of DIR (SIGKILL), wait
#   tests/zk/zk.sh kill DIR I      SIGKILL server I (1-based)
#   tests/zk/zk.sh restart DIR I   start server I again (same port and data)
#   tests/zk/zk.sh pid DIR I       its pid
#   tests/zk/zk.sh hosts DIR       the connect string
#
# DIR/I/ holds server I's zoo.cfg, data, log and pid.  The caller must call
# `stop` (e.g. from an EXIT trap): servers are detached from the shell.
# tickTime is 500 ms so that a session can time out in ~1-2 s (minimum session
# timeout = 2 ticks) and tests of expiry stay short.  The JVM starts small and
# quick (client JIT); benchmarks set ZK_JVM_OPTS for a server-sized one.
set -u
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: zk.sh start|stop|kill|restart|pid|hosts DIR [N|I]" >&2; exit 2; }

CP=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar

free_ports() { # free_ports N: N distinct free loopback ports
  /usr/bin/python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
}

launch() { # launch I: starts server I from its config
  local d="$dir/$1"
  # shellcheck disable=SC2086 # ZK_JVM_OPTS is a list of flags
  setsid java ${ZK_JVM_OPTS:--Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1} \
    -Dzookeeper.log.dir="$d" -Dzookeeper.root.logger=WARN,CONSOLE \
    -Dzookeeper.admin.enableServer=false -Djute.maxbuffer=4194304 \
    -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" \
    >"$d/server.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
}

# ready HOSTPORT: a session reaches CONNECTED (not just `ruok`, whose imok does
# not mean the server serves sessions yet).
ready() {
  /usr/bin/python3 - "$1" <<'EOF'
import socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
deadline = time.time() + 60
while time.time() < deadline:
    try:
        s = socket.create_connection((host, int(port)), timeout=1)
        # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd
        body = struct.pack(">iqiqi", 0, 0, 4000, 0, 16) + b"\0" * 16 + b"\0"
        s.sendall(struct.pack(">i", len(body)) + body)
        s.settimeout(2)
        head = s.recv(4)
        if len(head) == 4:
            n = struct.unpack(">i", head)[0]
            data = b""
            while len(data) < n:
                chunk = s.recv(n - len(data))
                if not chunk: break
                data += chunk
            if len(data) >= 16 and struct.unpack(">q", data[8:16])[0] != 0:
                s.close(); sys.exit(0)   # a session id: the server serves
        s.close()
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

case "$cmd" in
start)
  n=${3:-1}
  mkdir -p "$dir"
  read -r -a ports <<<"$(free_ports $((n * 3)))"
  hosts=""
  for i in $(seq 1 "$n"); do
    d="$dir/$i"
    mkdir -p "$d/data"
    cp=${ports[$(( (i - 1) * 3 ))]}
    {
      echo "tickTime=500"
      echo "initLimit=20"
      echo "syncLimit=10"
      echo "dataDir=$d/data"
      echo "clientPort=$cp"
      echo "clientPortAddress=127.0.0.1"
      echo "admin.enableServer=false"
      echo "4lw.commands.whitelist=*"
      echo "maxClientCnxns=0"
      echo "minSessionTimeout=1000"
      echo "maxSessionTimeout=60000"
      # No fsync of the transaction log: the tests kill processes, never
      # the machine, and the page cache survives a killed server.
      echo "forceSync=no"
    } >"$d/zoo.cfg"
    if [ "$n" -gt 1 ]; then
      for k in $(seq 1 "$n"); do
        echo "server.$k=127.0.0.1:${ports[$(( (k - 1) * 3 + 1 ))]}:${ports[$(( (k - 1) * 3 + 2 ))]}" >>"$d/zoo.cfg"
      done
      echo "$i" >"$d/data/myid"
    fi
    echo "127.0.0.1:$cp" >"$d/hostport"
    hosts="${hosts:+$hosts,}127.0.0.1:$cp"
  done
  echo "$hosts" >"$dir/hosts"
  for i in $(seq 1 "$n"); do launch "$i"; done
  for i in $(seq 1 "$n"); do
    if ! ready "$(cat "$dir/$i/hostport")"; then
      echo "zk.sh: server $i did not serve within 60 s; its log:" >&2
      tail -20 "$dir/$i/server.log" >&2
      exit 1
    fi
  done
  echo "$hosts"
  ;;
stop)
  for p in "$dir"/*/pid; do
    [ -f "$p" ] || continue
    kill -9 "$(cat "$p")" 2>/dev/null
  done
  for p in "$dir"/*/pid; do
    [ -f "$p" ] || continue
    while kill -0 "$(cat "$p")" 2>/dev/null; do sleep 0.05; done
    rm -f "$p"
  done
  ;;
kill)
  p="$dir/${3:?server number}/pid"
  kill -9 "$(cat "$p")" 2>/dev/null
  while kill -0 "$(cat "$p")" 2>/dev/null; do sleep 0.05; done
  ;;
restart)
  i=${3:?server number}
  launch "$i"
  ready "$(cat "$dir/$i/hostport")" || { echo "zk.sh: server $i did not come back" >&2; exit 1; }
  ;;
pid) cat "$dir/${3:?server number}/pid" ;;
hosts) cat "$dir/hosts" ;;
*) echo "zk.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
