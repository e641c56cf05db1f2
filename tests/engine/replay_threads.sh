#!/bin/sh
# replay_threads.sh DNAC DNAD RULES EVENTS - replay the same events with one
# and with four parser threads: state.jsonl and effects.jsonl must be byte
# for byte the same (the engine is one thread whatever the parsing does).
set -eu
dnac=$1 dnad=$2 rules=$3 events=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$dnac" compile "$rules" -o "$tmp/b.dnab"
"$dnad" replay "$tmp/b.dnab" "$events" --out "$tmp/one" --threads 1 > "$tmp/one.txt"
"$dnad" replay "$tmp/b.dnab" "$events" --out "$tmp/four" --threads 4 > "$tmp/four.txt"
for f in state.jsonl effects.jsonl; do
    if ! cmp -s "$tmp/one/$f" "$tmp/four/$f"; then
        echo "FAIL: $f differs between 1 and 4 parser threads" >&2
        diff "$tmp/one/$f" "$tmp/four/$f" | head -5 >&2
        exit 1
    fi
done
test -s "$tmp/one/effects.jsonl" || { echo "FAIL: no effects at all" >&2; exit 1; }
echo "ok: $(wc -l < "$tmp/one/effects.jsonl") effects, $(wc -l < "$tmp/one/state.jsonl") entities, identical"
