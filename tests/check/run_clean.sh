#!/bin/sh
# check/run_clean.sh - a file that must check clean: exit 0, nothing printed.
# dnac runs from / (not the source tree) and without DNA_STDLIB, so this also
# proves that `import stdlib.*` resolves wherever dnac is started.
#
#   sh run_clean.sh DNAC FILE.dna
set -u
dnac=$1 file=$2
case $file in /*) ;; *) file=$(pwd)/$file ;; esac
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd / && unset DNA_STDLIB && exec timeout 20 "$dnac" check --no-color "$file") >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
    echo "FAIL: dnac check $file (run from /) exited $rc; it must exit 0 and print nothing"
    cat "$tmp/out" "$tmp/err"
    exit 1
fi
echo "ok: $file checks clean from /"
