#!/bin/sh
# fuzz/run.sh - a bounded libFuzzer run of fuzz_check (the ASan build's ctest
# runs it for 20 s).  New inputs go to WORKDIR/corpus, never into the source
# tree; the seeds in tests/fuzz/corpus/check are read only.  A crash leaves
# WORKDIR/artifacts/crash-* and fails the run: copy that file into
# tests/fuzz/crashers/ so every later test run replays it.
#
#   sh run.sh FUZZ_CHECK FUZZDIR SECONDS WORKDIR
set -u
fuzzer=$1 fuzzdir=$2 secs=$3 work=$4
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
rm -f "$work"/artifacts/crash-* "$work"/artifacts/leak-* "$work"/artifacts/timeout-* \
      "$work"/artifacts/oom-* "$work"/artifacts/slow-unit-*
timeout $((secs + 60)) "$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -max_len=8192 -dict="$fuzzdir/dna.dict" -artifact_prefix="$work/artifacts/" \
    -print_final_stats=1 "$work/corpus" "$fuzzdir/corpus/check" 2>"$work/log"
rc=$?
tail -n 25 "$work/log"
found=$(ls "$work"/artifacts/ 2>/dev/null)
if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    echo "FAIL: the fuzzer stopped with exit $rc; artifacts in $work/artifacts:"
    ls -l "$work/artifacts"
    echo "keep a crasher with: cp $work/artifacts/crash-* $fuzzdir/crashers/"
    exit 1
fi
echo "ok: ${secs}s of fuzzing, no crash"
