#!/bin/sh
# determinism.sh - two replays of the shipped rules over a month of events
# give byte-identical state.jsonl and effects.jsonl: run again, from another
# working directory with absolute paths, and from stdin; a replay against
# itself as --baseline differs in nothing.
#
#   sh determinism.sh DNAC DNAD BENCH_REPLAY SOURCE_DIR WORK_DIR
#
# The events: SOURCE_DIR/examples/events/month.jsonl if it exists, else
# 50,000 events over 5,000 leads written by `bench_replay --generate`
# (deterministic; generated twice and compared too).
set -u
dnac=$1 dnad=$2 gen=$3 src=$4 work=$5
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
dnac=$(abs "$dnac") dnad=$(abs "$dnad") gen=$(abs "$gen") src=$(abs "$src")
rm -rf "$work"; mkdir -p "$work" || exit 2
work=$(cd "$work" && pwd)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

(cd "$src" && "$dnac" compile rules -o "$work/rules.dnab") >"$work/compile.txt" 2>&1 ||
    { echo "FAIL: rules do not compile"; cat "$work/compile.txt"; exit 1; }
if [ -f "$src/examples/events/month.jsonl" ]; then
    cp "$src/examples/events/month.jsonl" "$work/events.jsonl"
    echo "events: examples/events/month.jsonl"
else
    "$gen" --generate "$work/events.jsonl" 50000 5000 || { echo "FAIL: generator"; exit 1; }
    "$gen" --generate "$work/events2.jsonl" 50000 5000 || { echo "FAIL: generator"; exit 1; }
    cmp -s "$work/events.jsonl" "$work/events2.jsonl" || fail "the generator is not deterministic"
    echo "events: generated, $(wc -l <"$work/events.jsonl") lines"
fi

strip() { grep -v '^time [0-9.]* s, [0-9]* events/s$' "$1"; }

(cd "$work" && "$dnad" replay rules.dnab events.jsonl --out run1) >"$work/sum1" 2>"$work/err1" || fail "run 1: exit $?"
(cd / && "$dnad" replay "$work/rules.dnab" "$work/events.jsonl" --out "$work/run2") >"$work/sum2" 2>"$work/err2" || fail "run 2: exit $?"
(cd /tmp && "$dnad" replay "$work/rules.dnab" - --out "$work/run3" <"$work/events.jsonl") >"$work/sum3" 2>"$work/err3" || fail "run 3 (stdin): exit $?"
(cd "$work" && "$dnad" replay rules.dnab events.jsonl --out run4 --baseline rules.dnab) >"$work/sum4" 2>"$work/err4" || fail "run 4 (baseline): exit $?"

for r in run2 run3 run4; do
    for f in state.jsonl effects.jsonl; do
        cmp "$work/run1/$f" "$work/$r/$f" || fail "$r/$f differs from run1/$f"
    done
done
for s in sum2 sum3; do
    strip "$work/sum1" >"$work/a"; strip "$work/$s" >"$work/b"
    cmp -s "$work/a" "$work/b" || { fail "summary $s differs:"; diff "$work/a" "$work/b"; }
done
[ ! -s "$work/run4/diff.jsonl" ] || fail "a bundle against itself: diff.jsonl is not empty"
grep -q "^against the baseline: nothing would change$" "$work/sum4" || fail "a bundle against itself: $(grep "against the baseline" "$work/sum4")"
for e in err1 err2 err3 err4; do [ ! -s "$work/$e" ] || { fail "stderr of $e:"; head "$work/$e"; }; done

# the month must exercise the engine, or the comparison proves little
head -1 "$work/sum1"
sed -n 's/^effects: //p' "$work/sum1"
grep -q ", 0 rejected," "$work/sum1" || fail "the generated events have rejected lines: $(grep 'rejected line' "$work/sum1" | head -3)"
for kind in score intent capped signal alert overdue merge notify route assign task; do
    grep -q "^effects:.* $kind [1-9]" "$work/sum1" || fail "no '$kind' effect in the month"
done
echo "state.jsonl: $(wc -l <"$work/run1/state.jsonl") entities, effects.jsonl: $(wc -l <"$work/run1/effects.jsonl") effects"
[ $fails = 0 ] && { echo "ok determinism"; exit 0; }
exit 1
