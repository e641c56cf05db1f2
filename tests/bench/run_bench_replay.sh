#!/bin/sh
# run_bench_replay.sh - build bench_replay, compile the shipped rules, and
# replay a generated month through the engine (tests/bench/bench_replay.c).
#
#   sh tests/bench/run_bench_replay.sh [BUILD_DIR [EVENTS [LEADS]]]
#        defaults: build, 1000000 events, 50000 leads
# Use a Release build (the default build type) for figures worth quoting.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
events=${2:-1000000}
leads=${3:-50000}
cmake --build "$build" --target dnac bench_replay >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$root" && "$build/dnac" compile rules -o "$tmp/rules.dnab")
TMPDIR=$tmp "$build/tests/bench/bench_replay" "$tmp/rules.dnab" "$events" "$leads"
