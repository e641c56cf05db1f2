#!/bin/sh
# deliver.sh - the daemon delivers its outbox to a local server the test
# controls (tests/tools/stub_http).
#
#   deliver.sh DNAD DNAC SRCDIR WORKDIR STUB_HTTP CASE
#
# slack:  the shipped rules; a hot lead reaches the Slack stand-in once,
#         with blocks, its nurture steps reach the email tool, signed, and a
#         repeat of its events sends nothing more; connectors without their
#         environment are named as such
# crash:  kill -9 while a webhook request is in flight, then restart: the
#         effect is sent again with the same idempotency key, and sent once
# chain:  a won deal: create_customer, then create_offer, in that order,
#         the offer carrying the customer id the first answer stored; the
#         offer id lands on the deal
# answers: a rest answer holding an escaped NUL is kept whole and sent
#         once, with the other connectors' outcomes of the same pass (issue
#         19.1); a 2xx answer that is not JSON, or lacks the field a `set`
#         reads, is a failed attempt: tried `retries` times, then dead,
#         logged and counted as bad_answer (issue 19.9)
# dlq:    a webhook that always fails ends in the dead-letter queue;
#         `dnad dlq list`, `dnad dlq retry` delivers it once more, and the
#         API lists and drops
dnad=$1 dnac=$2 src=$3 work=$4 stub=$5 case=deliver_$6
. "$(dirname "$0")/lib.sh"
trap '[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null' EXIT

script() { printf "$1" | curl -s -X PUT --data-binary @- "$sbase/_script" > /dev/null || fail "script"; }
count() { curl -s "$sbase/_count"; }
# wait_sql DB SQL WANT: until the query answers WANT
wait_sql() {
    i=0
    while [ "$(sqlite3 "$1" "$2")" != "$3" ]; do
        i=$((i + 1)); [ $i -gt 400 ] && fail "waited for [$2] = $3, got $(sqlite3 "$1" "$2")"
        sleep 0.05
    done
}
stub_start

case ${case#deliver_} in
slack)
    export SLACK_WEBHOOK_URL="$sbase/slack" MAILER_URL="$sbase/mailer" MAILER_SECRET=whsec_c2VjcmV0
    unset LINKEDIN_TOOL_URL CRM_HOOK_URL FINANCE_URL 2>/dev/null
    start t.db --no-wall-clock --deliver-history
    lead_ev h1 demo_request 2026-10-01T08:00:00Z ada@example.com '{}' > h1.json
    lead_ev h2 trial_started 2026-10-01T08:01:00Z ada@example.com '{"product":"x"}' > h2.json
    lead_ev h3 page_visit 2026-10-01T08:02:00Z ada@example.com '{"url":"/pricing"}' > h3.json
    printf '[%s,%s,%s]' "$(cat h1.json)" "$(cat h2.json)" "$(cat h3.json)" > hot.json
    expect "$(code POST /v1/events --data-binary @hot.json)" 202 "the hot lead's events"
    drain t.db
    wait_sql t.db "SELECT count(*) FROM outbox WHERE connector='slack' AND status='sent'" 1
    curl -s "$sbase/_log" > all.jsonl
    grep '"path":"/slack"' all.jsonl > slack.jsonl
    [ "$(wc -l < slack.jsonl)" = 1 ] || fail "the Slack stand-in got $(wc -l < slack.jsonl) requests, want 1"
    grep -q '"path":"/slack"' slack.jsonl || fail "not posted to /slack"
    grep -q 'Hot lead ada@example.com' slack.jsonl || fail "no hot-lead text: $(head -c 600 slack.jsonl)"
    grep -q '\\"blocks\\":\[' slack.jsonl || fail "no blocks: $(head -c 600 slack.jsonl)"
    grep -q '\\"channel\\":\\"#hot-leads\\"' slack.jsonl || fail "no channel"
    grep -q 'Score' slack.jsonl || fail "no score field in the blocks"
    key=$(sqlite3 t.db "SELECT idem_key FROM outbox WHERE connector='slack'")
    grep -q "\"idempotency-key\":\"$key\"" slack.jsonl || fail "the request does not carry the outbox key $key"
    # the same events again: duplicates, nothing new leaves
    # the nurture sequence's first step went to the email tool, signed
    wait_sql t.db "SELECT count(*) > 0 AND sum(status <> 'sent') = 0 FROM outbox WHERE connector='mailer'" 1
    curl -s "$sbase/_log" | grep '"path":"/mailer"' > mailer.jsonl
    grep -q 'sequence.email' mailer.jsonl || fail "the step is not typed sequence.email: $(head -c 600 mailer.jsonl)"
    grep -q '"webhook-signature":"v1,' mailer.jsonl || fail "the step is not signed"
    before=$(count)
    expect "$(code POST /v1/events --data-binary @hot.json)" 200 "repeat"
    sleep 1
    [ "$(count)" = "$before" ] || fail "a repeat was delivered again"
    # other connectors have no environment here: logged once, shown down
    grep -q '"msg":"connector not configured: its deliveries wait in the outbox"' log || fail "no word about unconfigured connectors"
    expect "$(code GET /metrics)" 200 "metrics"
    grep -q '^dna_deliveries_total{connector="slack",outcome="sent"} 1$' body || fail "metrics: sent"
    grep -q '^dna_connector_up{connector="linkedin"} 0$' body || fail "metrics: linkedin is not up"
    expect "$(code GET /v1/connectors)" 200 "GET /v1/connectors"
    grep -q '"name":"slack","kind":"slack_webhook","configured":true,"disabled":false,"breaker":"closed","inflight":0,"sent":1' body ||
        fail "connectors: slack: $(head -c 600 body)"
    grep -q '"name":"linkedin","kind":"webhook","configured":false,"why":"connector .linkedin.: environment variable LINKEDIN_TOOL_URL' body ||
        fail "connectors: linkedin: $(head -c 600 body)"
    stop
    json_log
    ;;
crash)
    "$dnac" compile "$src/tests/serve/deliver/rules.dna" -o rules.dnab >/dev/null || fail "compile"
    export DL_HOOK_URL="$sbase/hook" DL_HOOK_SECRET=whsec_c2VjcmV0
    script 'hang 4000\n'
    start t.db --no-wall-clock --deliver-history
    lead_ev p1 ping 2026-10-01T08:00:00Z ada@example.com '{"n":1}' > p1.json
    expect "$(code POST /v1/events --data-binary @p1.json)" 202 "ping"
    i=0
    while [ "$(count)" != 1 ]; do i=$((i + 1)); [ $i -gt 200 ] && fail "the webhook was not sent"; sleep 0.05; done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    pid=
    [ "$(sqlite3 t.db "SELECT status FROM outbox")" = pending ] || fail "the outcome was recorded before the answer"
    start t.db --no-wall-clock --deliver-history
    wait_sql t.db "SELECT status FROM outbox" sent
    [ "$(count)" = 2 ] || fail "want exactly 2 requests (before and after the crash), got $(count)"
    curl -s "$sbase/_log" > hook.jsonl
    key=$(sqlite3 t.db "SELECT idem_key FROM outbox")
    [ "$(grep -c "\"idempotency-key\":\"$key\"" hook.jsonl)" = 2 ] || fail "both requests must carry key $key"
    [ "$(grep -c "\"webhook-id\":\"$key\"" hook.jsonl)" = 2 ] || fail "both requests must carry webhook-id $key"
    [ "$(grep -c '"webhook-signature":"v1,' hook.jsonl)" = 2 ] || fail "unsigned"
    [ "$(sqlite3 t.db "SELECT count(*) FROM outbox")" = 1 ] || fail "the restart made a second outbox row"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE status='processed'")" = 1 ] || fail "the event ran twice or not at all"
    stop
    ;;
chain)
    "$dnac" compile "$src/tests/serve/deliver/rules.dna" -o rules.dnab >/dev/null || fail "compile"
    export DL_FIN_URL="$sbase/fin" DL_FIN_TOKEN=fin-token DL_HOOK_URL="$sbase/hook"
    script '500\n201 {"id":"cus_7"}\n201 {"id":"of_9","total":100}\n'
    start t.db --no-wall-clock --deliver-history --retry-base 50
    printf '{"id":"d1","type":"deal_created","source":"crm","occurred_at":"2026-10-01T08:00:00Z","subject":{"entity":"deal","deal_id":"D-1"},"data":{"name":"Big","contact":"ada@example.com"}}' > d1.json
    printf '{"id":"d2","type":"deal_won","source":"crm","occurred_at":"2026-10-01T09:00:00Z","subject":{"entity":"deal","deal_id":"D-1"},"data":{}}' > d2.json
    lead_ev l1 ping 2026-10-01T07:00:00Z ada@example.com '{"n":1}' > l1.json
    printf '[%s,%s,%s]' "$(cat l1.json)" "$(cat d1.json)" "$(cat d2.json)" > deal.json
    expect "$(code POST /v1/events --data-binary @deal.json)" 202 "the deal"
    wait_sql t.db "SELECT count(*) FROM outbox WHERE connector='finance' AND status='sent'" 2
    drain t.db
    curl -s "$sbase/_log" > fin.jsonl
    grep '"path":"/fin/' fin.jsonl | sed -n 's/.*"path":"\([^"]*\)".*/\1/p' | tr '\n' ' ' > order
    [ "$(cat order)" = "/fin/customers /fin/customers /fin/offers " ] || fail "calls out of order: $(cat order)"
    grep '"path":"/fin/offers"' fin.jsonl | grep -q 'cus_7' || fail "the offer does not carry the customer id: $(grep offers fin.jsonl)"
    grep '"path":"/fin/' fin.jsonl | grep -vq '"authorization":"Bearer fin-token"' && fail "a call without the token"
    expect "$(code GET /v1/entities/deal/D-1)" 200 "the deal"
    grep -q '"offer_id":"of_9"' body || fail "the offer id is not on the deal: $(head -c 400 body)"
    expect "$(code GET /v1/entities/lead/ada@example.com)" 200 "the lead"
    grep -q '"finance_customer_id":"cus_7"' body || fail "the customer id is not on the lead"
    # the answers came back as events, processed, in the effects
    [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE type='connector_result' AND status='processed'")" = 2 ] || fail "results not processed"
    # the deal is found by the offer id a response stored
    expect "$(code GET /v1/entities/deal/of_9)" 200 "the deal by its offer id"
    expect "$(code GET /metrics)" 200 "metrics"
    grep -q '^dna_events_received_total{type="builtin"} 2$' body || fail "metrics: the two answers are not counted as received"
    grep -q '^dna_events_processed_total{type="builtin"} 2$' body || fail "metrics: the two answers are not counted as processed"
    stop
    ;;
answers)
    "$dnac" compile "$src/tests/serve/deliver/rules.dna" -o rules.dnab >/dev/null || fail "compile"
    # the finance API on a stub of its own: the hook's answers do not take its script
    "$stub" --port 0 --log fin.log > fin.out 2> fin.err &
    fpid=$!
    trap '[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; kill "$spid" "$fpid" 2>/dev/null' EXIT
    i=0
    fport=
    while [ -z "$fport" ] && [ $i -lt 100 ]; do fport=$(sed -n 's/^port \([0-9]*\)$/\1/p' fin.out); sleep 0.05; i=$((i + 1)); done
    [ -n "$fport" ] || fail "the second stub_http did not start"
    fbase=http://127.0.0.1:$fport
    fscript() { printf "$1" | curl -s -X PUT --data-binary @- "$fbase/_script" > /dev/null || fail "script"; }
    fcount() { curl -s "$fbase/_count"; }
    export DL_FIN_URL="$fbase/fin" DL_FIN_TOKEN=fin-token DL_HOOK_URL="$sbase/hook" DL_HOOK_SECRET=whsec_c2VjcmV0
    fscript '201 delay=200 {"id":"cus_\\u0000x"}\n201 {"id":"of_9"}\n'
    curl -s -X PUT --data-binary '200 delay=200' "$sbase/_default" > /dev/null
    start t.db --no-wall-clock --deliver-history --retry-base 20
    printf '{"id":"d1","type":"deal_created","source":"crm","occurred_at":"2026-10-01T08:00:00Z","subject":{"entity":"deal","deal_id":"D-1"},"data":{"name":"Big","contact":"ada@example.com"}}' > d1.json
    printf '{"id":"d2","type":"deal_won","source":"crm","occurred_at":"2026-10-01T09:00:00Z","subject":{"entity":"deal","deal_id":"D-1"},"data":{}}' > d2.json
    evs=
    for n in 1 2 3 4 5 6; do lead_ev "p$n" ping "2026-10-01T07:0$n:00Z" "p$n@example.com" '{"n":1}' > "p$n.json"; evs="$evs,$(cat "p$n.json")"; done
    lead_ev l1 ping 2026-10-01T07:00:00Z ada@example.com '{"n":1}' > l1.json
    printf '[%s%s,%s,%s]' "$(cat l1.json)" "$evs" "$(cat d1.json)" "$(cat d2.json)" > deal.json
    expect "$(code POST /v1/events --data-binary @deal.json)" 202 "the deal and the pings"
    wait_sql t.db "SELECT count(*) FROM outbox WHERE connector='finance' AND status='sent'" 2
    wait_sql t.db "SELECT count(*) FROM outbox WHERE connector='hook' AND status='sent'" 7
    drain t.db
    sleep 1
    [ "$(fcount)" = 2 ] || fail "the finance API got $(fcount) requests, want 2 (one per call)"
    [ "$(count)" = 7 ] || fail "the hook got $(count) requests, want 7 (one per ping)"
    expect "$(code GET /v1/entities/lead/ada@example.com)" 200 "the lead"
    has '"finance_customer_id":"cus_\\u0000x"' "the customer id is not kept whole"
    curl -s "$fbase/_log" | grep '"path":"/fin/offers"' | grep -q 'cus_\\\\u0000x' || fail "the offer does not carry the whole customer id: $(curl -s "$fbase/_log" | tail -n 1)"
    # not JSON, three times (retries 3): dead, and the chain's next call with it
    fscript '201 not json\n201 not json\n201 not json\n'
    printf '{"id":"e1","type":"deal_created","source":"crm","occurred_at":"2026-10-02T08:00:00Z","subject":{"entity":"deal","deal_id":"D-2"},"data":{"name":"B","contact":"bob@example.com"}}' > e1.json
    printf '{"id":"e2","type":"deal_won","source":"crm","occurred_at":"2026-10-02T09:00:00Z","subject":{"entity":"deal","deal_id":"D-2"},"data":{}}' > e2.json
    lead_ev l2 ping 2026-10-02T07:00:00Z bob@example.com '{"n":1}' > l2.json
    printf '[%s,%s,%s]' "$(cat l2.json)" "$(cat e1.json)" "$(cat e2.json)" > deal2.json
    expect "$(code POST /v1/events --data-binary @deal2.json)" 202 "the second deal"
    wait_sql t.db "SELECT count(*) FROM outbox WHERE connector='finance' AND event_id='e2' AND status='dead'" 2
    [ "$(fcount)" = 5 ] || fail "a bad answer was tried $(( $(fcount) - 2 )) times, want 3"
    [ "$(sqlite3 t.db "SELECT attempts FROM outbox WHERE connector='finance' AND event_id='e2' ORDER BY seq LIMIT 1")" = 3 ] || fail "attempts not counted"
    sqlite3 t.db "SELECT last_error FROM outbox WHERE connector='finance' AND event_id='e2' ORDER BY seq LIMIT 1" | grep -q 'HTTP 201, but the answer is not JSON' ||
        fail "the dead letter does not say why: $(sqlite3 t.db "SELECT last_error FROM outbox WHERE event_id='e2'")"
    grep -q '"msg":"bad answer to a call, for good: in the dead-letter queue"' log || fail "no log line for the bad answer"
    # JSON without the field the `set` reads
    fscript '200 {"name":"x"}\n200 {"name":"x"}\n200 {"name":"x"}\n'
    printf '{"id":"g1","type":"deal_created","source":"crm","occurred_at":"2026-10-03T08:00:00Z","subject":{"entity":"deal","deal_id":"D-3"},"data":{"name":"C","contact":"cy@example.com"}}' > g1.json
    printf '{"id":"g2","type":"deal_won","source":"crm","occurred_at":"2026-10-03T09:00:00Z","subject":{"entity":"deal","deal_id":"D-3"},"data":{}}' > g2.json
    lead_ev l3 ping 2026-10-03T07:00:00Z cy@example.com '{"n":1}' > l3.json
    printf '[%s,%s,%s]' "$(cat l3.json)" "$(cat g1.json)" "$(cat g2.json)" > deal3.json
    expect "$(code POST /v1/events --data-binary @deal3.json)" 202 "the third deal"
    wait_sql t.db "SELECT count(*) FROM outbox WHERE connector='finance' AND event_id='g2' AND status='dead'" 2
    sqlite3 t.db "SELECT last_error FROM outbox WHERE connector='finance' AND event_id='g2' ORDER BY seq LIMIT 1" | grep -q 'no value at response.id' ||
        fail "the dead letter does not name the missing field"
    expect "$(code GET /metrics)" 200 "metrics"
    grep -q '^dna_deliveries_total{connector="finance",outcome="bad_answer"} 6$' body || fail "metrics: $(grep finance body)"
    grep -q '^dna_deliveries_total{connector="finance",outcome="dead"} 2$' body || fail "metrics: dead: $(grep finance body)"
    stop
    kill "$fpid"
    ;;
dlq)
    "$dnac" compile "$src/tests/serve/deliver/rules.dna" -o rules.dnab >/dev/null || fail "compile"
    export DL_HOOK_URL="$sbase/hook" DL_HOOK_SECRET=whsec_c2VjcmV0
    curl -s -X PUT --data-binary '500' "$sbase/_default" > /dev/null
    start t.db --no-wall-clock --deliver-history --retry-base 20
    lead_ev p1 ping 2026-10-01T08:00:00Z ada@example.com '{"n":1}' > p1.json
    lead_ev p2 ping 2026-10-01T08:01:00Z bob@example.com '{"n":2}' > p2.json
    printf '[%s,%s]' "$(cat p1.json)" "$(cat p2.json)" > pings.json
    expect "$(code POST /v1/events --data-binary @pings.json)" 202 "pings"
    wait_sql t.db "SELECT count(*) FROM outbox WHERE status='dead'" 2
    [ "$(count)" = 4 ] || fail "want 2 attempts each (retries 2), got $(count) requests"
    "$dnad" dlq list --db sqlite:t.db > list.json || fail "dlq list"
    grep -q '"attempts":2' list.json || fail "dlq list: $(head -c 400 list.json)"
    id1=$(sqlite3 t.db "SELECT seq FROM outbox WHERE event_id='p1'")
    id2=$(sqlite3 t.db "SELECT seq FROM outbox WHERE event_id='p2'")
    curl -s -X PUT --data-binary '200' "$sbase/_default" > /dev/null
    "$dnad" dlq retry "$id1" --db sqlite:t.db > r.out || fail "dlq retry"
    wait_sql t.db "SELECT status FROM outbox WHERE seq=$id1" sent
    [ "$(count)" = 5 ] || fail "the retried dead letter was sent $(( $(count) - 4 )) times, want once"
    "$dnad" dlq retry "$id1" --db sqlite:t.db > /dev/null 2>&1 && fail "retrying a sent effect must fail"
    expect "$(code GET /v1/dlq)" 200 "GET /v1/dlq"
    grep -q "\"id\":$id2" body || fail "the API does not list $id2"
    expect "$(code POST "/v1/dlq/$id2/drop")" 200 "drop"
    expect "$(code POST "/v1/dlq/$id2/drop")" 404 "drop twice"
    [ "$(sqlite3 t.db "SELECT status FROM outbox WHERE seq=$id2")" = dropped ] || fail "not dropped"
    expect "$(code GET /metrics)" 200 "metrics"
    grep -q '^dna_dead_letters 0$' body || fail "metrics: dead letters"
    sleep 0.5
    [ "$(count)" = 5 ] || fail "a dropped letter was sent"
    # 410 Gone: dead, the connector disabled; what follows waits until
    # enabled (on another connector: hook's breaker is open after 4 failures of 5)
    script '410\n'
    lead_ev p3 pong 2026-10-01T08:02:00Z cy@example.com '{"n":3}' > p3.json
    expect "$(code POST /v1/events --data-binary @p3.json)" 202 "p3"
    wait_sql t.db "SELECT status FROM outbox WHERE event_id='p3'" dead
    grep -q '"msg":"ALERT: the connector answered 410 Gone and is disabled' log || fail "no alert for 410"
    lead_ev p4 pong 2026-10-01T08:03:00Z di@example.com '{"n":4}' > p4.json
    expect "$(code POST /v1/events --data-binary @p4.json)" 202 "p4"
    sleep 1
    [ "$(sqlite3 t.db "SELECT status FROM outbox WHERE event_id='p4'")" = pending ] || fail "sent through a disabled connector"
    expect "$(code GET /v1/connectors)" 200 "connectors"
    grep -q '"name":"other"[^}]*"disabled":true' body || fail "other not shown disabled: $(head -c 500 body)"
    "$dnad" connector enable other --db sqlite:t.db | grep -q 'connector other enabled' || fail "dnad connector enable"
    wait_sql t.db "SELECT status FROM outbox WHERE event_id='p4'" sent
    stop
    ;;
*) fail "unknown case" ;;
esac
echo "ok ($case)"
