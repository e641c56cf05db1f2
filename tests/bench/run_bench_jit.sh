#!/bin/sh
# run_bench_jit.sh - build bench_jit, compile the shipped rules, generate
# events with bench_replay, and run bench_jit on them (tests/bench/bench_jit.c):
# conditions (interpreter, JIT, C), compile times, replay with and without
# the JIT; medians of 5.
#
#   sh tests/bench/run_bench_jit.sh [BUILD_DIR [EVENTS [LEADS [ITERATIONS]]]]
#        defaults: build, 100000 events, 10000 leads, 5000000 evaluations
# Use a Release build (the default build type) for figures worth quoting.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
events=${2:-100000}
leads=${3:-10000}
iters=${4:-5000000}
cmake --build "$build" --target dnac bench_replay bench_jit >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$root" && "$build/compiler/dnac/dnac" compile rules -o "$tmp/rules.dnab")
"$build/tests/bench/bench_replay" --generate "$tmp/events.jsonl" "$events" "$leads" >/dev/null
"$build/tests/vm/bench_jit" "$iters" "$tmp/rules.dnab" "$tmp/events.jsonl"
