#!/bin/sh
# golden/run.sh - run `dnac check` on one golden case and diff its output
# against the pinned expectation.
#
#   sh run.sh DNAC CASE.dna [text|json|github]
#   UPDATE=1 sh run.sh DNAC CASE.dna [FORMAT]      rewrite the expectation
#
# The expectation is CASE.expected (text) or CASE.FORMAT.expected: what dnac
# printed on stdout, then on stderr, then a line `[exit N]`.  dnac runs in the
# case's directory on the bare file name, so paths in the output are stable,
# and without DNA_STDLIB, so stdlib imports resolve the way they do for users.
set -u
dnac=$1 case_file=$2 fmt=${3:-text}
dir=$(cd "$(dirname "$case_file")" && pwd)
name=$(basename "$case_file" .dna)
if [ "$fmt" = text ]; then expected=$dir/$name.expected; else expected=$dir/$name.$fmt.expected; fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$dir" && unset DNA_STDLIB NO_COLOR &&
 exec timeout 20 "$dnac" check --no-color --format "$fmt" "$name.dna") >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out" "$tmp/err" >"$tmp/actual"
printf '[exit %d]\n' "$rc" >>"$tmp/actual"

if [ "$rc" -ge 124 ]; then
    echo "FAIL $name ($fmt): dnac crashed or hung (exit $rc)"
    cat "$tmp/err"
    exit 1
fi
if [ "${UPDATE:-}" = 1 ]; then
    cp "$tmp/actual" "$expected"
    echo "updated $expected"
    exit 0
fi
if [ ! -f "$expected" ]; then
    echo "FAIL $name ($fmt): no $expected; write it with UPDATE=1 and review it"
    cat "$tmp/actual"
    exit 1
fi
if ! diff -u "$expected" "$tmp/actual" >"$tmp/diff"; then
    echo "FAIL $name ($fmt): output differs from $(basename "$expected") (- expected, + actual):"
    cat "$tmp/diff"
    exit 1
fi
echo "ok $name ($fmt)"
