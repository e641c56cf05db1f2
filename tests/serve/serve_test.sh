#!/bin/sh
# serve_test.sh - `dnad serve` end to end: the real binary on 127.0.0.1 (a
# free port the daemon picks and logs), curl and post_events as clients,
# sqlite3 to look at the store.
#
#   serve_test.sh DNAD DNAC POST_EVENTS SRCDIR WORKDIR CASE [GEN_EVENTS]
#
# CASE: basic | jsonsuite | restart | sigterm | sources | reload
set -u
dnad=$1 dnac=$2 post=$3 src=$4 work=$5 case=$6 gen=${7:-}
. "$(dirname "$0")/lib.sh"
ev() { lead_ev "$@"; }

case $case in
basic)
    # no token: refused to start
    env -u DNA_API_TOKEN "$dnad" serve --bundle rules.dnab --db sqlite:x.db --listen 127.0.0.1:0 2>err && fail "started without a token"
    grep -q "API token" err || fail "no word about the token"
    start t.db --no-wall-clock --deliver-history --max-body 4096
    ev e1 page_visit 2026-10-01T08:00:00Z ada@example.com '{"url":"/pricing"}' > e1.json
    expect "$(code POST /v1/events --data-binary @e1.json)" 202 "first post"
    grep -q '"accepted":\["e1"\]' body || fail "202 body does not name e1"
    expect "$(code POST /v1/events --data-binary @e1.json)" 200 "repeat id"
    grep -q '"duplicates":\["e1"\]' body || fail "200 body does not name e1 as a repeat"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE id='e1' AND tenant='default'")" = 1 ] || fail "e1 stored twice"
    # auth
    expect "$(curl -s -o body -w '%{http_code}' -X POST --data-binary @e1.json "$base/v1/events")" 401 "no token"
    expect "$(curl -s -o body -w '%{http_code}' -H 'Authorization: Bearer nope' "$base/v1/events/e1")" 401 "wrong token"
    expect "$(curl -s -o body -w '%{http_code}' "$base/v1/entities/lead/ada@example.com")" 401 "no token, entity"
    expect "$(curl -s -o body -w '%{http_code}' "$base/metrics")" 401 "no token, metrics"
    expect "$(curl -s -o body -w '%{http_code}' "$base/healthz")" 200 "healthz"
    # from the future: refused before it can move the watermark
    ev f1 page_visit 2099-10-01T08:00:00Z fut@example.com '{"url":"/"}' > f1.json
    expect "$(code POST /v1/events --data-binary @f1.json)" 422 "an event from 2099"
    grep -q 'in the future' body || fail "no reason for the future event: $(cat body)"
    ev f2 page_visit 9999-10-01T08:00:00Z fut@example.com '{"url":"/"}' > f2.json
    expect "$(code POST /v1/events --data-binary @f2.json)" 422 "an event from 9999"
    grep -q 'between 1970 and 2199' body || fail "no reason for the year 9999: $(cat body)"
    # bad input
    printf '{"id":' > bad.json
    expect "$(code POST /v1/events --data-binary @bad.json)" 400 "malformed JSON"
    ev e2 no_such_event 2026-10-01T08:00:00Z ada@example.com '{}' > e2.json
    expect "$(code POST /v1/events --data-binary @e2.json)" 422 "unknown type"
    grep -q "unknown event type" body || fail "422 without the reason"
    ev e3 page_visit 2026-10-01T08:00:00Z ada@example.com '{"url":7}' > e3.json
    expect "$(code POST /v1/events --data-binary @e3.json)" 422 "wrong field type"
    printf '[%s,%s]' "$(cat e1.json)" "$(cat e2.json)" > mixed.json
    expect "$(code POST /v1/events --data-binary @mixed.json)" 422 "a batch with a bad event"
    grep -q 'event 1' body || fail "422 does not say which event"
    expect "$(code POST /v1/events --data-binary '[]')" 422 "empty batch"
    head -c 5000 /dev/zero | tr '\0' ' ' > big.json
    expect "$(code POST /v1/events --data-binary @big.json)" 413 "oversized (Content-Length)"
    expect "$(code POST /v1/events -H 'Transfer-Encoding: chunked' --data-binary @big.json)" 413 "oversized (chunked)"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events")" = 1 ] || fail "a refused request stored something"
    # a batch: new ones 202, the repeat named
    ev e4 page_visit 2026-10-01T08:05:00Z ada@example.com '{"url":"/pricing"}' > e4.json
    ev e5 demo_request 2026-10-01T08:10:00Z ada@example.com '{}' > e5.json
    printf '[%s,%s,%s]' "$(cat e1.json)" "$(cat e4.json)" "$(cat e5.json)" > batch.json
    expect "$(code POST /v1/events --data-binary @batch.json)" 202 "batch"
    grep -q '"accepted":\["e4","e5"\],"duplicates":\["e1"\]' body || fail "batch body: $(cat body)"
    drain t.db
    expect "$(code GET /v1/events/e5)" 200 "event status"
    grep -q '"status":"processed"' body || fail "e5 not processed: $(cat body)"
    expect "$(code GET /v1/events/nope)" 404 "unknown event"
    expect "$(code GET /v1/entities/lead/ada@example.com)" 200 "entity"
    grep -q '"score":{"total":' body || fail "no score in the entity"
    grep -q '"trace":\[{"event":"e1"' body || fail "no trace in the entity"
    grep -q '"kind":"task"' body || fail "the trace lacks the demo request's task"
    # the state equals what replay says for the same events
    sqlite3 t.db "SELECT body FROM events ORDER BY seq" > accepted.jsonl
    "$dnad" replay rules.dnab accepted.jsonl --out rep >/dev/null || fail "replay"
    grep '"key":"ada@example.com"' rep/state.jsonl > want
    grep -qF "{\"state\":$(cat want),\"at\":\"2026-10-01T08:10:00Z\"" body || fail "entity state differs from replay's: $(cat want)"
    expect "$(code GET /v1/entities/lead/nobody@example.com)" 404 "unknown entity"
    expect "$(code GET /v1/entities/nokind/x)" 404 "unknown kind"
    expect "$(code GET /metrics)" 200 "metrics"
    grep -q '^dna_events_received_total{type="page_visit"} 2$' body || fail "metrics: received"
    grep -q '^dna_events_processed_total{type="demo_request"} 1$' body || fail "metrics: processed"
    grep -q '^dna_requests_rejected_total{code="413"} 2$' body || fail "metrics: 413"
    grep -q '^dna_outbox_depth [1-9]' body || fail "metrics: outbox"
    [ "$(sqlite3 t.db "SELECT count(*) FROM effects WHERE kind='task' AND event_id='e5'")" -ge 1 ] || fail "no effect row for the task"
    [ "$(sqlite3 t.db "SELECT count(*) FROM outbox WHERE kind='task'")" = 0 ] || fail "a task names no connector: it has no place in the outbox"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE tenant<>'default'") $(sqlite3 t.db "SELECT count(*) FROM effects WHERE tenant<>'default'")" = "0 0" ] || fail "tenant"
    stop
    json_log
    ;;
jsonsuite)
    start t.db --no-wall-clock
    # one curl process for every file (--next), one status line per file
    : > suite.cfg
    for f in "$src"/tests/data/JSONTestSuite/test_parsing/*.json; do
        printf 'url = "%s/v1/events"\nheader = "Authorization: Bearer %s"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %s\\n"\nnext\n' \
            "$base" "$TOKEN" "$f" "$(basename "$f")" >> suite.cfg
    done
    curl -s -K suite.cfg > codes
    n=0
    while read -r c b; do
        case $b in
        n_*) [ "$c" = 400 ] || fail "$b: got $c, want 400" ;;
        y_*) [ "$c" = 422 ] || fail "$b: got $c, want 422 (valid JSON, not an event)" ;;
        *) case $c in 400|422) ;; *) fail "$b: got $c" ;; esac ;;
        esac
        n=$((n + 1))
    done < codes
    echo "jsonsuite: $(grep -c ' n_' codes) n_ files 400, $(grep -c ' y_' codes) y_ files 422, $(grep -c ' i_' codes) i_ files 400 or 422"
    [ $n -gt 300 ] || fail "only $n files"
    expect "$(code GET /healthz)" 200 "alive after the suite"
    stop
    ;;
restart)
    # kill -9 at random moments during a 10,000-event ingest (generated by
    # gen_events), restarting after each: every round posts from the first
    # envelope the last one got no answer for, with a random batch size;
    # the last round posts the whole file again, so everything accepted
    # before is answered as a repeat.  Every event that got 202 is processed
    # exactly once, and the effects table is what replay gives over the
    # accepted events in acceptance order.  DNA_TEST_SEED=N repeats a run's
    # moments (not its timing).
    [ -n "$gen" ] || fail "restart needs gen_events"
    nev=${DNA_RESTART_EVENTS:-10000} kills=5
    "$gen" --leads 850 --events $((nev + nev / 50)) --seed 9 --quiet -o gen.jsonl || fail "gen_events"
    head -n "$nev" gen.jsonl > events.jsonl
    total=$(grep -c . events.jsonl)
    seed=${DNA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
    # kill k at a random row count in the k-th of kills + 1 bands (a round
    # whose count was passed before its start is killed right after it)
    awk -v s="$seed" -v n="$total" -v k=$kills 'BEGIN { srand(s); for (i = 1; i <= k; i++) {
        a = int(n * (i - 1 + rand()) / (k + 1)) + 20; b = int(rand() * 3); print a, b } }' > moments
    echo "restart: $total events, kills at rows $(cut -d' ' -f1 moments | tr '\n' ' ')(seed $seed)"
    start t.db --no-wall-clock --lateness 0
    off=1 r=0
    while read -r at how; do
        r=$((r + 1))
        case $how in 0) bs=1 ;; 1) bs=7 ;; *) bs=25 ;; esac
        tail -n +$off events.jsonl > part$r.jsonl
        "$post" "$base" "$TOKEN" part$r.jsonl out$r --conns $((r % 2 ? 4 : 8)) --batch $bs > post$r.txt &
        ppid=$!
        until_rows t.db "$at"
        kill -9 "$pid"; wait "$pid" 2>/dev/null
        wait $ppid
        # resume at the first envelope without an answer (in flight: maybe committed)
        n=$(awk '$1 != 200 && $1 != 202 { print NR; exit }' out$r)
        if [ -n "$n" ]; then off=$((off + n - 1)); else off=$((total + 1)); fi
        echo "round $r: batch $bs, $(grep -c '^202 ' out$r) accepted, killed at $(sqlite3 t.db "SELECT count(*) FROM events") rows"
        start t.db --no-wall-clock --lateness 0
    done < moments
    "$post" "$base" "$TOKEN" events.jsonl outz --conns 4 --batch 50 > postz.txt || fail "post"
    drain t.db
    # Concurrent posting makes late events, and a late event can set a timer
    # that is already due (an alert whose deadline the watermark passed).
    # Replay fires those at the end of its input; the daemon at its next
    # advance (the next event, or idle time with the wall clock).  One more
    # event at the latest time is that advance for both.
    last=$(sqlite3 t.db "SELECT max(occurred_at) / 1000 FROM events")
    ev zz-last page_visit "$(date -u -d "@$last" +%Y-%m-%dT%H:%M:%SZ)" last@example.com '{"url":"/"}' > last.json
    expect "$(code POST /v1/events --data-binary @last.json)" 202 "the last event"
    total=$((total + 1))
    echo zz-last >> accepted_extra
    settle t.db
    grep -v '^20[02] ' outz && fail "the last ingest had failures"
    for o in out[0-9]* outz; do
        grep '^202 ' $o | cut -d' ' -f2
    done | cat - accepted_extra | sort > accepted_ids
    [ "$(uniq -d accepted_ids | wc -l)" = 0 ] || fail "an id got 202 twice: $(uniq -d accepted_ids | head -3)"
    sqlite3 t.db "SELECT id FROM events WHERE status='processed'" | sort > processed_ids
    comm -23 accepted_ids processed_ids > lost
    [ -s lost ] && fail "accepted but not processed: $(head -3 lost)"
    # the rest were committed while the daemon died before answering: 200 later
    sed 's/^{"id":"\([^"]*\)".*/\1/' events.jsonl | cat - accepted_extra | sort > file_ids
    cmp -s file_ids processed_ids || fail "processed events are not the file's: $(wc -l < processed_ids) of $total"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events")" = "$total" ] || fail "the events table holds more rows than the file"
    sqlite3 t.db "SELECT body FROM events ORDER BY seq" > accepted.jsonl
    "$dnad" replay rules.dnab accepted.jsonl --out rep > rep.txt || fail "replay"
    sqlite3 t.db "SELECT line FROM effects ORDER BY seq" > effects.jsonl
    cmp -s rep/effects.jsonl effects.jsonl || fail "effects differ from replay ($(wc -l < effects.jsonl) vs $(wc -l < rep/effects.jsonl))"
    # the outbox: exactly replay's effects that leave through a connector, not in shadow mode, in order
    us=$(printf '\037')
    sqlite3 rep.db "CREATE TABLE r (line TEXT)" ".mode ascii" ".separator $us \\n" ".import rep/effects.jsonl r" || fail "import"
    sqlite3 rep.db "SELECT line FROM r WHERE json_extract(line, '\$.detail.connector') IS NOT NULL
                    AND coalesce(json_extract(line, '\$.mode'), 'live') <> 'shadow' ORDER BY rowid" > want_outbox
    sqlite3 t.db "SELECT line FROM outbox ORDER BY seq" > outbox.jsonl
    want=$(wc -l < want_outbox) got=$(wc -l < outbox.jsonl)
    [ "$want" -gt 0 ] || fail "replay has no connector effects: the comparison proves nothing"
    cmp -s want_outbox outbox.jsonl || fail "outbox holds $got rows, replay's connector effects are $want"
    echo "restart: $(wc -l < accepted_ids) answered 202, $(wc -l < processed_ids) processed once across $kills kills, $(wc -l < effects.jsonl) effects, $got outbox rows, equal to replay"
    stop
    ;;
sigterm)
    ev_file=$src/examples/events/month.jsonl
    start t.db --no-wall-clock --lateness 0
    "$post" "$base" "$TOKEN" "$ev_file" out1 --conns 8 > post1.txt &
    ppid=$!
    until_rows t.db 400
    kill -TERM "$pid"
    wait "$pid"; rc=$?
    wait $ppid
    cat post1.txt
    [ $rc = 0 ] || fail "exit status $rc after SIGTERM under load"
    grep '^202 ' out1 | cut -d' ' -f2 | sort > accepted_ids
    sqlite3 t.db "SELECT id FROM events WHERE status='processed'" | sort > processed_ids
    [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE status<>'processed'")" = 0 ] || fail "pending events left after SIGTERM"
    comm -23 accepted_ids processed_ids > lost
    [ -s lost ] && fail "accepted but lost: $(head -3 lost)"
    echo "sigterm: $(wc -l < accepted_ids) accepted under load, all processed before exit"
    pid=
    json_log
    ;;
sources)
    # signed webhooks of the shipped rules' sources, mapped onto events
    export FORMTOOL_SECRET=form-secret-$$
    export EMAILTOOL_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
    unset PORTAL_WEBHOOK_SECRET
    start t.db --no-wall-clock
    grep -q '"msg":"a source.s secret is not set.*"source":"portal"' log || fail "no warning about the portal's unset secret"
    printf '{"kind":"submission","form_name":"demo","submission_id":"sub-1","created_at":"2026-10-01T09:00:00Z","fields":{"email":"ada@example.com","product":"sequencing"}}' > form.json
    sig=$(openssl dgst -sha256 -hmac "$FORMTOOL_SECRET" < form.json | sed 's/.*= //')
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$sig" --data-binary @form.json "$base/v1/sources/formtool")" 202 "signed form"
    grep -q '"accepted":\["sub-1"\]' body || fail "the form's id is not the event id: $(cat body)"
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$sig" --data-binary @form.json "$base/v1/sources/formtool")" 200 "repeat"
    expect "$(curl -s -o body -w '%{http_code}' --data-binary @form.json "$base/v1/sources/formtool")" 401 "no signature"
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: $sig" --data-binary @form.json "$base/v1/sources/formtool")" 401 "no prefix"
    bad=$(printf x | openssl dgst -sha256 -hmac "$FORMTOOL_SECRET" | sed 's/.*= //')
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$bad" --data-binary @form.json "$base/v1/sources/formtool")" 401 "wrong signature"
    printf '{"kind":"deleted","submission_id":"sub-2"}' > other.json
    sig2=$(openssl dgst -sha256 -hmac "$FORMTOOL_SECRET" < other.json | sed 's/.*= //')
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$sig2" --data-binary @other.json "$base/v1/sources/formtool")" 422 "no map accepts"
    grep -q "no map" body || fail "422 without the reason"
    printf '{"kind":' > broken.json
    sig3=$(openssl dgst -sha256 -hmac "$FORMTOOL_SECRET" < broken.json | sed 's/.*= //')
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$sig3" --data-binary @broken.json "$base/v1/sources/formtool")" 400 "signed but not JSON"
    expect "$(curl -s -o body -w '%{http_code}' -d '{}' "$base/v1/sources/portal")" 401 "a source without its secret"
    expect "$(curl -s -o body -w '%{http_code}' -d '{}' "$base/v1/sources/nope")" 404 "unknown source"
    # Standard Webhooks (the email tool), signed now
    ts=$(date +%s)
    printf '{"event":"open","id":"em-1","ts":"2026-10-01T09:05:00Z","recipient":"ada@example.com","campaign":"autumn"}' > mail.json
    key=$(printf '%s' "${EMAILTOOL_SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
    msig=$( (printf 'msg_1.%s.' "$ts"; cat mail.json) | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)
    expect "$(curl -s -o body -w '%{http_code}' -H "webhook-id: msg_1" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$msig" --data-binary @mail.json "$base/v1/sources/emailtool")" 202 "standard webhooks"
    grep -q '"accepted":\["msg_1"\]' body || fail "coalesce(header(Webhook-Id), body.id) is not the id: $(cat body)"
    old=$((ts - 600))
    osig=$( (printf 'msg_2.%s.' "$old"; cat mail.json) | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)
    expect "$(curl -s -o body -w '%{http_code}' -H "webhook-id: msg_2" -H "webhook-timestamp: $old" -H "webhook-signature: v1,$osig" --data-binary @mail.json "$base/v1/sources/emailtool")" 401 "stale time stamp"
    drain t.db
    expect "$(code GET /v1/events/sub-1)" 200 "the mapped event"
    grep -q '"type":"demo_request","occurred_at":"2026-10-01T09:00:00Z"' body || fail "mapped event: $(cat body)"
    grep -q '"status":"processed"' body || fail "mapped event not processed: $(cat body)"
    sqlite3 t.db "SELECT body FROM events WHERE id='sub-1'" | grep -q '"source":"formtool"' || fail "source not recorded"
    expect "$(code GET /v1/entities/lead/ada@example.com)" 200 "entity"
    grep -q '"kind":"task"' body || fail "the demo request's task is not in the trace"
    stop
    json_log
    ;;
reload)
    # SIGHUP and POST /v1/bundle under load: every accepted event runs
    # once, wholly on one bundle (its score effect comes from that bundle's
    # rule), and a bad bundle changes nothing.
    "$dnac" compile "$src/tests/serve/reload/v1.dna" -o v1.dnab >/dev/null || fail "compile v1"
    "$dnac" compile "$src/tests/serve/reload/v2.dna" -o v2.dnab >/dev/null || fail "compile v2"
    cp v1.dnab live.dnab
    : > log
    "$dnad" serve --bundle live.dnab --db sqlite:r.db --listen 127.0.0.1:0 --no-wall-clock 2>>log &
    pid=$!
    i=0; port=
    while [ -z "$port" ] && [ $i -lt 100 ]; do
        port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' log | head -n 1)
        sleep 0.05; i=$((i + 1))
    done
    [ -n "$port" ] || fail "the daemon did not log its port"
    base=http://127.0.0.1:$port
    i=0
    while [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" != 200 ]; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "not ready"; sleep 0.05
    done
    expect "$(code GET /v1/bundle)" 200 "GET /v1/bundle"
    id1=$(sed -n 's/.*"bundle":"\([0-9a-f]*\)".*/\1/p' body)
    [ ${#id1} = 16 ] || fail "no bundle id: $(cat body)"
    ev d0 demo_request 2026-10-01T08:00:00Z d@x '{"product":"x"}' > d0.json
    expect "$(code POST /v1/events --data-binary @d0.json)" 422 "an event v1 does not declare"
    # a bad bundle: refused, nothing changes, the file stays
    printf 'not a bundle' > bad.dnab
    expect "$(code POST /v1/bundle --data-binary @bad.dnab)" 422 "a bad bundle"
    cmp -s live.dnab v1.dnab || fail "a refused bundle replaced the file"
    awk 'BEGIN { for (n = 0; n < 6000; n++)
        printf "{\"id\":\"r%d\",\"type\":\"page_visit\",\"source\":\"portal\",\"occurred_at\":\"2026-10-01T%02d:%02d:%02dZ\",\"subject\":{\"entity\":\"lead\",\"email\":\"l%d@x\"},\"data\":{\"url\":\"/p\"}}\n",
               n, 8 + int(n / 3600), int(n / 60) % 60, n % 60, n % 300 }' > load.jsonl
    "$post" "$base" "$TOKEN" load.jsonl posted --conns 4 > post.out 2>&1 &
    ppid=$!
    until_rows r.db 1500
    cp v2.dnab live.dnab
    kill -HUP "$pid"
    until_rows r.db 4000
    expect "$(code POST /v1/bundle --data-binary @v1.dnab)" 200 "POST /v1/bundle under load"
    wait "$ppid" || fail "post_events failed"
    drain r.db
    cmp -s live.dnab v1.dnab || fail "POST /v1/bundle did not replace the bundle file"
    grep -c '"msg":"bundle reloaded"' log | grep -qx 2 || fail "want two 'bundle reloaded' log lines"
    acc=$(grep -c '^202 ' posted)
    [ "$acc" = 6000 ] || fail "accepted $acc of 6000"
    [ "$(sqlite3 r.db "SELECT count(*) FROM events WHERE status='processed'")" = 6000 ] || fail "not every event processed"
    ids=$(sqlite3 r.db "SELECT count(DISTINCT bundle) FROM events")
    [ "$ids" = 2 ] || fail "want events on 2 bundles, got $ids"
    # one score effect per event, from the rule of the bundle that ran it
    bad=$(sqlite3 r.db "SELECT count(*) FROM events e LEFT JOIN (SELECT event_id, count(*) AS n FROM effects
                        WHERE kind = 'score' GROUP BY event_id) f ON f.event_id = e.id WHERE coalesce(f.n, 0) <> 1")
    [ "$bad" = 0 ] || fail "$bad events without exactly one score effect"
    mixed=$(sqlite3 r.db "SELECT count(*) FROM (SELECT event_id, line FROM effects WHERE kind = 'score') f JOIN events e ON f.event_id = e.id
                         WHERE (e.bundle = '$id1') <> (json_extract(f.line, '\$.rule') LIKE 'visits_v1%')")
    [ "$mixed" = 0 ] || fail "$mixed events ran on a bundle other than the one recorded"
    v2n=$(sqlite3 r.db "SELECT count(*) FROM events WHERE bundle <> '$id1'")
    [ "$v2n" -gt 0 ] || fail "no event ran on v2"
    # after the reloads the live state is the history under the live bundle (v1): 20 visits each
    expect "$(code GET /v1/entities/lead/l7@x)" 200 "entity after reloads"
    grep -q '"total":20' body || fail "state is not the history under v1: $(head -c 300 body)"
    expect "$(code GET /metrics)" 200 "metrics"
    grep -q '^dna_bundle_reloads_total 2$' body || fail "reloads not counted"
    grep -q "dna_bundle_info{id=\"$id1\"} 1" body || fail "bundle_info is not v1"
    # back on v2 by SIGHUP: the demo request is an event now
    cp v2.dnab live.dnab
    kill -HUP "$pid"
    i=0
    while [ "$(grep -c '"msg":"bundle reloaded"' log)" -lt 3 ]; do i=$((i + 1)); [ $i -gt 200 ] && fail "no third reload"; sleep 0.05; done
    expect "$(code POST /v1/events --data-binary @d0.json)" 202 "demo_request on v2"
    stop
    json_log
    ;;
*) fail "unknown case" ;;
esac
echo "ok ($case)"
