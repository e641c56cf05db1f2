# lib.sh - shared by the daemon's tests (serve_test.sh, alerts_api.sh,
# approvals_api.sh, deliver.sh): the daemon on 127.0.0.1 (a free port it
# picks and logs), curl as client, sqlite3 to look at the store.
#
# Set before sourcing: dnad, dnac, src, work, case.  Leaves the shell in
# $work/$case with the shipped rules compiled to rules.dnab.
set -u
TOKEN=test-token-$$
export DNA_API_TOKEN=$TOKEN
rm -rf "$work/$case"
mkdir -p "$work/$case"
cd "$work/$case" || exit 2
pid=
fail() { echo "FAIL ($case): $*"; [ -f log ] && tail -n 20 log; [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; exit 1; }
trap '[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null' EXIT

"$dnac" compile "$src/rules" -o rules.dnab >/dev/null || fail "cannot compile the rules"

# start DB [ARGS...]: the daemon in the background; sets pid, port, base
start() {
    db=$1; shift
    : > log
    "$dnad" serve --bundle rules.dnab --db "sqlite:$db" --listen 127.0.0.1:0 "$@" 2>>log &
    pid=$!
    i=0
    port=
    while [ $i -lt 100 ]; do
        port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' log | head -n 1)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || fail "the daemon exited at start"
        sleep 0.05; i=$((i + 1))
    done
    [ -n "$port" ] || fail "the daemon did not log its port"
    base=http://127.0.0.1:$port
    i=0
    while [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" != 200 ]; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "not ready"
        sleep 0.05
    done
}
# code METHOD PATH [curl args...]: prints the status; the body goes to ./body
code() {
    m=$1 p=$2; shift 2
    curl -s -o body -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" "$@" "$base$p"
}
# anon METHOD PATH [curl args...]: the same without the token
anon() {
    m=$1 p=$2; shift 2
    curl -s -o body -w '%{http_code}' -X "$m" "$@" "$base$p"
}
expect() { [ "$1" = "$2" ] || fail "$3: got $1, want $2 ($(head -c 400 body 2>/dev/null))"; }
has() { grep -q "$1" body || fail "$2: $(head -c 600 body)"; }
hasnt() { grep -q "$1" body && fail "$2: $(head -c 600 body)"; return 0; }
# wait until no accepted event is pending
drain() {
    i=0
    while [ "$(sqlite3 "$1" "SELECT count(*) FROM events WHERE status='pending'")" != 0 ]; do
        i=$((i + 1)); [ $i -gt 600 ] && fail "events stay pending"
        sleep 0.05
    done
}
# settle DB: drain, then wait until the worker's idle advance has caught
# up with the latest occurred_at (for --lateness 0 --no-wall-clock: the
# timers replay fires at the end of its input have fired and committed)
settle() {
    drain "$1"
    i=0
    while [ "$(sqlite3 "$1" "SELECT (SELECT coalesce(max(value), -1e18) FROM meta WHERE key='watermark') >= (SELECT max(occurred_at) FROM events) - 999")" != 1 ]; do
        i=$((i + 1)); [ $i -gt 600 ] && fail "the watermark does not reach the last event"
        sleep 0.05
    done
}
# until_rows DB N: wait until the events table holds N rows (mid-ingest)
until_rows() {
    i=0
    while [ "$(sqlite3 "$1" "SELECT count(*) FROM events" 2>/dev/null || echo 0)" -lt "$2" ]; do
        i=$((i + 1)); [ $i -gt 2000 ] && fail "the ingest does not reach $2 rows"
        sleep 0.01
    done
}
stop() {
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    [ $rc = 0 ] || fail "exit status $rc after SIGTERM"
    grep -q '"msg":"stopped"' log || fail "no 'stopped' log line"
    pid=
}
# every stderr line is one JSON object
json_log() {
    while IFS= read -r l; do
        case $l in '{"ts":'*'}') ;; *) fail "log line is not a JSON object: $l" ;; esac
    done < log
}
# the effects table equals what replay gives over the accepted events
same_as_replay() {
    settle "$1"
    sqlite3 "$1" "SELECT body FROM events ORDER BY seq" > accepted.jsonl
    "$dnad" replay rules.dnab accepted.jsonl --out rep > rep.txt || fail "replay"
    sqlite3 "$1" "SELECT line FROM effects ORDER BY seq" > effects.jsonl
    cmp -s rep/effects.jsonl effects.jsonl || fail "effects differ from replay ($(wc -l < effects.jsonl) vs $(wc -l < rep/effects.jsonl))"
}
lead_ev() {  # lead_ev ID TYPE TIME EMAIL DATA
    printf '{"id":"%s","type":"%s","source":"portal","occurred_at":"%s","subject":{"entity":"lead","email":"%s"},"data":%s}' "$1" "$2" "$3" "$4" "$5"
}

# stub_start: start tests/tools/stub_http ($stub) logging to stub.jsonl;
# sets spid, sport and sbase (http://127.0.0.1:PORT)
stub_start() {
    "$stub" --port 0 --log stub.jsonl > stub.out 2> stub.err &
    spid=$!
    i=0
    sport=
    while [ -z "$sport" ] && [ $i -lt 100 ]; do
        sport=$(sed -n 's/^port \([0-9]*\)$/\1/p' stub.out)
        sleep 0.05; i=$((i + 1))
    done
    [ -n "$sport" ] || fail "stub_http did not start"
    sbase=http://127.0.0.1:$sport
}
