#!/bin/bash
# Integration tests of container jobs on the local resource manager, through
# the real binary on a loopback port this test picks:
#   - without --local_containerizer a job with a `container` is accepted with
#     a Warning header and never runs on the host;
#   - a bad --local_containerizer stops the server at start, naming it;
#   - with --local_containerizer podman (when podman can run a container
#     here): output captured, environment and volumes visible inside, the
#     exit code propagated, and a kill leaves no container behind.
# The image is built here without a registry: busybox-static's /bin/busybox
# in a tar imported as localhost/chronos-test-busybox.  When `podman run` of
# it fails, the runtime cases are skipped with the reason printed.  Every
# process started here is stopped by pid on exit, even on failure.
#
#   CHRONOS=build/chronos bash tests/integration/test_container.sh
set -u
CHRONOS=$(realpath "${CHRONOS:-build/chronos}")
. "$(dirname "$0")/../lib.sh"
lib_init ctr

IMAGE=localhost/chronos-test-busybox
headers=$tmp/headers
# post_job JSON: POST iso8601; the status code, headers in $headers.
post_job() {
  curl -s -m 10 -D "$headers" -o "$tmp/body" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d "$1" "http://127.0.0.1:$PORT/v1/scheduler/iso8601"
}
# run_json ID KEY: a field of GET /v1/runs/ID.
run_field() {
  curl -s "http://127.0.0.1:$PORT/v1/runs/$1" |
    /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$2'))"
}
# last_run JOB [STATE]: the newest run id of JOB (in STATE) ("" when none).
last_run() {
  curl -s "http://127.0.0.1:$PORT/v1/runs?job=$1" | /usr/bin/python3 -c '
import json,sys
v=json.load(sys.stdin)
v=[r for r in v if len(sys.argv) < 2 or r["state"] == sys.argv[1]] if isinstance(v, list) else []
print(v[0]["id"] if v else "")' ${2:+"$2"}
}
run_ended() { case "$(run_field "$1" state)" in finished|failed|killed|lost) true ;; *) false ;; esac; }
has_run() { [ -n "$(last_run "$1")" ]; }
no_container_named() { ! podman ps -a --format '{{.Names}}' 2>/dev/null | grep -q "^chronos-.*$1"; }

# ---- 1. A bad --local_containerizer is refused at start, naming it ----------
out=$("$CHRONOS" serve --http_port 0 --data_dir "$tmp/bad" --local_containerizer lxc 2>&1)
rc=$?
[ "$rc" != 0 ] && echo "$out" | grep -q "local_containerizer: 'lxc' is not podman or docker" &&
  ok "--local_containerizer lxc stops the server, naming the option" || bad "bad runtime" "rc $rc: $out"
out=$(CHRONOS_LOCAL_CONTAINERIZER=rkt "$CHRONOS" serve --http_port 0 --data_dir "$tmp/bad" 2>&1)
[ $? != 0 ] && echo "$out" | grep -q "local_containerizer: 'rkt'" &&
  ok "CHRONOS_LOCAL_CONTAINERIZER is read and checked too" || bad "env runtime" "$out"

# ---- 2. No runtime: accepted with a warning, never run on the host -------------
data=$tmp/d1
if start_server "$data"; then
  marker=$tmp/host-ran
  due=$(( $(now_ms) + 1000 ))
  code=$(post_job "{\"name\":\"boxed\",\"command\":\"touch $marker\",\"schedule\":\"R1/$(iso $due)/PT1H\",\
\"container\":{\"type\":\"DOCKER\",\"image\":\"$IMAGE\"}}")
  [ "$code" = 204 ] && grep -qi '^Warning: 299 - ".*container runtime.*--local_containerizer' "$headers" &&
    ok "POST of a container job without a runtime: 204 with a Warning header" ||
    bad "warning" "$code $(cat "$headers" "$tmp/body")"
  code=$(post_job "{\"name\":\"plain\",\"command\":\"true\",\"schedule\":\"R1/$(iso $due)/PT1H\"}")
  [ "$code" = 204 ] && ! grep -qi '^Warning:' "$headers" && ok "a job without a container gets no warning" ||
    bad "warning on a plain job" "$(cat "$headers")"
  code=$(api PUT /v1/scheduler/job/boxed)
  sleep 3 # nothing to wait for: the point is that nothing happens
  [ ! -e "$marker" ] && ok "the container job's command never ran on the host" || bad "ran on the host"
  [ -z "$(ls "$data/runs" 2>/dev/null | grep -v '^\.')" ] && ok "no run directory was made for it" ||
    bad "run dirs" "$(ls "$data/runs")"
  grep -q "boxed.*needs a container runtime: start with --master or --local_containerizer" "$data.log" && ok "the server log says why the run waits" || bad "log" "$(tail -3 "$data.log")"
  stop_server
else
  bad "server did not start" "$(tail -5 "$data.log")"
fi

# ---- 3. podman: build the image, or say why the runtime cases are skipped ------
why=""
if ! command -v podman >/dev/null; then
  why="podman is not installed"
elif [ ! -x /bin/busybox ]; then
  why="/bin/busybox is missing (apt-get install busybox-static)"
fi
# This host's limits: a containers.conf of this test (runc, ulimits no
# higher than ours) so that an unprivileged sandbox can still run one.
export CONTAINERS_CONF=$tmp/containers.conf
runtime=runc; command -v runc >/dev/null || runtime=crun
cat > "$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
runtime = "$runtime"
EOF
if [ -z "$why" ]; then
  root=$tmp/rootfs
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/data"
  cp /bin/busybox "$root/bin/"
  for a in sh echo cat env sleep id touch test printf ls; do ln -sf busybox "$root/bin/$a"; done
  tar -C "$root" -cf "$tmp/rootfs.tar" .
  if ! out=$(podman import --change 'ENV PATH=/bin' "$tmp/rootfs.tar" "$IMAGE" 2>&1); then
    why="podman import failed: $(echo "$out" | tail -1)"
  elif ! out=$(timeout 60 podman run --rm "$IMAGE" sh -c 'echo hi' 2>&1) || [ "$out" != hi ]; then
    why="podman run of $IMAGE failed: $(echo "$out" | tail -1)"
  fi
fi

if [ -n "$why" ]; then
  echo "skip the runtime cases: $why"
  finish
fi

data=$tmp/d2
vol=$tmp/vol
mkdir -p "$vol"
echo "from the host" > "$vol/in.txt"
chmod 777 "$vol"
if start_server "$data" --local_containerizer podman --user root --allowed_users root; then
  # ---- 4. Output, environment, volumes (RO and RW), --user, the exit code --------
  due=$(( $(now_ms) + 1000 ))
  code=$(post_job "{\"name\":\"inbox\",\"command\":\"echo out-\$GREETING; echo err >&2; \
cat /ro/in.txt; echo written > /rw/out.txt; echo name=\$CHRONOS_JOB_NAME; id -u; \
touch /ro/nope 2>/dev/null || echo ro-refused; exit 7\",\"schedule\":\"R1/$(iso $due)/PT1H\",\
\"environmentVariables\":[{\"name\":\"GREETING\",\"value\":\"hello world\"}],\"retries\":0,\
\"container\":{\"type\":\"DOCKER\",\"image\":\"$IMAGE\",\"network\":\"BRIDGE\",\
\"volumes\":[{\"hostPath\":\"$vol\",\"containerPath\":\"/ro\",\"mode\":\"RO\"},\
{\"hostPath\":\"$vol\",\"containerPath\":\"/rw\",\"mode\":\"RW\"}]}}")
  [ "$code" = 204 ] && ! grep -qi '^Warning:' "$headers" && ok "with a runtime, POST answers 204 with no warning" ||
    bad "POST with runtime" "$code $(cat "$headers" "$tmp/body")"
  if wait_for 60 has_run inbox && id=$(last_run inbox) && wait_for 90 run_ended "$id"; then
    stdout=$(curl -s "http://127.0.0.1:$PORT/v1/runs/$id/stdout")
    stderr=$(curl -s "http://127.0.0.1:$PORT/v1/runs/$id/stderr")
    echo "$stdout" | grep -qx "out-hello world" && ok "the job's variable is set inside, stdout captured" ||
      bad "stdout" "$stdout / $stderr"
    [ "$stderr" = err ] && ok "stderr captured apart" || bad "stderr" "$stderr"
    echo "$stdout" | grep -qx "from the host" && ok "a RO volume shows the host's file" || bad "ro volume" "$stdout"
    echo "$stdout" | grep -qx "ro-refused" && ok "a RO volume refuses writes" || bad "ro write" "$stdout"
    [ "$(cat "$vol/out.txt" 2>/dev/null)" = written ] && ok "a RW volume's write reaches the host" ||
      bad "rw volume" "$(ls -la "$vol")"
    echo "$stdout" | grep -qx "name=inbox" && ok "the built-in CHRONOS_JOB_NAME is set inside" || bad "built-ins" "$stdout"
    echo "$stdout" | grep -qx "0" && ok "runAsUser root runs as uid 0 inside" || bad "user" "$stdout"
    [ "$(run_field "$id" exitCode)" = 7 ] && [ "$(run_field "$id" state)" = failed ] &&
      ok "the container's exit code 7 fails the run with it" ||
      bad "exit code" "$(curl -s "http://127.0.0.1:$PORT/v1/runs/$id")"
    wait_for 10 no_container_named inbox && ok "no container is left after the run" ||
      bad "leftover" "$(podman ps -a)"
  else
    bad "the container run did not end" "$(tail -5 "$data.log")"
  fi

  # ---- 5. A kill stops the container: none is left ---------------------------------
  due=$(( $(now_ms) + 1000 ))
  post_job "{\"name\":\"sleeper\",\"command\":\"echo started; sleep 300\",\"schedule\":\"R1/$(iso $due)/PT1H\",\
\"environmentVariables\":[{\"name\":\"TOKEN\",\"value\":\"s3cr3t-$$\"}],\
\"container\":{\"image\":\"$IMAGE\",\"network\":\"HOST\"}}" >/dev/null
  running() { podman ps --format '{{.Names}}' | grep -q "^chronos-.*sleeper"; }
  if wait_for 60 running; then
    ok "the container runs under its chronos- name"
    cmdlines=$(for p in $(pgrep -f "run --rm --name chronos-"); do tr '\0' ' ' < /proc/$p/cmdline; echo; done)
    echo "$cmdlines" | grep -q -- "-e TOKEN " && ! echo "$cmdlines" | grep -q "s3cr3t-$$" &&
      ok "a variable's value is not on the runtime's command line (-e NAME)" || bad "cmdline" "$cmdlines"
    code=$(api DELETE /v1/scheduler/task/kill/sleeper)
    id=$(last_run sleeper)
    if wait_for 30 run_ended "$id"; then
      [ "$(run_field "$id" state)" = killed ] && ok "the kill ends the run KILLED" ||
        bad "state after kill" "$(run_field "$id" state)"
    else
      bad "the killed run did not end"
    fi
    wait_for 15 no_container_named sleeper && ok "no container is left after the kill (podman ps -a)" ||
      bad "container left after kill" "$(podman ps -a)"
  else
    bad "the sleeper container never ran" "$(tail -5 "$data.log")"
  fi

  # ---- 6. A bad container is refused at launch: the run fails naming the field -------
  code=$(post_job "{\"name\":\"badvol\",\"command\":\"true\",\"schedule\":\"R1/$(iso $(( $(now_ms) + 500 )))/PT1H\",\
\"container\":{\"image\":\"$IMAGE\",\"volumes\":[{\"hostPath\":\"$vol\",\"containerPath\":\"rel\"}]}}")
  failed_run() { [ -n "$(last_run badvol failed)" ]; }
  if wait_for 30 failed_run; then
    id=$(last_run badvol failed)
    run_field "$id" reason | grep -q "container.volumes\[0\]" && ok "a relative containerPath fails the run, naming the field" ||
      bad "bad volume" "$(curl -s "http://127.0.0.1:$PORT/v1/runs/$id")"
  else
    bad "badvol never ran"
  fi
  stop_server
else
  bad "server with podman did not start" "$(tail -5 "$data.log")"
fi
finish
