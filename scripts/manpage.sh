#!/bin/sh
# scripts/manpage.sh CHRONOS VERSION: the man page chronos(1) in roff, made
# from the binary's own help texts (`chronos help` and each command's
# --help), so the page and the binary cannot disagree.  make writes it to
# build/chronos.1; `make man` copies it to docs/chronos.1.
set -eu
bin=$1
version=$2
# Roff-safe text: a backslash doubled, a line that starts with . or ' escaped.
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
cat <<HEAD
.TH CHRONOS 1 "" "chronos $version" "User Commands"
.SH NAME
chronos \- a distributed cron, compatible with Apache Chronos's REST API
.SH SYNOPSIS
.B chronos
.I command
[options]
.SH DESCRIPTION
.nf
HEAD
"$bin" help | esc
for c in $("$bin" help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}'); do
  case $c in help|version|completion) continue ;; esac
  printf '.fi\n.SH "CHRONOS %s"\n.nf\n' "$(echo "$c" | tr a-z A-Z)"
  "$bin" "$c" --help | esc
done
cat <<'TAIL'
.fi
.SH FILES
.TP
.I /etc/chronos/chronos.conf
the server's settings, `key = value' lines (see serve's options above).
.SH SEE ALSO
The REST API and operations: docs/api.md and docs/operations.md in the source.
TAIL
