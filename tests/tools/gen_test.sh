#!/bin/sh
# gen_test.sh GEN CHECK SRCDIR OUTDIR MODE - the ctest cases of gen_events.
# Each mode prints what it checks and exits non-zero on the first failure.
set -eu
GEN=$1 CHECK=$2 SRC=$3 OUT=$4 MODE=$5
RULES=$SRC/rules
mkdir -p "$OUT"
fail() { echo "FAIL: $*" >&2; exit 1; }

case $MODE in
deterministic)
    for opts in "" "--late 0.1" "--bad 0.05" "--late 0.05 --bad 0.05"; do
        # shellcheck disable=SC2086
        "$GEN" --quiet --leads 200 --days 14 --seed 7 $opts -o "$OUT/a.jsonl"
        # shellcheck disable=SC2086
        "$GEN" --quiet --leads 200 --days 14 --seed 7 $opts -o "$OUT/b.jsonl"
        cmp "$OUT/a.jsonl" "$OUT/b.jsonl" || fail "seed 7 $opts: two runs differ"
        echo "ok: seed 7 $opts: byte-identical ($(wc -l < "$OUT/a.jsonl") lines)"
    done
    "$GEN" --quiet --leads 200 --days 14 --seed 8 -o "$OUT/c.jsonl"
    "$GEN" --quiet --leads 200 --days 14 --seed 7 -o "$OUT/a.jsonl"
    if cmp -s "$OUT/a.jsonl" "$OUT/c.jsonl"; then fail "seeds 7 and 8 give the same file"; fi
    echo "ok: seeds 7 and 8 differ"
    # the good events are the same with and without --bad: drop the bad
    # lines (their ids have an x, duplicates repeat the line before)
    "$GEN" --quiet --leads 200 --days 14 --seed 7 --bad 0.1 -o "$OUT/d.jsonl"
    grep -v '"id":"evt_7_x' "$OUT/d.jsonl" | grep '}}$' | uniq > "$OUT/e.jsonl"
    cmp "$OUT/a.jsonl" "$OUT/e.jsonl" || fail "--bad changed the good events"
    echo "ok: --bad leaves the good events as they were"
    # to stdout as to a file
    "$GEN" --quiet --leads 200 --days 14 --seed 7 > "$OUT/f.jsonl"
    cmp "$OUT/a.jsonl" "$OUT/f.jsonl" || fail "stdout and -o differ"
    ;;
valid)
    "$GEN" --quiet --leads 400 --days 30 --seed 3 -o "$OUT/valid.jsonl"
    "$CHECK" --rules "$RULES" --expect-clean --expect-ordered --min-lines 3000 "$OUT/valid.jsonl"
    # every declared event of the sources' tools appears (lead_qualified is emitted by the rules)
    for t in page_visit portal_signup paper_download trial_started demo_request form_submit \
             webinar_registered webinar_attended email_sent email_open email_click email_reply \
             email_bounce linkedin_connect linkedin_reply contact_updated meeting_scheduled \
             deal_created deal_stage_changed company_news intent_data; do
        grep -q "\"type\":\"$t\"" "$OUT/valid.jsonl" || fail "no $t event"
    done
    # identities appear late: a line with portal_id and email, after lines with portal_id only
    grep -q '"subject":{"entity":"lead","email":"[^"]*","portal_id"' "$OUT/valid.jsonl" || fail "no portal_id+email line"
    grep -q '"subject":{"entity":"lead","portal_id"' "$OUT/valid.jsonl" || fail "no anonymous portal line"
    grep -q '"subject":{"entity":"lead","linkedin_url"' "$OUT/valid.jsonl" || fail "no linkedin-only line"
    # the benchmark size with a different span and start
    "$GEN" --quiet --leads 3000 --events 60000 --days 7 --start 2027-03-25T00:00:00Z --seed 11 -o "$OUT/big.jsonl"
    "$CHECK" --rules "$RULES" --expect-clean --expect-ordered --min-lines 50000 "$OUT/big.jsonl"
    ;;
bad)
    "$GEN" --quiet --leads 300 --seed 5 --bad 0.05 -o "$OUT/bad.jsonl"
    "$CHECK" --rules "$RULES" --expect-bad --expect-ordered "$OUT/bad.jsonl"
    "$GEN" --quiet --leads 300 --seed 5 --bad 0 -o "$OUT/nobad.jsonl"
    "$CHECK" --rules "$RULES" --expect-clean "$OUT/nobad.jsonl" > /dev/null
    ;;
late)
    "$GEN" --quiet --leads 300 --seed 5 --late 0.05 -o "$OUT/late.jsonl"
    "$CHECK" --rules "$RULES" --expect-clean --expect-late "$OUT/late.jsonl"
    sort "$OUT/late.jsonl" > "$OUT/late.sorted"
    "$GEN" --quiet --leads 300 --seed 5 -o "$OUT/inorder.jsonl"
    sort "$OUT/inorder.jsonl" | cmp - "$OUT/late.sorted" || fail "--late changed the events, not only their order"
    echo "ok: --late reorders the same events"
    ;;
month)
    # the command documented in examples/events/README.md
    "$GEN" --quiet --leads 300 --days 30 --start 2026-10-01T00:00:00Z --seed 2026 -o "$OUT/month.jsonl"
    cmp "$OUT/month.jsonl" "$SRC/examples/events/month.jsonl" ||
        fail "examples/events/month.jsonl is not what its documented command writes; regenerate it"
    "$CHECK" --rules "$RULES" --expect-clean --expect-ordered "$SRC/examples/events/month.jsonl"
    ;;
checker-fails)
    "$GEN" --quiet --leads 100 --seed 9 --bad 0.05 -o "$OUT/cf.jsonl"
    if "$CHECK" --rules "$RULES" --expect-clean "$OUT/cf.jsonl" > /dev/null 2>&1; then
        fail "check_events --expect-clean passed a file with bad lines"
    fi
    "$GEN" --quiet --leads 100 --seed 9 -o "$OUT/cf2.jsonl"
    if "$CHECK" --rules "$RULES" --expect-bad "$OUT/cf2.jsonl" > /dev/null 2>&1; then
        fail "check_events --expect-bad passed a clean file"
    fi
    if "$CHECK" --rules "$RULES" --expect-late "$OUT/cf2.jsonl" > /dev/null 2>&1; then
        fail "check_events --expect-late passed an ordered file"
    fi
    # a valid line with a field of the wrong type (hard must be a bool) is caught
    sed '1s/.*/{"id":"e1","type":"email_bounce","source":"emailtool","occurred_at":"2026-10-01T08:00:00Z","subject":{"entity":"lead","email":"a@b.c"},"data":{"campaign":"x","hard":"yes"}}/' \
        "$OUT/cf2.jsonl" > "$OUT/cf3.jsonl"
    if "$CHECK" --rules "$RULES" --expect-clean "$OUT/cf3.jsonl" > /dev/null 2>&1; then
        fail "check_events passed a string where the schema says bool"
    fi
    echo "ok: check_events fails when it should"
    ;;
*)
    fail "unknown mode $MODE"
    ;;
esac
