#!/bin/sh
# stub_http_test.sh - the scripted test server answers as scripted, logs
# every request, delays and hangs without blocking others, and stops
# cleanly on SIGTERM.
#
#   stub_http_test.sh STUB_HTTP WORKDIR
set -u
stub=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 2
fail() { echo "FAIL: $*"; [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; exit 1; }
command -v curl >/dev/null || fail "curl is needed"

"$stub" --port 0 --log log.jsonl --threads 2 > out 2> err &
pid=$!
i=0
port=
while [ $i -lt 100 ]; do
    port=$(sed -n 's/^port \([0-9]*\)$/\1/p' out)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "stub_http exited at start: $(cat err)"
    sleep 0.05; i=$((i + 1))
done
[ -n "$port" ] || fail "no 'port N' line"
base=http://127.0.0.1:$port

# req ARGS...: "STATUS|RETRY-AFTER|LOCATION|BODY" of one request
req() {
    curl -s -D hdrs -o body "$@" >/dev/null || fail "curl failed: $*"
    st=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' hdrs)
    ra=$(tr -d '\r' < hdrs | sed -n 's/^[Rr]etry-[Aa]fter: //p')
    loc=$(tr -d '\r' < hdrs | sed -n 's/^[Ll]ocation: //p')
    echo "$st|$ra|$loc|$(cat body)"
}
expect() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }

# the default answer
expect "$(req "$base/hook")" '200|||{"ok":true}' "default answer"

# a script: consumed in order by any path, then the default again
printf '429 retry-after=2\n201 {"id":"cus_1"}\n# a comment\n\n503\n410\n302 location=/elsewhere\n429 retry-after-date=+3\n500 {"error":"boom"}\n' > script
expect "$(curl -s -X PUT --data-binary @script "$base/_script")" "7" "script accepted"
expect "$(req -X POST -H 'Content-Type: application/json' -H 'Idempotency-Key: fx-1' --data-binary '{"a":"x\"y"}' "$base/hook")" \
    '429|2||{"error":"status 429"}' "429 with retry-after"
expect "$(req -X POST --data-binary 'plain' "$base/customers")" '201|||{"id":"cus_1"}' "201 with a body"
expect "$(req "$base/x")" '503|||{"error":"status 503"}' "503"
expect "$(req "$base/x")" '410|||{"error":"status 410"}' "410"
expect "$(req "$base/x")" '302||/elsewhere|{"error":"status 302"}' "302 with location"
r=$(req "$base/x")
case "$r" in
    "429|"[A-Z][a-z][a-z]", "*" GMT||"*) ;;
    *) fail "429 with an HTTP-date: $r" ;;
esac
when=$(echo "$r" | cut -d'|' -f2)
delta=$(( $(date -u -d "$when" +%s) - $(date -u +%s) ))
[ "$delta" -ge 1 ] && [ "$delta" -le 3 ] || fail "retry-after-date is $delta s ahead, want about 3"
expect "$(req "$base/x")" '500|||{"error":"boom"}' "500 with a body"
expect "$(req "$base/x")" '200|||{"ok":true}' "script used up: the default"

# a new default; a bad script line is refused and changes nothing
expect "$(curl -s -X PUT --data-binary '503 retry-after=1' "$base/_default")" "ok" "default set"
expect "$(req "$base/x")" '503|1||{"error":"status 503"}' "the new default"
expect "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary "$(printf '200\nbogus\n')" "$base/_script")" 400 "bad script"
expect "$(req "$base/x")" '503|1||{"error":"status 503"}' "the bad script changed nothing"
curl -s -X PUT --data-binary '200' "$base/_default" >/dev/null

# the count and the log: one JSON line per non-control request
expect "$(curl -s "$base/_count")" 11 "count"
expect "$(curl -s "$base/_log" | wc -l)" 11 "log lines"
expect "$(wc -l < log.jsonl)" 11 "log file lines"
line=$(sed -n 2p log.jsonl)
case "$line" in
    '{"t":'[0-9]*',"method":"POST","path":"/hook","headers":{'*'},"body":"{\"a\":\"x\\\"y\"}"}') ;;
    *) fail "log line: $line" ;;
esac
case "$line" in *'"idempotency-key":"fx-1"'*) ;; *) fail "log line lacks the idempotency key: $line" ;; esac
case "$line" in *'"content-type":"application/json"'*) ;; *) fail "log line lacks the content type: $line" ;; esac
if command -v python3 >/dev/null; then
    python3 -c 'import json,sys
for l in open(sys.argv[1]): json.loads(l)' log.jsonl || fail "the log is not JSON lines"
fi

# hang: answers after the time; others are not held up meanwhile
printf 'hang 1500\n' | curl -s -X PUT --data-binary @- "$base/_script" >/dev/null
t0=$(date +%s%N)
curl -s -o hung "$base/slow" &
cpid=$!
sleep 0.2
t1=$(date +%s%N)
expect "$(req "$base/fast")" '200|||{"ok":true}' "answer during a hang"
t2=$(date +%s%N)
[ $(( (t2 - t1) / 1000000 )) -lt 1000 ] || fail "a hang held up another request"
wait $cpid
t3=$(date +%s%N)
expect "$(cat hung)" '{"ok":true}' "hung answer"
ms=$(( (t3 - t0) / 1000000 ))
[ "$ms" -ge 1400 ] || fail "hang answered after $ms ms"
# past a client timeout: curl gives up (28), the server stays well
printf 'hang 3000\n' | curl -s -X PUT --data-binary @- "$base/_script" >/dev/null
curl -s -m 0.5 -o /dev/null "$base/timeout"
expect "$?" 28 "client timeout"
expect "$(req "$base/after")" '200|||{"ok":true}' "alive after a client gave up"

# reset
curl -s -X POST "$base/_reset" >/dev/null
expect "$(curl -s "$base/_count")" 0 "count after reset"
expect "$(wc -c < log.jsonl | tr -d ' ')" 0 "log after reset"

# SIGTERM with a request waiting: it is answered, the server exits 0
printf 'hang 20000\n' | curl -s -X PUT --data-binary @- "$base/_script" >/dev/null
curl -s -o last "$base/pending" &
cpid=$!
sleep 0.3
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "no exit within 5 s of SIGTERM"
    sleep 0.05
done
wait "$pid"
expect "$?" 0 "exit status"
pid=
wait $cpid
expect "$(cat last)" '{"ok":true}' "the waiting request was answered at stop"
echo "stub_http: ok"
