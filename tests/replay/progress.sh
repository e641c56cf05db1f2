#!/bin/sh
# progress.sh - `dnad replay` shows its progress on stderr when stderr is a
# terminal (script(1) gives it one): lines, events/s, the share of the file
# read and the time left, rewritten in place and cleared at the end; with
# stderr not a terminal it prints nothing there.
#
#   sh progress.sh DNAC DNAD RULES_DIR EVENTS WORK_DIR
set -u
dnac=$1 dnad=$2 rules=$3 events=$4 work=$5
rm -rf "$work"; mkdir -p "$work" || exit 2
"$dnac" compile "$rules" -o "$work/b.dnab" || exit 1
# stdout to a file inside the terminal session: what is left is stderr
script -qec "'$dnad' replay '$work/b.dnab' '$events' --out '$work/out' >'$work/stdout'" /dev/null >"$work/tty" </dev/null
grep -q "^read 3597 lines" "$work/stdout" || { echo "FAIL: the summary is missing"; cat "$work/stdout"; exit 1; }
python3 - "$work/tty" <<'PY' || exit 1
import re, sys
raw = open(sys.argv[1], "rb").read().decode()
parts = raw.split("\r\x1b[K")
shown = [p for p in parts if p.strip()]
if not shown:
    print("FAIL: no progress line: %r" % raw); sys.exit(1)
for p in shown:
    if not re.fullmatch(r"replay: \d+ lines, \d+ events/s, \d+%, ETA \d+ s", p.strip()):
        print("FAIL: progress line %r" % p); sys.exit(1)
if not raw.endswith("\r\x1b[K"):
    print("FAIL: the line is not cleared at the end: %r" % raw[-40:]); sys.exit(1)
print("ok: %d progress line(s), e.g. %s" % (len(shown), shown[0].strip()))
PY
"$dnad" replay "$work/b.dnab" "$events" --out "$work/out2" >/dev/null 2>"$work/stderr"
[ ! -s "$work/stderr" ] || { echo "FAIL: stderr not a terminal, yet:"; cat "$work/stderr"; exit 1; }
echo "ok: nothing on stderr when it is not a terminal"
