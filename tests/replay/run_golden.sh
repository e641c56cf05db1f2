#!/bin/sh
# run_golden.sh - one golden replay case: compile, replay, diff.
#
#   sh run_golden.sh DNAC DNAD CASE_DIR WORK_DIR
#
# CASE_DIR holds
#   rules.dna          the bundle's rules (compiled from inside CASE_DIR, so
#                      trace sources read "rules.dna:LINE:COL")
#   events.jsonl       the events replayed
#   args               optional: extra `dnad replay` options, one line
#                      (e.g. --until 2026-10-20T00:00:00Z)
#   baseline.dna       optional: compiled and passed as --baseline
#   expected/          state.jsonl, effects.jsonl, summary.txt and, with a
#                      baseline, diff.jsonl
# summary.txt is stdout without the "time ... events/s" and "jit: ..." lines
# (they depend on the machine and on DNA_JIT), then stderr,
# then "exit N".  Every expected file was checked by hand against the
# language brief (see the case's NOTES, if any, and tests/replay/README.md):
# do not regenerate blindly.
#
#   UPDATE=1 sh run_golden.sh ...    overwrite expected/ with what dnad prints
set -u
dnac=$1 dnad=$2 case=$3 work=$4
case "$dnac" in /*) ;; *) dnac=$(pwd)/$dnac ;; esac
case "$dnad" in /*) ;; *) dnad=$(pwd)/$dnad ;; esac
rm -rf "$work"
mkdir -p "$work" || exit 2
work=$(cd "$work" && pwd)
cd "$case" || exit 2

if ! "$dnac" compile rules.dna -o "$work/b.dnab" >"$work/compile.txt" 2>&1; then
    echo "FAIL: rules.dna does not compile:"; cat "$work/compile.txt"; exit 1
fi
set --
if [ -f baseline.dna ]; then
    if ! "$dnac" compile baseline.dna -o "$work/base.dnab" >"$work/compile.txt" 2>&1; then
        echo "FAIL: baseline.dna does not compile:"; cat "$work/compile.txt"; exit 1
    fi
    set -- --baseline "$work/base.dnab"
fi
extra=""
[ -f args ] && extra=$(cat args)
# shellcheck disable=SC2086
"$dnad" replay "$work/b.dnab" events.jsonl --out "$work/out" "$@" $extra >"$work/stdout" 2>"$work/stderr"
rc=$?
{
    grep -v -e '^time [0-9.]* s, [0-9]* events/s$' -e '^jit: ' "$work/stdout"
    sed "s|$work|WORK|g" "$work/stderr"
    echo "exit $rc"
} >"$work/out/summary.txt" 2>/dev/null || { echo "FAIL: no output directory"; cat "$work/stderr"; exit 1; }

files="state.jsonl effects.jsonl summary.txt"
[ -f baseline.dna ] && files="$files diff.jsonl"
if [ "${UPDATE:-}" = 1 ]; then
    mkdir -p expected
    for f in $files; do cp "$work/out/$f" "expected/$f"; done
    echo "updated $(basename "$case")"
    exit 0
fi
status=0
for f in $files; do
    if [ ! -f "expected/$f" ]; then echo "FAIL: missing expected/$f"; status=1; continue; fi
    if ! diff -u "expected/$f" "$work/out/$f"; then echo "FAIL: $f differs"; status=1; fi
done
if [ $status = 0 ]; then echo "ok $(basename "$case")"; elif [ -f BUG ]; then echo; cat BUG; fi
exit $status
