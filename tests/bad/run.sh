#!/bin/sh
# bad/run.sh - dnac against hostile input.  Each case generates its input in a
# temporary directory (nothing large is kept in git), runs dnac under
# `timeout`, and wants one exit code and one precise message.  A crash, a
# hang or a sanitizer report fails the case.
#
#   sh run.sh DNAC CASE        (the cases are listed in tests/CMakeLists.txt)
set -u
dnac=$1 case=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1
MB10=10485760

# repeat STRING COUNT: STRING written COUNT times, no newline
repeat() { awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'; }

want_rc=1 args='' pattern='' reject=''
case $case in
binary_garbage)         # the first 64 KiB of an ELF executable: NULs, high bytes
    head -c 65536 "$dnac" >in.dna
    args=in.dna pattern='^in\.dna:1:[0-9]*: error\[E004\]: file is not UTF-8 \(byte 0x[0-9A-F][0-9A-F]\)$' ;;
control_bytes)          # valid UTF-8, but control characters and NUL
    printf 'module t\nconst A = 1\001\002\000\033[2J\n' >in.dna
    args=in.dna pattern='^in\.dna:2:12: error\[E005\]: invalid character \(byte 0x01\)$' ;;
long_line_name)         # one 10 MB line: a single name
    repeat x "$MB10" >in.dna
    args=in.dna pattern="^in\\.dna:1:1: error\\[E001\\]: unexpected name 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\$" ;;
long_line_list)         # one 10 MB line: a list of 800,000 strings, then a mistake
    { printf 'module t  const L = ['
      awk 'BEGIN { for (i = 0; i < 800000; i++) printf "\"item%d\", ", i }'
      printf '"end"]  const M = HOTT\n'; } >in.dna
    [ "$(wc -c <in.dna)" -gt "$MB10" ] || { echo "FAIL: generator made a short line"; exit 1; }
    args=in.dna pattern="^in\\.dna:1:[0-9]{8}: error\\[E013\\]: unknown name 'HOTT'\$" ;;
nested_parens)          # 10,000 nested parentheses
    { printf 'module t\nconst A = '; repeat '(' 10000; printf 1; repeat ')' 10000; echo; } >in.dna
    args=in.dna pattern='^in\.dna:2:267: error\[E006\]: nested too deeply \(the limit is 256 levels\)$' ;;
nested_brackets)        # 10,000 nested list brackets
    { printf 'module t\nconst A = '; repeat '[' 10000; printf 1; repeat ']' 10000; echo; } >in.dna
    args=in.dna pattern='^in\.dna:2:267: error\[E006\]: nested too deeply \(the limit is 256 levels\)$' ;;
many_nots)              # 10,000 `not` in a row
    { printf 'module t\nconst A = '; repeat 'not ' 10000; echo true; } >in.dna
    args=in.dna pattern='^in\.dna:2:[0-9]*: error\[E006\]: nested too deeply for the parser$'
    reject='out of memory' ;;     # the parser's stack limit is not an out-of-memory
many_minus)             # 10,000 unary minus in a row
    { printf 'module t\nconst A = '; repeat '- ' 10000; echo 1; } >in.dna
    args=in.dna pattern='^in\.dna:2:[0-9]*: error\[E006\]: nested too deeply for the parser$'
    reject='out of memory' ;;
unterminated_string)
    printf 'module t\nevent e { url: string }\nconst A = "no end\nconst B = 1\n' >in.dna
    args=in.dna pattern='^in\.dna:3:11: error\[E002\]: unterminated string$' ;;
unterminated_comment)
    printf 'module t\nconst A = 1\n/* open\nconst B = 2\n' >in.dna
    args=in.dna pattern='^in\.dna:3:1: error\[E003\]: unterminated comment$' ;;
not_utf8)               # Latin-1 e-acute inside a string
    printf 'module t\nconst NAME = "Ren\351"\n' >in.dna
    args=in.dna pattern='^in\.dna:2:18: error\[E004\]: file is not UTF-8 \(byte 0xE9\)$' ;;
utf8_overlong)          # an overlong encoding of '/'
    printf 'module t\nconst P = "\300\257etc"\n' >in.dna
    args=in.dna pattern='^in\.dna:2:12: error\[E004\]: file is not UTF-8 \(byte 0xC0\)$' ;;
utf8_surrogate)         # a UTF-16 surrogate encoded as UTF-8
    printf 'module t\nconst P = "\355\240\200"\n' >in.dna
    args=in.dna pattern='^in\.dna:2:12: error\[E004\]: file is not UTF-8 \(byte 0xED\)$' ;;
error_flood)            # 5,000 errors: at most 100 are shown, then a note
    { echo 'module t'; awk 'BEGIN { for (i = 0; i < 5000; i++) printf "const C%d = NOPE%d\n", i, i }'; } >in.dna
    args=in.dna pattern='^note: 4900 further diagnostics not shown \(at most 100 per file\)$' ;;
empty_file)             # an empty file is a valid (empty) program
    : >in.dna
    want_rc=0 args=in.dna pattern='' ;;
missing_file)
    want_rc=2 args=missing.dna
    pattern="^dnac: cannot read 'missing\\.dna': No such file or directory\$" ;;
empty_dir)
    mkdir rules && echo 'not rules' >rules/README.txt
    want_rc=2 args=rules pattern='^dnac: no \.dna files found in rules$' ;;
unknown_option)
    : >in.dna
    want_rc=2 args='--frobnicate in.dna' pattern="^dnac: unknown option '--frobnicate'\$" ;;
unknown_format)
    : >in.dna
    want_rc=2 args='--format xml in.dna' pattern="^dnac: unknown format 'xml' \\(text, json or github\\)\$" ;;
unknown_command)
    want_rc=2 args='' pattern="^dnac: unknown command 'chekc'\$" ;;
no_path)
    want_rc=2 args='' pattern='^dnac: no PATH given: name \.dna files or directories$' ;;
explain_unknown)
    want_rc=2 args='' pattern="^dnac: unknown code 'E999'\$" ;;
explain_known)
    want_rc=0 args='' pattern='' ;;
*)
    echo "FAIL: unknown case '$case'"; exit 1 ;;
esac

# shellcheck disable=SC2086  # args is a word list on purpose
case $case in
unknown_command) timeout 60 "$dnac" chekc $args ;;
explain_unknown) timeout 60 "$dnac" explain E999 ;;
explain_known)   timeout 60 "$dnac" explain E011 ;;
*)               timeout 60 "$dnac" check --no-color $args ;;
esac >out 2>err </dev/null
rc=$?

fail=
if [ "$rc" -eq 124 ]; then fail="dnac hung (killed after 60 s)"
elif [ "$rc" -gt 124 ]; then fail="dnac crashed (exit $rc)"
elif grep -q -e 'Sanitizer' -e 'runtime error:' err; then fail="sanitizer report"
elif [ "$rc" -ne "$want_rc" ]; then fail="exit $rc, want $want_rc"
elif [ -n "$pattern" ] && ! grep -E -q -- "$pattern" err; then fail="no message matching /$pattern/"
elif [ -n "$reject" ] && grep -q -- "$reject" err; then fail="a misleading message: '$reject'"
elif [ -z "$pattern" ] && [ "$want_rc" -eq 0 ] && [ -s err ]; then fail="unexpected output on stderr"
fi
if [ "$case" = explain_known ] && [ -z "$fail" ] && ! grep -q '^E011: unknown field$' out; then
    fail="explain E011 does not start with 'E011: unknown field'"
fi
if [ -n "$fail" ]; then
    echo "FAIL $case: $fail"
    echo "--- stderr (first 40 lines, cut at 300 columns):"
    head -n 40 err | cut -c1-300
    exit 1
fi
echo "ok $case (exit $rc)"
