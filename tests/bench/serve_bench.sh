#!/bin/sh
# serve_bench.sh - how fast `dnad serve` makes events durable (not a test).
#
#   tests/bench/serve_bench.sh [BUILD_DIR] [EVENTS]     (default build, 20000)
#
# Generates EVENTS events (gen_events), starts the daemon on a fresh SQLite
# file on a free port, and drives POST /v1/events with post_events over
# keep-alive connections: single envelopes from 4 and 64 connections, then
# batches of 20 from 16; each run prints durable events/s and the p50/p99
# latency to the answer (202 only after COMMIT), and the batch run compares
# with GET /healthz on one connection.  The last two runs offer a fixed
# load (--rate) for the latency at half the goal of 20,000 events/s; the
# very last measures how fast the worker runs the events meanwhile.  The client runs on the same machine.
set -eu
build=${1:-build}
n=${2:-20000}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$build/dnac" compile "$src/rules" -o "$work/rules.dnab" >/dev/null
"$build/tests/tools/gen_events" --events "$n" --leads $((n / 10)) > "$work/events.jsonl"
export DNA_API_TOKEN=bench
run() {     # run NAME ARGS...: a fresh store each time
    name=$1; shift
    rm -f "$work"/b.db*
    "$build/dnad" serve --bundle "$work/rules.dnab" --db "sqlite:$work/b.db" --listen 127.0.0.1:0 --no-wall-clock 2>"$work/log" &
    pid=$!
    port=
    while [ -z "$port" ]; do sleep 0.05; port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/log"); done
    printf '%-28s ' "$name:"
    "$build/tests/serve/post_events" "http://127.0.0.1:$port" bench "$work/events.jsonl" "$work/out" "$@" | sed 's/^post_events: //'
    kill -TERM "$pid"; wait "$pid" || true
}
echo "serve_bench: $(wc -l < "$work/events.jsonl") events, $(nproc) cores"
run "single, 4 connections" --conns 4
run "single, 64 connections" --conns 64
run "batches of 20, 16 conns" --conns 16 --batch 20 --healthz
run "batches of 20 at 10,000/s" --conns 16 --batch 20 --rate 10000
run "single at 2,000/s, 64 conns" --conns 64 --rate 2000

# processing: post everything in batches as fast as possible, then wait
# until the worker has run every event (it shares the cores and the
# store's write lock with the intake meanwhile)
rm -f "$work"/b.db*
"$build/dnad" serve --bundle "$work/rules.dnab" --db "sqlite:$work/b.db" --listen 127.0.0.1:0 --no-wall-clock 2>"$work/log" &
pid=$!
port=
while [ -z "$port" ]; do sleep 0.05; port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/log"); done
t0=$(date +%s%3N)
"$build/tests/serve/post_events" "http://127.0.0.1:$port" bench "$work/events.jsonl" "$work/out" --conns 16 --batch 20 > /dev/null
while [ "$(sqlite3 "$work/b.db" "SELECT count(*) FROM events WHERE status = 'pending'")" != 0 ]; do sleep 0.05; done
t1=$(date +%s%3N)
printf '%-28s %s\n' "processed, intake flat out:" "$(awk -v n="$(wc -l < "$work/events.jsonl")" -v t=$((t1 - t0)) \
    'BEGIN { printf "every event run %.2f s after the first post: %.0f events/s processed", t / 1000, n / (t / 1000) }')"
kill -TERM "$pid"; wait "$pid" || true
