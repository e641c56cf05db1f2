#!/bin/sh
# check_diff.sh - `dnac fmt --check --diff`: for each diff/*.input, the hunks
# are those of `diff -u` between the file and what `dnac fmt` writes, the
# file itself is left unchanged, and the exit status is 1; a formatted file
# prints nothing and exits 0.
#
#   sh check_diff.sh DNAC TESTS_FMT_DIR WORK_DIR
set -u
dnac=$1 dir=$2 work=$3
rm -rf "$work"; mkdir -p "$work" || exit 2
status=0
fail() { echo "FAIL: $*"; status=1; }
for input in "$dir"/diff/*.input; do
    name=$(basename "$input" .input)
    cp "$input" "$work/$name.dna"; cp "$input" "$work/$name.fmt.dna"
    "$dnac" fmt "$work/$name.fmt.dna" || { fail "$name: dnac fmt failed"; continue; }
    "$dnac" fmt --check --diff "$work/$name.dna" >"$work/$name.got" 2>"$work/$name.err"
    rc=$?
    [ $rc = 1 ] || fail "$name: exit $rc, want 1"
    cmp -s "$input" "$work/$name.dna" || fail "$name: --diff changed the file"
    head -2 "$work/$name.got" >"$work/$name.head"
    printf -- '--- %s\n+++ %s (formatted)\n' "$work/$name.dna" "$work/$name.dna" >"$work/$name.want_head"
    cmp -s "$work/$name.head" "$work/$name.want_head" || fail "$name: header $(cat "$work/$name.head")"
    diff -u "$work/$name.dna" "$work/$name.fmt.dna" | tail -n +3 >"$work/$name.want"
    tail -n +3 "$work/$name.got" >"$work/$name.body"
    if ! cmp -s "$work/$name.want" "$work/$name.body"; then
        fail "$name: the hunks differ from diff -u:"; diff "$work/$name.want" "$work/$name.body"
    fi
    "$dnac" fmt --check --diff "$work/$name.fmt.dna" >"$work/$name.clean" 2>&1
    rc=$?
    [ $rc = 0 ] && [ ! -s "$work/$name.clean" ] || fail "$name: a formatted file: exit $rc, output $(cat "$work/$name.clean")"
    [ $status = 0 ] && echo "ok $name"
done
exit $status
