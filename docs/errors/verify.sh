#!/bin/sh
# verify.sh - each docs/errors/EXXX.dna must make `dnac check` report EXXX
# and no other code; the examples in docs/language.md are these files.
#   usage: docs/errors/verify.sh [path/to/dnac]     (default: build/dnac)
dnac=${1:-build/dnac}
dir=$(dirname "$0")
fail=0
for f in "$dir"/E*.dna; do
    code=$(basename "$f" .dna)
    got=$("$dnac" check --format json "$f" | grep -o '"code":"E[0-9]*"' | sort -u | tr -d '"' | sed 's/code://' | tr '\n' ' ')
    if [ "$got" != "$code " ]; then
        echo "FAIL $code: got '${got% }'"
        fail=$((fail + 1))
    fi
done
n=$(ls "$dir"/E*.dna | wc -l)
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
