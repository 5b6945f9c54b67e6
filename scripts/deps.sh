#!/bin/sh
# Installs the Debian packages chronos needs to build and test, when any is
# missing; silent when all are present.  Idempotent.  Run as root (or with
# sudo available) on Debian 12.  podman, runc and busybox-static: the
# container runs of tests/integration/test_container.sh (runc where crun
# cannot run in a sandbox).
set -eu
PKGS="gcc make time libc6-dev libcmocka-dev libjansson-dev libmicrohttpd-dev tzdata python3 clang libclang-rt-14-dev curl procps libcurl4-openssl-dev wrk openssl zookeeper libzookeeper-mt-dev podman runc busybox-static protobuf-compiler python3-protobuf libprotobuf-dev golang-github-mesos-mesos-go-dev python3-kazoo"
missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# An install from stale or absent package lists fails; refresh them once then.
if ! $SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y --no-install-recommends $missing
fi
