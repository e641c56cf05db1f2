#!/bin/sh
# run_golden.sh DNAC LINT_DIR OUT_DIR - lint golden tests.
#
# cases/CODE.dna must report CODE, cases/CODE_ok.dna must report nothing
# (exit 0, no output); the whole output of each run (carets included) and
# its exit status are compared with expected/NAME.out.  Also: severities
# from a .dnalint (config/), a bad .dnalint (badconfig/), a program that
# does not check (broken/), and the json and github formats.
# UPDATE=1 rewrites the expected files instead of comparing.
set -u
dnac=$1 dir=$2 out=$3
rm -rf "$out" && mkdir -p "$out" || exit 2
fail=0 n=0

# run NAME SUBDIR ARGS... : output and exit status into OUT/NAME.out
run() {
    name=$1 sub=$2
    shift 2
    n=$((n + 1))
    (cd "$dir/$sub" && "$dnac" "$@") >"$out/$name.raw" 2>&1
    rc=$?
    sed "s|$dir/||g" "$out/$name.raw" >"$out/$name.out"     # paths relative to LINT_DIR
    echo "exit $rc" >>"$out/$name.out"
    if [ "${UPDATE:-}" = 1 ]; then cp "$out/$name.out" "$dir/expected/$name.out"; return; fi
    if ! diff -u "$dir/expected/$name.out" "$out/$name.out"; then echo "FAIL $name"; fail=1; fi
}

for f in "$dir"/cases/*.dna; do
    name=$(basename "$f" .dna)
    run "$name" cases lint --no-color "$name.dna"
    case $name in
    *_ok)
        if [ "$(cat "$out/$name.out")" != "exit 0" ]; then echo "FAIL $name: must report nothing"; fail=1; fi ;;
    *)
        code=${name%%_*}
        if ! grep -q "\[$code\]" "$out/$name.out"; then echo "FAIL $name: does not report $code"; fail=1; fi ;;
    esac
done
run config config lint --no-color rules
run badconfig badconfig lint --no-color case.dna
run broken broken lint --no-color broken.dna
run format_json cases lint --format json L005.dna
run format_github cases lint --format=github L009.dna
run explain cases explain L005
echo "lint golden: $n runs, $([ $fail = 0 ] && echo ok || echo FAILED)"
exit $fail
