#!/bin/sh
# dashboard.sh OUT.c: the web dashboard, built into the binary.
#
# The built bundle is committed (api/dashboard/dist/) with the hash of the
# sources it was built from (dist/.source-hash).  When the sources
# (src/, build.mjs, the lockfile) no longer match that hash, the bundle is
# rebuilt with esbuild from node_modules (`npm ci` from the lockfile first
# when they are missing); when npm or node cannot (no network, no node),
# the committed bundle is used as it is and a line says so.  Either way the
# bundle is then turned into the C table the binary links
# (scripts/embed-dashboard.py), so the C build never needs npm.
set -eu
cd "$(dirname "$0")/.."
D=api/dashboard
out=$1
hash=$(for f in $D/package-lock.json $D/build.mjs $(find $D/src -type f | LC_ALL=C sort); do
         echo "$f"; cat "$f"; done | sha256sum | cut -c1-64)
if [ "$(cat $D/dist/.source-hash 2>/dev/null)" != "$hash" ]; then
  built=no
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    if [ ! -x $D/node_modules/.bin/esbuild ]; then
      (cd $D && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >&2 || true
    fi
    if [ -x $D/node_modules/.bin/esbuild ] && (cd $D && node build.mjs) >&2; then
      echo "$hash" >$D/dist/.source-hash
      built=yes
    fi
  fi
  [ $built = yes ] || echo "dashboard: cannot rebuild with npm here: the committed bundle ($D/dist) is built in" >&2
fi
exec /usr/bin/python3 scripts/embed-dashboard.py $D/dist "$out"
