#!/bin/sh
# reads.sh - reads change nothing: reads_test over the shipped rules with
# the shipped month (examples/events/month.jsonl) and with a generated
# 20,000-event file where a tenth of the events arrive late.
#
#   sh reads.sh DNAC READS_TEST GEN_EVENTS SOURCE_DIR WORK_DIR
set -u
dnac=$1 reads=$2 gen=$3 src=$4 work=$5
rm -rf "$work"; mkdir -p "$work" || exit 2
fails=0
(cd "$src" && "$dnac" compile rules -o "$work/rules.dnab") >"$work/compile.txt" 2>&1 ||
    { echo "FAIL: rules do not compile"; cat "$work/compile.txt"; exit 1; }
"$gen" --leads 60 --days 30 --seed 15 --events 20000 --late 0.1 --quiet -o "$work/late.jsonl" ||
    { echo "FAIL: generator"; exit 1; }
for f in "$src/examples/events/month.jsonl" "$work/late.jsonl"; do
    echo "== $f"
    "$reads" "$work/rules.dnab" "$f" || { echo "FAIL: reading changed the run over $f"; fails=$((fails + 1)); }
done
[ $fails -eq 0 ] && echo "reads.sh: ok"
exit $fails
