#!/bin/sh
# run_golden.sh DNAC GOLDEN_DIR OUT_DIR - fmt golden tests.
#
# NAME.input is formatted (as OUT_DIR/NAME.dna) and must equal
# NAME.expected; the result must then pass `dnac fmt --check`, and the
# input must fail it exactly when it differs from the expected text.
# NAME.bad.input has a syntax error: fmt must refuse it (exit 1, file
# unchanged) and print the diagnostics in NAME.bad.expected.
set -u
dnac=$1 dir=$2 out=$3
rm -rf "$out" && mkdir -p "$out" || exit 2
fail=0 n=0
for in in "$dir"/*.input; do
    name=$(basename "$in" .input)
    n=$((n + 1))
    cp "$in" "$out/$name.dna"
    case $name in
    *.bad)
        (cd "$out" && "$dnac" fmt --no-color "$name.dna" >"$name.log" 2>&1)
        rc=$?
        if [ $rc -ne 1 ]; then echo "FAIL $name: exit $rc, want 1"; fail=1; fi
        if ! cmp -s "$in" "$out/$name.dna"; then echo "FAIL $name: a file with errors was changed"; fail=1; fi
        if ! diff -u "$dir/$name.expected" "$out/$name.log"; then echo "FAIL $name: diagnostics differ"; fail=1; fi
        continue ;;
    esac
    (cd "$out" && "$dnac" fmt --check "$name.dna" >"$name.check" 2>&1)
    rc=$?
    if cmp -s "$in" "$dir/$name.expected"; then want=0; else want=1; fi
    if [ $rc -ne $want ]; then echo "FAIL $name: fmt --check on the input exits $rc, want $want"; fail=1; fi
    (cd "$out" && "$dnac" fmt "$name.dna" >"$name.log" 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then echo "FAIL $name: fmt exits $rc"; cat "$out/$name.log"; fail=1; continue; fi
    if ! diff -u "$dir/$name.expected" "$out/$name.dna"; then echo "FAIL $name: output differs from $name.expected"; fail=1; fi
    (cd "$out" && "$dnac" fmt --check "$name.dna" >"$name.check2" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ -s "$out/$name.check2" ]; then echo "FAIL $name: formatted text fails fmt --check"; fail=1; fi
done
echo "fmt golden: $n cases, $([ $fail = 0 ] && echo ok || echo FAILED)"
exit $fail
