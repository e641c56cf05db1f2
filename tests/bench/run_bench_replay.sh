#!/bin/sh
# run_bench_replay.sh - `dnad replay` against its peers, in one run.
#
#   sh tests/bench/run_bench_replay.sh [BUILD_DIR [EVENTS [LEADS [RUNS]]]]
#        defaults: build, 1000000 events, 50000 leads, 5 runs
#
# The rules: tests/bench/bench_rules.dna (18 rules).  The events: written by
# `bench_replay --generate-bench` into BUILD_DIR/tests/bench/ (kept there for
# the next run, never committed).  Each run times, as whole processes, with
# their peak RSS (/usr/bin/time):
#   dnad-t1   dnad replay --effects all --out DIR --threads 1
#   dnad-t2   the same with --threads 2
#   dnad-ext  the same, default threads, --effects external (the outbox only)
#   node      tests/bench/peer/bench_rules.js, the rules in plain JavaScript
#   jansson   bench_jansson: json_loadb + json_decref per line, one thread
# and prints the medians over RUNS: wall seconds, events/s, CPU seconds
# (user + system, all threads: what a busy machine cannot inflate as much
# as the wall), peak RSS, peak RSS per lead and per event, and the ratios
# dnad/node, dnad/jansson.
# BENCH_BASELINE=DIR (another build tree, e.g. of main) adds base-t1 and
# base-t2: its dnad timed the same way in the same runs, for before/after.
# Then once, in process, bench_replay --file: the engine's own state bytes
# per lead (store_mem_bytes).  Use a Release build for figures worth quoting.
# ctest runs it once at a tiny size (bench/replay_smoke, label bench): the
# script works, its figures mean nothing there.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
events=${2:-1000000}
leads=${3:-50000}
runs=${4:-5}
case "$build" in /*) ;; *) build=$(pwd)/$build ;; esac
for t in /usr/bin/time node; do
    command -v "$t" >/dev/null 2>&1 || { echo "run_bench_replay: needs $t" >&2; exit 2; }
done
# BENCH_NO_BUILD=1: the targets are built already (the ctest smoke run)
[ "${BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$build" --target dnac dnad bench_replay bench_jansson >/dev/null
dnac=$build/dnac dnad=$build/dnad bench=$build/tests/bench
data=$bench/bench_events_${events}_$leads.jsonl
[ -s "$data" ] || "$bench/bench_replay" --generate-bench "$data" "$events" "$leads"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$root/tests/bench" && "$dnac" compile bench_rules.dna -o "$tmp/rules.dnab")

# one timed process: NAME COMMAND...; appends "NAME SECONDS KB USER SYS" to $tmp/times
timed() {
    name=$1
    shift
    rm -rf "$tmp/out"
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tmp/t" "$@" >"$tmp/stdout" 2>"$tmp/stderr"; then
        echo "run_bench_replay: $name failed:" >&2
        cat "$tmp/stderr" >&2
        exit 1
    fi
    echo "$name $(cat "$tmp/t")" >>"$tmp/times"
}

: >"$tmp/times"
per=5
[ -n "${BENCH_BASELINE:-}" ] && per=7
i=0
while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    timed dnad-t1 "$dnad" replay "$tmp/rules.dnab" "$data" --out "$tmp/out" --effects all --threads 1
    timed dnad-t2 "$dnad" replay "$tmp/rules.dnab" "$data" --out "$tmp/out" --effects all --threads 2
    timed dnad-ext "$dnad" replay "$tmp/rules.dnab" "$data" --out "$tmp/out" --effects external
    if [ -n "${BENCH_BASELINE:-}" ]; then
        timed base-t1 "$BENCH_BASELINE/dnad" replay "$tmp/rules.dnab" "$data" --out "$tmp/out" --threads 1
        timed base-t2 "$BENCH_BASELINE/dnad" replay "$tmp/rules.dnab" "$data" --out "$tmp/out" --threads 2
    fi
    timed node node "$root/tests/bench/peer/bench_rules.js" "$data" "$tmp/out"
    timed jansson "$bench/bench_jansson" "$data"
    echo "run $i/$runs: $(tail -n "$per" "$tmp/times" | awk '{printf "%s %.2fs  ", $1, $2}')"
done

# the counts of the last dnad run (events, entities) for the per-event and per-lead figures
"$dnad" replay "$tmp/rules.dnab" "$data" --out "$tmp/out" --effects all >"$tmp/summary"
nev=$(sed -n 's/^read [0-9]* lines: \([0-9]*\) events.*/\1/p' "$tmp/summary")
nent=$(sed -n 's/.*; \([0-9]*\) entities$/\1/p' "$tmp/summary")
effbytes=$(wc -c <"$tmp/out/effects.jsonl")
lines=$(wc -l <"$data")

echo
echo "replay benchmark: $lines lines ($nev events, $nent leads) of $(basename "$data"), tests/bench/bench_rules.dna;"
echo "effects.jsonl $((effbytes / 1000000)) MB; medians of $runs runs"
awk -v nev="$nev" -v nent="$nent" -v lines="$lines" -v base="${BENCH_BASELINE:+1}" '
function median(name,   n, i, j, t, a) {
    n = 0
    for (i = 1; i <= cnt; i++) if (nm[i] == name) a[++n] = val[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ cnt++; nm[cnt] = $1; val[cnt] = $2; kb[cnt] = $3; cpu[cnt] = $4 + $5 }
END {
    nn = split(base ? "dnad-t1 dnad-t2 dnad-ext base-t1 base-t2 node jansson" : "dnad-t1 dnad-t2 dnad-ext node jansson", names, " ")
    printf "  %-9s %9s %12s %8s %10s %10s %10s\n", "", "wall s", "events/s", "cpu s", "peak MB", "B/lead", "B/event"
    for (k = 1; k <= nn; k++) {
        s = median(names[k])
        for (i = 1; i <= cnt; i++) { tmpv[i] = val[i]; val[i] = kb[i] }
        m = median(names[k])
        for (i = 1; i <= cnt; i++) val[i] = cpu[i]
        c = median(names[k])
        for (i = 1; i <= cnt; i++) val[i] = tmpv[i]
        wall[names[k]] = s
        n = names[k] == "jansson" ? lines : nev
        printf "  %-9s %9.2f %12.0f %8.2f %10.1f %10.0f %10.0f\n", names[k], s, n / s, c, m / 1024, m * 1024 / nent, m * 1024 / n
    }
    printf "  ratios (events/s): dnad-t1/node %.2f, dnad-t2/node %.2f, dnad-t1/jansson %.2f, dnad-t2/jansson %.2f\n",
        wall["node"] / wall["dnad-t1"], wall["node"] / wall["dnad-t2"],
        (nev / wall["dnad-t1"]) / (lines / wall["jansson"]), (nev / wall["dnad-t2"]) / (lines / wall["jansson"])
    if (base) printf "  against the baseline (wall): t1 %.2fx, t2 %.2fx faster\n", wall["base-t1"] / wall["dnad-t1"], wall["base-t2"] / wall["dnad-t2"]
    printf "  goals: >= 300000 events/s, >= 5x node, peak RSS <= 150 MB\n"
}' "$tmp/times"
echo
"$bench/bench_replay" --file "$data" "$tmp/rules.dnab" | sed -n 's/^  \(state\|peak RSS\|of which\)/  in process: \1/p'
