#!/bin/sh
# check/run_info.sh - `dnac info` on the sketch lists what it declares.
#
#   sh run_info.sh DNAC sketch.dna
set -u
dnac=$1 file=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd / && unset DNA_STDLIB && exec timeout 20 "$dnac" info "$file") >"$tmp/out" 2>"$tmp/err"
rc=$?
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: dnac info exited $rc"; fail=1; }
[ -s "$tmp/err" ] && { echo "FAIL: dnac info wrote to stderr"; fail=1; }
# one line per kind of declaration the sketch has, with its figures
for want in '^1 file, 2 modules$' '^  page_visit  *2 fields$' '^  lead  *8 fields$' \
            '^  engagement  *for lead  *2 rules$' '^  for lead  *research(2) b2b(1) co_creation(1)$' \
            '^  PRICING_PAGE  *for lead  *critical$' '^  won_to_finance  *for deal  *approval$' \
            '^  nurture  *for lead  *3 steps$' '^  bdr  *2 members$' '^  finance  *rest$' \
            '^  "a pricing visit by a VP"$'; do
    grep -q -- "$want" "$tmp/out" || { echo "FAIL: no line matching /$want/"; fail=1; }
done
if [ "$fail" -ne 0 ]; then cat "$tmp/out" "$tmp/err"; exit 1; fi
echo "ok: dnac info lists the sketch"
