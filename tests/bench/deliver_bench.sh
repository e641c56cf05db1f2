#!/bin/sh
# deliver_bench.sh - how fast `dnad serve` delivers its outbox (not a test).
#
#   tests/bench/deliver_bench.sh [BUILD_DIR] [EFFECTS]     (default build, 3000)
#
# The rules of tests/serve/deliver: every ping is one signed webhook.  For
# a local server (tests/tools/stub_http) answering at once and after 50
# ms, it starts the daemon on a fresh store, posts EFFECTS pings in
# batches, and waits until every outbox row is sent.  It prints
# deliveries/s from the first request to the last as the server saw them,
# with the daemon's concurrency (16 in flight per connector, 64 in all).
# Intake and processing run at the same time; in the same run it prints
# the intake alone (the same pings with delivery off) as the baseline.
set -eu
build=${1:-build}
n=${2:-3000}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pid= spid=
trap 'kill "$pid" "$spid" 2>/dev/null; rm -rf "$work"' EXIT
"$build/dnac" compile "$src/tests/serve/deliver/rules.dna" -o "$work/rules.dnab" >/dev/null
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"id\":\"p%d\",\"type\":\"ping\",\"source\":\"bench\",\"occurred_at\":\"2026-10-01T08:%02d:%02dZ\",\"subject\":{\"entity\":\"lead\",\"email\":\"l%d@x\"},\"data\":{\"n\":%d}}\n",
           i, int(i / 60) % 60, i % 60, i % 500, i }' > "$work/pings.jsonl"
export DNA_API_TOKEN=bench DL_HOOK_SECRET=whsec_c2VjcmV0
ms() { date +%s%3N; }
daemon() {  # daemon ARGS...: a fresh store; sets pid, port
    rm -f "$work"/b.db*
    "$build/dnad" serve --bundle "$work/rules.dnab" --db "sqlite:$work/b.db" --listen 127.0.0.1:0 --no-wall-clock "$@" 2>"$work/log" &
    pid=$!
    port=
    while [ -z "$port" ]; do sleep 0.05; port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/log"); done
}
sent() { sqlite3 "$work/b.db" "SELECT count(*) FROM outbox WHERE status = 'sent'"; }
run() {     # run DELAY_MS
    "$build/tests/tools/stub_http" --port 0 --log "$work/stub.jsonl" --delay-ms "$1" > "$work/stub.out" &
    spid=$!
    sport=
    while [ -z "$sport" ]; do sleep 0.05; sport=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$work/stub.out"); done
    export DL_HOOK_URL="http://127.0.0.1:$sport/hook"
    daemon
    t0=$(ms)
    "$build/tests/serve/post_events" "http://127.0.0.1:$port" bench "$work/pings.jsonl" "$work/out" --conns 4 --batch 50 > /dev/null
    while [ "$(sent)" -lt "$n" ]; do sleep 0.05; done
    t1=$(ms)
    first=$(head -n 1 "$work/stub.jsonl" | sed 's/.*"t":\([0-9]*\).*/\1/')
    last=$(tail -n 1 "$work/stub.jsonl" | sed 's/.*"t":\([0-9]*\).*/\1/')
    got=$(wc -l < "$work/stub.jsonl")
    awk -v n="$n" -v got="$got" -v d="$1" -v a="$first" -v b="$last" -v t="$((t1 - t0))" 'BEGIN {
        printf "server answering after %3d ms: %d effects, %d requests, %.0f deliveries/s (first to last request), %.0f effects/s end to end\n",
               d, n, got, n / ((b - a) / 1000.0), n / (t / 1000.0) }'
    kill -TERM "$pid"; wait "$pid" || true
    kill "$spid"; wait "$spid" || true
    rm -f "$work/stub.jsonl"
}
echo "deliver_bench: $n webhook effects, $(nproc) cores"
daemon --no-delivery
t0=$(ms)
"$build/tests/serve/post_events" "http://127.0.0.1:$port" bench "$work/pings.jsonl" "$work/out" --conns 4 --batch 50 > /dev/null
while [ "$(sqlite3 "$work/b.db" "SELECT count(*) FROM outbox")" -lt "$n" ]; do sleep 0.05; done
t1=$(ms)
echo "baseline, delivery off: intake and processing $(awk -v n="$n" -v t="$((t1 - t0))" 'BEGIN { printf "%.0f", n / (t / 1000.0) }') effects/s into the outbox"
kill -TERM "$pid"; wait "$pid" || true
run 0
run 50
