#!/bin/sh
# Installs the Debian packages chronos needs to build and test, when any is
# missing; silent when all are present.  Idempotent.  Run as root (or with
# sudo available) on Debian 12.  podman, runc and busybox-static: the
# container runs of tests/integration/test_container.sh (runc where crun
# cannot run in a sandbox).  chromium, nodejs and npm: the dashboard's
# browser tests (tests/browser/), whose npm packages (playwright-core,
# axe-core, esbuild) come from api/dashboard/package-lock.json by `npm ci`;
# when npm cannot reach its registry that step only warns: the binary
# builds without npm (the dashboard's bundle is committed).  python3-httplib2:
# the vendored chronos-python client's one dependency
# (tests/integration/test_chronos_python.sh).  cron and redis-server: the
# peers chronos is measured against in bench/peers (their own daemons,
# private to the bench; on a systemd host Debian also starts its services,
# which the bench leaves alone); util-linux has its unshare.
set -eu
PKGS="gcc make time libc6-dev libcmocka-dev libjansson-dev libmicrohttpd-dev tzdata python3 clang libclang-rt-14-dev curl procps libcurl4-openssl-dev wrk openssl zookeeper libzookeeper-mt-dev podman runc busybox-static protobuf-compiler python3-protobuf libprotobuf-dev golang-github-mesos-mesos-go-dev python3-kazoo python3-httplib2 chromium nodejs cron redis-server util-linux"
# One dpkg-query for all of them (every make runs this: a process per
# package cost a second of CPU each time); a package it does not list is missing.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null | awk '/ install ok installed$/ { print $1 }')
missing=""
for p in $PKGS; do
  case "
$installed
" in *"
$p
"*) ;; *) missing="$missing $p" ;; esac
done
# npm: Debian's package, unless a node that ships its own is installed.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
npm_ci() { # the dashboard's npm packages, when the lockfile changed since the last npm ci
  local d; d="$(dirname "$0")/../api/dashboard"
  [ -f "$d/node_modules/.package-lock.json" ] && [ "$d/node_modules/.package-lock.json" -nt "$d/package-lock.json" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  echo "deps: npm ci in api/dashboard"
  (cd "$d" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) ||
    echo "deps: npm ci failed: the browser tests cannot run; the build uses the committed dashboard bundle" >&2
}
# `deps.sh apt`: the packages only; `deps.sh npm`: the npm packages only
# (make runs that beside the compiles: it mostly waits on the network).
only=${1:-}
if [ "$only" = npm ]; then npm_ci; exit 0; fi
if [ -z "$missing" ]; then
  [ "$only" = apt ] || npm_ci
  exit 0
fi
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# An install from stale or absent package lists fails; refresh them once then.
if ! $SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y --no-install-recommends $missing
fi
[ "$only" = apt ] || npm_ci
