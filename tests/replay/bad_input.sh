#!/bin/sh
# bad_input.sh - `dnad replay` against bad input: every line is counted,
# rejected with its line number and reason, skipped; nothing crashes.
#
#   sh bad_input.sh DNAC DNAD CASE
#
# Cases (one ctest each, listed in tests/replay/CMakeLists.txt):
#   jsonsuite_lines   every JSONTestSuite test_parsing file as one line of a
#                     JSONL (files with a line break inside are skipped: they
#                     cannot be one line; whitespace-only files too: a blank
#                     line is not an event); n_ lines rejected as malformed
#                     JSON with their line numbers, y_ lines rejected as not
#                     being events, i_ lines either way; exit 0, --strict 1
#   jsonsuite_each    the same files one per replay: the reason of each
#   envelope          one bad envelope per replay (after a good line), each
#                     with its own reason at line 2
#   hostile           a 10 MB line, 100,000 nested brackets, a NUL byte,
#                     invalid UTF-8, CRLF line ends, no final newline, an
#                     empty file, events from stdin
#   strict            --strict: exit 1 with a rejected line, 0 without
#   io                missing events file, unreadable --out, bad --until,
#                     missing, garbage, truncated and corrupted bundles
#   duplicate_lines   a duplicate id is counted and its line number reported
#   markdown_lines    --format markdown lists the rejected lines too
# A sanitizer report on stderr fails any case.
set -u
dnac=$1 dnad=$2 case=$3
here=$(cd "$(dirname "$0")" && pwd)
suite=$here/../data/JSONTestSuite/test_parsing
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
sanitizer_clean() {     # FILE: no ASan/UBSan report in it
    if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' "$1"; then
        fail "sanitizer report:"; head -20 "$1"; return 1
    fi
    return 0
}
"$dnac" compile "$here/bad/rules.dna" -o "$tmp/b.dnab" >"$tmp/compile.txt" 2>&1 ||
    { echo "FAIL: bad/rules.dna does not compile"; cat "$tmp/compile.txt"; exit 1; }
B=$tmp/b.dnab

# replay FILE [OPTIONS...]: runs dnad, leaves stdout in $tmp/out.txt,
# stderr in $tmp/err.txt, the exit status in $rc
replay() {
    f=$1; shift
    "$dnad" replay "$B" "$f" --out "$tmp/out" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
    rc=$?
    sanitizer_clean "$tmp/err.txt"
    [ $rc -lt 128 ] || fail "dnad died of signal $((rc - 128)) on $f"
}

# onelines PREFIX OUT: the suite's PREFIX_* files that fit on one line,
# one per line of OUT; their names in OUT.names
onelines() {
    : >"$2"; : >"$2.names"
    for f in "$suite"/"$1"_*.json; do
        [ "$(wc -l <"$f")" -eq 0 ] || continue                       # a LF inside
        tr -d '\r' <"$f" | cmp -s - "$f" || continue                 # a CR inside
        [ -n "$(tr -d ' \t' <"$f" | head -c 1)" ] || continue       # blank
        cat "$f" >>"$2"; printf '\n' >>"$2"
        basename "$f" >>"$2.names"
    done
}

GOOD='{"id":"ok1","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}'

case $case in
jsonsuite_lines)
    [ -d "$suite" ] || { echo "FAIL: no $suite"; exit 1; }
    for p in n y i; do
        onelines $p "$tmp/$p.jsonl"
        n=$(wc -l <"$tmp/$p.jsonl")
        total=$(ls "$suite"/${p}_*.json | wc -l)
        echo "$p: $n of $total files fit on one line"
        replay "$tmp/$p.jsonl"
        [ $rc = 0 ] || fail "$p: exit $rc, want 0"
        case $p in
        n|y)
            grep -q "^read $n lines: 0 events, $n rejected, 0 duplicates, 0 late; 0 entities\$" "$tmp/out.txt" ||
                { fail "$p: want all $n lines rejected:"; head -3 "$tmp/out.txt"; }
            # the first 20 are listed with their line numbers, in order
            k=0
            while [ $k -lt 20 ] && [ $k -lt "$n" ]; do
                k=$((k + 1))
                line=$(grep "^  rejected line $k: " "$tmp/out.txt")
                [ -n "$line" ] || { fail "$p: line $k ($(sed -n ${k}p "$tmp/$p.jsonl.names")) not listed"; continue; }
                if [ $p = n ]; then
                    echo "$line" | grep -q "^  rejected line $k: malformed JSON" ||
                        fail "$p: line $k ($(sed -n ${k}p "$tmp/$p.jsonl.names")) rejected, but not as malformed: $line"
                else
                    echo "$line" | grep -q "malformed JSON" &&
                        fail "$p: line $k ($(sed -n ${k}p "$tmp/$p.jsonl.names")) is valid JSON: $line"
                fi
            done
            [ "$n" -le 20 ] || grep -q "^  \.\.\. and $((n - 20)) more rejected lines\$" "$tmp/out.txt" ||
                fail "$p: no '... and $((n - 20)) more rejected lines'"
            replay "$tmp/$p.jsonl" --strict
            [ $rc = 1 ] || fail "$p: --strict exit $rc, want 1" ;;
        i)
            grep -q "^read $n lines: 0 events, " "$tmp/out.txt" || { fail "i: want 0 events"; head -3 "$tmp/out.txt"; } ;;
        esac
    done ;;
jsonsuite_each)
    [ -d "$suite" ] || { echo "FAIL: no $suite"; exit 1; }
    for p in n y i; do
        onelines $p "$tmp/$p.jsonl"
        checked=0
        while IFS= read -r name; do
            tr -d '\n' <"$suite/$name" >"$tmp/one.jsonl"
            printf '\n' >>"$tmp/one.jsonl"
            replay "$tmp/one.jsonl"
            checked=$((checked + 1))
            case $p in
            n) grep -q "^  rejected line 1: malformed JSON" "$tmp/out.txt" ||
                   { fail "$name: not rejected as malformed JSON:"; head -2 "$tmp/out.txt"; } ;;
            y) grep -q "^read 1 lines: 0 events, 1 rejected" "$tmp/out.txt" ||
                   fail "$name: not rejected (it is no event)"
               grep -q "malformed JSON" "$tmp/out.txt" && fail "$name: valid JSON called malformed: $(grep rejected "$tmp/out.txt")" ;;
            i) grep -q "^read 1 lines: 0 events, 1 rejected" "$tmp/out.txt" || fail "$name: not rejected" ;;
            esac
            [ $rc = 0 ] || fail "$name: exit $rc"
        done <"$tmp/$p.jsonl.names"
        echo "$p: $checked files replayed one by one"
    done ;;
envelope)
    # REASON-PATTERN<TAB>LINE: each LINE replayed after a good event, the
    # summary must say "rejected line 2: " and match REASON-PATTERN
    cat >"$tmp/cases" <<'CASES'
^malformed JSON at column 	{"id":"m1","type":"page_visit",
^missing "type"$	{"id":"m2","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^"type" must be a string$	{"id":"m2b","type":null,"source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^unknown event type 'page_vist'$	{"id":"m3","type":"page_vist","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^"data.url" must be a string$	{"id":"m4","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":5}}
^"occurred_at" must be an RFC 3339 time stamp$	{"id":"m5","type":"page_visit","source":"portal","occurred_at":"2026-13-45T99:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^"occurred_at" must be an RFC 3339 time stamp$	{"id":"m5b","type":"page_visit","source":"portal","occurred_at":"2026-02-30T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^"occurred_at" must be an RFC 3339 time stamp$	{"id":"m5c","type":"page_visit","source":"portal","occurred_at":"2026-10-01T24:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^"occurred_at" must be an RFC 3339 time stamp$	{"id":"m5d","type":"page_visit","source":"portal","occurred_at":"yesterday","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^"occurred_at" must be an RFC 3339 time stamp$	{"id":"m5e","type":"page_visit","source":"portal","occurred_at":1759312800,"subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^missing "occurred_at"$	{"id":"m5f","type":"page_visit","source":"portal","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^unknown entity 'company' in subject$	{"id":"m7","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"company","domain":"x.com"},"data":{"url":"/"}}
^"subject.domain" is not an identity of any entity$	{"id":"m7b","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"domain":"x.com"},"data":{"url":"/"}}
^"subject.phone" is not an identity of lead$	{"id":"m7c","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","phone":"1"},"data":{"url":"/"}}
^"subject.email" must be a non-empty string$	{"id":"m7d","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":""},"data":{"url":"/"}}
^the subject names no identity$	{"id":"m7e","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead"},"data":{"url":"/"}}
^missing "subject" object$	{"id":"m7f","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","data":{"url":"/"}}
^"data.starts_at" must be an RFC 3339 time stamp$	{"id":"m11","type":"meeting_scheduled","source":"crm","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"starts_at":"tomorrow"}}
^"data.seats" must be an integer$	{"id":"m12","type":"meeting_scheduled","source":"crm","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"starts_at":"2026-10-02T10:00:00Z","seats":1.5}}
^"data.value" must be a number$	{"id":"m13","type":"meeting_scheduled","source":"crm","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"starts_at":"2026-10-02T10:00:00Z","value":"12"}}
^"data.online" must be true or false$	{"id":"m14","type":"meeting_scheduled","source":"crm","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"starts_at":"2026-10-02T10:00:00Z","online":1}}
^"data.value" is out of range$	{"id":"m15","type":"meeting_scheduled","source":"crm","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"starts_at":"2026-10-02T10:00:00Z","value":1e300}}
number overflow	{"id":"m15b","type":"meeting_scheduled","source":"crm","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"starts_at":"2026-10-02T10:00:00Z","value":1e400}}
too big integer	{"id":"m16","type":"meeting_scheduled","source":"crm","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"starts_at":"2026-10-02T10:00:00Z","seats":99999999999999999999}}
^"data.extra" is not a field of page_visit$	{"id":"m17","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/","extra":1}}
^"data.url" is missing$	{"id":"m18","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{}}
^"data" must be an object$	{"id":"m19","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":[1]}
^"id" must be a non-empty string$	{"id":17,"type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^missing "id"$	{"type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^"source" must be a string$	{"id":"m20","type":"page_visit","source":7,"occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/"}}
^an event is a JSON object$	[1,2,3]
^an event is a JSON object$	"just a string"
^malformed JSON	{"id":"m21","type":"page_visit"} trailing
CASES
    n=0
    while IFS='	' read -r want line; do
        n=$((n + 1))
        { echo "$GOOD"; echo "$line"; } >"$tmp/e.jsonl"
        replay "$tmp/e.jsonl"
        got=$(sed -n 's/^  rejected line 2: //p' "$tmp/out.txt")
        if ! grep -q "^read 2 lines: 1 events, 1 rejected" "$tmp/out.txt"; then
            fail "case $n: not exactly one rejection: $(head -1 "$tmp/out.txt") [$line]"
        elif ! printf '%s\n' "$got" | grep -Eq -- "$want"; then
            fail "case $n: reason '$got' does not match /$want/ [$line]"
        fi
        [ $rc = 0 ] || fail "case $n: exit $rc"
    done <"$tmp/cases"
    echo "$n envelopes checked" ;;
hostile)
    # a 10 MB url: accepted (no limit is promised), no crash
    { printf '{"id":"big","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"'
      head -c 10485760 /dev/zero | tr '\0' 'x'; printf '"}}\n'; } >"$tmp/big.jsonl"
    replay "$tmp/big.jsonl"
    grep -q "^read 1 lines: 1 events, 0 rejected" "$tmp/out.txt" || fail "10 MB line: $(head -1 "$tmp/out.txt")"
    # 100,000 nested brackets inside data
    { printf '{"id":"deep","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":'
      head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; printf '}}\n'; } >"$tmp/deep.jsonl"
    replay "$tmp/deep.jsonl"
    grep -q "^  rejected line 1: malformed JSON .*nested deeper than" "$tmp/out.txt" || fail "deep nesting: $(sed -n 2p "$tmp/out.txt")"
    # a NUL byte inside a string, invalid UTF-8 inside a string
    printf '%s\n{"id":"nul","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a@x"},"data":{"url":"/a\000b"}}\n{"id":"utf","type":"page_visit","source":"portal","occurred_at":"2026-10-01T10:00:00Z","subject":{"entity":"lead","email":"a\377@x"},"data":{"url":"/"}}\n' "$GOOD" >"$tmp/bytes.jsonl"
    replay "$tmp/bytes.jsonl"
    grep -q "^read 3 lines: 1 events, 2 rejected" "$tmp/out.txt" || fail "NUL/UTF-8: $(head -1 "$tmp/out.txt")"
    grep -q "^  rejected line 2: malformed JSON.*NUL" "$tmp/out.txt" || fail "NUL: $(grep 'line 2' "$tmp/out.txt")"
    grep -q "^  rejected line 3: malformed JSON" "$tmp/out.txt" || fail "UTF-8: $(grep 'line 3' "$tmp/out.txt")"
    # CRLF line ends, blank lines, no newline at the end: three events
    printf '%s\r\n\r\n   \n%s\r\n%s' "$GOOD" "$(echo "$GOOD" | sed 's/ok1/ok2/')" "$(echo "$GOOD" | sed 's/ok1/ok3/')" >"$tmp/crlf.jsonl"
    replay "$tmp/crlf.jsonl"
    grep -q "^read 5 lines: 3 events, 0 rejected, 0 duplicates" "$tmp/out.txt" || fail "CRLF: $(head -1 "$tmp/out.txt")"
    [ "$(wc -l <"$tmp/out/state.jsonl")" = 1 ] || fail "CRLF: want one lead"
    # an empty file
    : >"$tmp/empty.jsonl"
    replay "$tmp/empty.jsonl"
    { [ $rc = 0 ] && grep -q "^read 0 lines: 0 events" "$tmp/out.txt"; } || fail "empty file: exit $rc, $(head -1 "$tmp/out.txt")"
    [ -f "$tmp/out/state.jsonl" ] && [ ! -s "$tmp/out/state.jsonl" ] || fail "empty file: want an empty state.jsonl"
    # events on stdin
    echo "$GOOD" | "$dnad" replay "$B" - --out "$tmp/out" >"$tmp/out.txt" 2>"$tmp/err.txt"
    grep -q "^read 1 lines: 1 events" "$tmp/out.txt" || fail "stdin: $(head -1 "$tmp/out.txt")" ;;
strict)
    printf '%s\n{"broken\n' "$GOOD" >"$tmp/bad.jsonl"
    replay "$tmp/bad.jsonl" --strict
    [ $rc = 1 ] || fail "--strict with a rejected line: exit $rc, want 1"
    [ -s "$tmp/out/state.jsonl" ] || fail "--strict: the outputs are still written"
    grep -q "^  rejected line 2: malformed JSON" "$tmp/out.txt" || fail "--strict: the summary lists line 2"
    echo "$GOOD" >"$tmp/good.jsonl"
    replay "$tmp/good.jsonl" --strict
    [ $rc = 0 ] || fail "--strict, clean file: exit $rc, want 0"
    printf '%s\n%s\n' "$GOOD" "$GOOD" >"$tmp/dup.jsonl"
    replay "$tmp/dup.jsonl" --strict
    [ $rc = 0 ] || fail "--strict: a duplicate is accepted and ignored (architecture brief), exit $rc"
    replay "$tmp/bad.jsonl"
    [ $rc = 0 ] || fail "no --strict: exit $rc, want 0" ;;
io)
    echo "$GOOD" >"$tmp/good.jsonl"
    replay "$tmp/nonexistent.jsonl"
    [ $rc = 2 ] || fail "missing events file: exit $rc, want 2"
    grep -q "cannot read '$tmp/nonexistent.jsonl': No such file or directory" "$tmp/err.txt" || fail "missing events file: $(cat "$tmp/err.txt")"
    replay "$tmp"                                   # a directory
    [ $rc = 2 ] || fail "events file is a directory: exit $rc, want 2"
    [ -s "$tmp/err.txt" ] || fail "events file is a directory: no message"
    : >"$tmp/afile"
    "$dnad" replay "$B" "$tmp/good.jsonl" --out "$tmp/afile" >"$tmp/out.txt" 2>"$tmp/err.txt"; rc=$?
    [ $rc = 2 ] || fail "--out is a file: exit $rc, want 2"
    grep -q "cannot" "$tmp/err.txt" || fail "--out is a file: $(cat "$tmp/err.txt")"
    "$dnad" replay "$B" "$tmp/good.jsonl" --out "$tmp/out" --until tomorrow >"$tmp/out.txt" 2>"$tmp/err.txt"; rc=$?
    [ $rc = 2 ] || fail "--until tomorrow: exit $rc, want 2"
    grep -q "until needs an RFC 3339 time" "$tmp/err.txt" || fail "--until: $(cat "$tmp/err.txt")"
    "$dnad" replay "$B" "$tmp/good.jsonl" >"$tmp/out.txt" 2>"$tmp/err.txt"; rc=$?
    [ $rc = 2 ] || fail "no --out: exit $rc, want 2"
    # bundles: missing (I/O: 2), garbage, truncated, one byte flipped (refused: 1)
    for kind in missing garbage truncated flipped empty; do
        bb=$tmp/$kind.dnab
        case $kind in
        missing) bb=$tmp/nonexistent.dnab; want=2 ;;
        garbage) head -c 4096 "$dnad" >"$bb"; want=1 ;;
        truncated) size=$(wc -c <"$B"); head -c $((size / 2)) "$B" >"$bb"; want=1 ;;
        flipped) size=$(wc -c <"$B"); cp "$B" "$bb"
                 printf '\377' | dd of="$bb" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null; want=1 ;;
        empty) : >"$bb"; want=1 ;;
        esac
        "$dnad" replay "$bb" "$tmp/good.jsonl" --out "$tmp/out-$kind" >"$tmp/out.txt" 2>"$tmp/err.txt"; rc=$?
        sanitizer_clean "$tmp/err.txt"
        [ $rc = $want ] || fail "$kind bundle: exit $rc, want $want"
        grep -q "refusing bundle" "$tmp/err.txt" || fail "$kind bundle: $(cat "$tmp/err.txt")"
        [ ! -e "$tmp/out-$kind/state.jsonl" ] || fail "$kind bundle: state.jsonl written"
        "$dnad" replay "$B" "$tmp/good.jsonl" --out "$tmp/out-$kind" --baseline "$bb" >"$tmp/out.txt" 2>"$tmp/err.txt"; rc=$?
        [ $rc = $want ] || fail "$kind baseline: exit $rc, want $want"
    done ;;
duplicate_lines)
    printf '%s\n%s\n' "$GOOD" "$GOOD" >"$tmp/dup.jsonl"
    replay "$tmp/dup.jsonl"
    grep -q "^read 2 lines: 1 events, 0 rejected, 1 duplicates" "$tmp/out.txt" || fail "count: $(head -1 "$tmp/out.txt")"
    grep -q "line 2.*duplicate\|duplicate.*line 2" "$tmp/out.txt" || { fail "the duplicate's line number (2) is not reported:"; cat "$tmp/out.txt"; } ;;
markdown_lines)
    printf '%s\n{"broken\n' "$GOOD" >"$tmp/bad.jsonl"
    replay "$tmp/bad.jsonl" --format markdown
    grep -q "| rejected | 1 |" "$tmp/out.txt" || fail "markdown: no rejected count"
    grep -q "line 2" "$tmp/out.txt" || { fail "markdown: rejected line 2 not listed:"; cat "$tmp/out.txt"; } ;;
*)
    echo "unknown case '$case'"; exit 2 ;;
esac
[ $fails = 0 ] && { echo "ok $case"; exit 0; }
echo "$fails failure(s) in $case"
exit 1
