#!/bin/sh
# backfill.sh - history is not news, and the daemon does what replay says
# (issue 15).  A month of events ending five days ago, written by
# gen_events, stands for last month's traffic.
#
#   backfill.sh DNAD DNAC POST_EVENTS GEN_EVENTS SRCDIR WORKDIR STUB_HTTP CASE
#
# backfill: a fresh daemon (the wall clock on) fed the month in order, with
#           a pause longer than the lateness half way: its effects table is
#           replay's effects.jsonl
#           byte for byte (timers included; the hot-lead notifications
#           counted), `dnad replay --from sqlite:` gives the same bytes, it
#           is not live and delivered nothing (every outbox row `history`,
#           the Slack stand-in untouched); then a live event makes it live,
#           and an old event posted after it is late: evaluated at its
#           entity's clock, its ledger entry at its own time, not history
# crash:    kill -9 in the middle of the backfill, restart, post it all
#           again: the same effects as replay, each once
# deliver:  --deliver-history: the history goes out too
# import:   `dnad import` of the month, then `dnad serve` and three live
#           events posted at present times without pauses: the effects are
#           replay's of both files in that order, only the live part is
#           delivered; a second import is refused
dnad=$1 dnac=$2 post=$3 gen=$4 src=$5 work=$6 stub=$7 case=backfill_$8
. "$(dirname "$0")/lib.sh"
trap '[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null' EXIT

stub_start
export SLACK_WEBHOOK_URL="$sbase/slack" MAILER_URL="$sbase/mailer" MAILER_SECRET=whsec_c2VjcmV0
export LINKEDIN_TOOL_URL="$sbase/linkedin" CRM_HOOK_URL="$sbase/crm"
unset FINANCE_URL 2>/dev/null     # a REST answer is fed back as an event replay of the file does not have

start_day=$(date -u -d '35 days ago' +%Y-%m-%dT00:00:00Z)
"$gen" --leads 120 --days 30 --start "$start_day" --seed 15 --quiet -o month.jsonl || fail "gen_events"

wait_sql() {
    i=0
    while [ "$(sqlite3 "$1" "$2")" != "$3" ]; do
        i=$((i + 1)); [ $i -gt 1200 ] && fail "waited for [$2] = $3, got $(sqlite3 "$1" "$2")"
        sleep 0.05
    done
}
posted() { "$post" "$base" "$TOKEN" "$1" post.out --conns 1 --batch "${2:-50}" > post.log 2>&1 || fail "post_events"; }
replay_of() { "$dnad" replay rules.dnab "$@" --out rep > rep.txt 2>&1 || fail "replay of $*"; }
effects_of() { sqlite3 "$1" "SELECT line FROM effects ORDER BY seq" > "$2"; }
now_ms_ago() { date -u -d "@$(( $(date +%s) - $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
lead_ev() {
    printf '{"id":"%s","type":"%s","source":"portal","occurred_at":"%s","subject":{"entity":"lead","email":"%s"},"data":%s}\n' "$@"
}

same_as_replay() {      # DB FILES...: the daemon's effects are replay's, and replay --from's
    db=$1; shift
    effects_of "$db" daemon.jsonl
    replay_of "$@"
    cmp -s daemon.jsonl rep/effects.jsonl ||
        { diff daemon.jsonl rep/effects.jsonl | head -5; fail "the daemon's effects are not replay's"; }
    "$dnad" replay rules.dnab --from "sqlite:$db" --out from > from.txt 2>&1 || fail "replay --from: $(cat from.txt)"
    cmp -s daemon.jsonl from/effects.jsonl || { diff daemon.jsonl from/effects.jsonl | head -5; fail "replay --from differs"; }
}

case ${case#backfill_} in
backfill)
    # the wall clock on; a pause longer than the lateness half way (the
    # default lateness is a minute: 5 s keeps the test short)
    start t.db --lateness 5
    head -n 700 month.jsonl > part1.jsonl
    tail -n +701 month.jsonl > part2.jsonl
    posted part1.jsonl
    sleep 6
    posted part2.jsonl
    wait_sql t.db "SELECT count(*) FROM events WHERE status = 'pending'" 0
    sleep 0.3
    same_as_replay t.db month.jsonl
    hot=$(grep -c '"rule":"hot_lead","kind":"notify"' daemon.jsonl)
    [ "$hot" -gt 0 ] || fail "the month has no hot-lead notification to count"
    [ "$hot" = "$(grep -c '"rule":"hot_lead","kind":"notify"' rep/effects.jsonl)" ] || fail "hot-lead notifications differ"
    [ "$(sqlite3 t.db "SELECT count(*) FROM outbox WHERE status <> 'history'")" = 0 ] || fail "history went out"
    [ "$(sqlite3 t.db "SELECT count(*) FROM outbox WHERE status = 'history'")" -gt 0 ] || fail "no history recorded"
    sleep 1
    [ "$(curl -s "$sbase/_count")" = 0 ] || fail "the Slack stand-in got history"
    curl -s -H "Authorization: Bearer $TOKEN" "$base/metrics" | grep -q '^dna_live 0' || fail "live after a backfill"
    curl -s -H "Authorization: Bearer $TOKEN" "$base/metrics" | grep -q '^dna_outbox_history [1-9]' || fail "metrics: history"
    ev1=$(sqlite3 t.db "SELECT event_id FROM outbox WHERE status = 'history' AND event_id IS NOT NULL LIMIT 1")
    curl -s -H "Authorization: Bearer $TOKEN" "$base/v1/events/$ev1" | grep -q '"history":[1-9]' || fail "events/{id}: history"
    # live, then an old event for the same lead: late, at the entity clock
    t_live=$(now_ms_ago 1)
    lead_ev live1 page_visit "$t_live" live@example.com '{"url":"/pricing"}' > live.jsonl
    lead_ev old1 page_visit "${start_day%T*}T10:00:00Z" live@example.com '{"url":"/pricing"}' >> live.jsonl
    posted live.jsonl 1
    wait_sql t.db "SELECT count(*) FROM events WHERE status = 'pending'" 0
    curl -s -H "Authorization: Bearer $TOKEN" "$base/metrics" | grep -q '^dna_live 1' || fail "not live after a live event"
    line=$(sqlite3 t.db "SELECT line FROM effects WHERE event_id = 'old1' AND kind = 'score' LIMIT 1")
    echo "$line" | grep -q "\"at\":\"$t_live\"" || fail "the old event was not evaluated at its entity's clock: $line"
    echo "$line" | grep -q "\"ledger\":{\"at\":\"${start_day%T*}T10:00:00Z\"" || fail "its ledger entry lost its time: $line"
    [ "$(sqlite3 t.db "SELECT count(*) FROM outbox WHERE event_id IN ('live1', 'old1') AND status = 'history'")" = 0 ] ||
        fail "evaluations after going live are history"
    curl -s -H "Authorization: Bearer $TOKEN" "$base/metrics" | grep -q '^dna_events_entity_late_total 1' || fail "late count"
    ;;
crash)
    head -n 700 month.jsonl > half.jsonl
    start t.db
    "$post" "$base" "$TOKEN" half.jsonl post.out --conns 1 --batch 20 > post.log 2>&1 &
    ppid=$!
    wait_sql t.db "SELECT count(*) > 200 FROM effects" 1
    kill -9 "$pid"
    wait "$ppid"
    pid=
    start t.db
    posted month.jsonl
    wait_sql t.db "SELECT count(*) FROM events WHERE status = 'pending'" 0
    sleep 0.3
    same_as_replay t.db month.jsonl
    ;;
deliver)
    start t.db --deliver-history
    posted month.jsonl
    wait_sql t.db "SELECT count(*) FROM events WHERE status = 'pending'" 0
    [ "$(sqlite3 t.db "SELECT count(*) FROM outbox WHERE status = 'history'")" = 0 ] || fail "--deliver-history kept history"
    i=0
    while [ "$(curl -s "$sbase/_count")" = 0 ]; do i=$((i + 1)); [ $i -gt 400 ] && fail "nothing delivered"; sleep 0.05; done
    ;;
import)
    "$dnad" import --bundle rules.dnab month.jsonl --db sqlite:i.db > import.txt 2> import.err || fail "import: $(cat import.err)"
    grep -q "refused 0\|, 0 refused" import.txt || fail "import refused lines: $(cat import.txt)"
    "$dnad" import --bundle rules.dnab month.jsonl --db sqlite:i.db > again.txt 2>&1 && fail "a second import was accepted"
    grep -q "has events already" again.txt || fail "the refusal does not say why"
    start i.db
    lead_ev h1 demo_request "$(now_ms_ago 3)" ada@example.com '{}' > live.jsonl
    lead_ev h2 trial_started "$(now_ms_ago 2)" ada@example.com '{"product":"x"}' >> live.jsonl
    lead_ev h3 page_visit "$(now_ms_ago 1)" ada@example.com '{"url":"/pricing"}' >> live.jsonl
    posted live.jsonl 1
    wait_sql i.db "SELECT count(*) FROM events WHERE status = 'pending'" 0
    i=0
    while [ "$(curl -s "$sbase/_count")" = 0 ]; do i=$((i + 1)); [ $i -gt 400 ] && fail "the live part was not delivered"; sleep 0.05; done
    cat month.jsonl live.jsonl > both.jsonl
    same_as_replay i.db both.jsonl
    [ "$(sqlite3 i.db "SELECT count(*) FROM outbox WHERE event_id IN ('h1', 'h2', 'h3') AND status = 'history'")" = 0 ] ||
        fail "the live part was recorded as history"
    [ "$(sqlite3 i.db "SELECT count(*) FROM outbox WHERE (event_id IS NULL OR event_id NOT IN ('h1', 'h2', 'h3')) AND status <> 'history'")" = 0 ] ||
        fail "history was delivered"
    ;;
*) fail "unknown case" ;;
esac
echo "ok ($case)"
