#!/bin/sh
# approvals_api.sh - the operator API's approvals on the real daemon with
# the shipped rules: won deals park `won_to_finance` (mode approval), GET
# /v1/approvals lists the parked runs with their actions, approve performs
# them (the connector calls appear in the effects and the outbox, at the
# approval's time, marked with the approval id), reject drops them, a
# second decision is 409, an unknown id 404, no token 401; decisions
# survive a restart and the effects equal `dnad replay`'s.
#
#   approvals_api.sh DNAD DNAC SRCDIR WORKDIR
dnad=$1 dnac=$2 src=$3 work=$4 case=approvals_api
. "$(dirname "$0")/lib.sh"

deal_ev() {  # deal_ev ID TYPE TIME DEAL DATA
    printf '{"id":"%s","type":"%s","source":"crm","occurred_at":"%s","subject":{"entity":"deal","crm_deal_id":"%s"},"data":%s}' "$1" "$2" "$3" "$4" "$5"
}
start t.db --no-wall-clock --lateness 0
{
    printf '['
    for d in 1 2 3; do
        deal_ev "c$d" deal_created 2026-10-02T08:0${d}:00Z "D-$d" "{\"name\":\"Deal $d\",\"contact\":\"buyer$d@example.com\",\"value\":100$d.00}"
        printf ','
        deal_ev "w$d" deal_stage_changed 2026-10-03T08:0${d}:00Z "D-$d" '{"stage":"closed_won"}'
        [ $d = 3 ] || printf ','
    done
    printf ']'
} > deals.json
expect "$(code POST /v1/events --data-binary @deals.json)" 202 "post the deals"
drain t.db

# three parked runs, nothing sent to finance yet
expect "$(code GET /v1/approvals)" 200 "list"
has '"count":3' "three pending"
has '"id":1,"workflow":"won_to_finance","entity":{"kind":"deal","key":"D-1"},"status":"pending","parked_at":"2026-10-03T08:01:00Z","decided_at":null' "approval 1"
has '"actions":\[{"action":"call","connector":"finance","method":"create_customer","args":\["buyer1@example.com"\]},{"action":"call","connector":"finance","method":"create_offer","args":\["D-1"\]}\]' "parked actions with their values"
[ "$(sqlite3 t.db "SELECT count(*) FROM effects WHERE kind='connector'")" = 0 ] || fail "a parked call was performed"
expect "$(code GET '/v1/approvals?state=decided')" 200 "decided list"
has '"approvals":\[\],"count":0' "nothing decided"
expect "$(code GET '/v1/approvals?state=maybe')" 400 "bad state"

# no token, unknown ids, bad bodies
expect "$(anon GET /v1/approvals)" 401 "list without a token"
expect "$(anon POST /v1/approvals/1/approve)" 401 "approve without a token"
expect "$(code POST /v1/approvals/99/approve)" 404 "unknown approval"
expect "$(code POST /v1/approvals/0/reject)" 404 "approval 0"
expect "$(code POST /v1/approvals/1/maybe)" 404 "unknown decision"
expect "$(code POST /v1/approvals/1/approve -d '[1]')" 422 "body not an object"
expect "$(code GET /v1/approvals/1/approve)" 405 "GET on an action"
[ "$(sqlite3 t.db "SELECT count(*) FROM events")" = 6 ] || fail "a refused request stored an event"

# approve 1: the calls happen at the approval's time, marked with its id
expect "$(code POST /v1/approvals/1/approve -d '{"by":"fin@dna.example"}')" 202 "approve"
has '"approval":1,"decision":"approve","event":"approval-1-' "202 body"
ev1=$(sed -n 's/.*"event":"\([^"]*\)".*/\1/p' body)
drain t.db
sqlite3 t.db "SELECT body FROM events WHERE id='$ev1'" | grep -q '"type":"approval".*"data":{"id":1,"decision":"approve","by":"fin@dna.example"}' ||
    fail "approval envelope: $(sqlite3 t.db "SELECT body FROM events WHERE id='$ev1'")"
[ "$(sqlite3 t.db "SELECT count(*) FROM effects WHERE event_id='$ev1' AND kind='approved'")" = 1 ] || fail "no approved effect"
sqlite3 t.db "SELECT line FROM effects WHERE event_id='$ev1' AND kind='connector'" > calls
[ "$(grep -c . calls)" = 2 ] || fail "approved calls: $(cat calls)"
grep -q '"mode":"approval","approval":1,"detail":{"connector":"finance","method":"create_customer"' calls || fail "create_customer: $(cat calls)"
grep -q '"method":"create_offer"' calls || fail "create_offer: $(cat calls)"
[ "$(sqlite3 t.db "SELECT count(*) FROM outbox WHERE event_id='$ev1' AND kind='connector' AND mode='approval'")" = 2 ] || fail "outbox rows"
expect "$(code GET /v1/entities/deal/D-1)" 200 "the deal"
has '"kind":"approved"' "approved in the deal's trace"
has '"method":"create_offer"' "the call in the deal's trace"

# reject 2: nothing is sent
expect "$(code POST /v1/approvals/2/reject)" 202 "reject"
ev2=$(sed -n 's/.*"event":"\([^"]*\)".*/\1/p' body)
drain t.db
[ "$(sqlite3 t.db "SELECT count(*) FROM effects WHERE event_id='$ev2' AND kind='rejected'")" = 1 ] || fail "no rejected effect"
[ "$(sqlite3 t.db "SELECT count(*) FROM effects WHERE event_id='$ev2' AND kind='connector'")" = 0 ] || fail "a rejected call was performed"

# decided twice: 409, whichever way
expect "$(code POST /v1/approvals/1/approve)" 409 "approve twice"
has 'already approved' "409 reason"
expect "$(code POST /v1/approvals/1/reject)" 409 "reject an approved run"
expect "$(code POST /v1/approvals/2/approve)" 409 "approve a rejected run"
has 'already rejected' "409 reason (rejected)"
has '"status":"rejected"' "409 names the state"

expect "$(code GET /v1/approvals)" 200 "pending after the decisions"
has '"count":1' "one pending"
has '"id":3,' "approval 3 pending"
expect "$(code GET '/v1/approvals?state=decided')" 200 "decided"
has '"count":2' "two decided"
has '"id":1,"workflow":"won_to_finance","entity":{"kind":"deal","key":"D-1"},"status":"approved","parked_at":"2026-10-03T08:01:00Z","decided_at":"2026-10-03T08:03:00Z"' "approval 1 decided"
has '"status":"rejected"' "approval 2 rejected"
[ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE type='approval' AND status='processed'")" = 2 ] || fail "decision events"

# decisions are events: a restart rebuilds them
stop
start t.db --no-wall-clock --lateness 0 --max-body 4000000
expect "$(code GET '/v1/approvals?state=all')" 200 "all after restart"
has '"id":1,[^]]*"status":"approved"' "approved after restart"
has '"id":2,[^]]*"status":"rejected"' "rejected after restart"
has '"count":3' "three after restart"
expect "$(code POST /v1/approvals/2/reject)" 409 "reject after restart"
# a decision while the first one waits behind a backlog of 10,000 events:
# the same one again is a retry (200, the same event), the other one a
# conflict (409); once processed both are 409.  The three requests go over
# one connection right after the backlog's 202.
awk 'BEGIN { printf "["; for (i = 0; i < 10000; i++) printf "%s{\"id\":\"bulk%d\",\"type\":\"page_visit\",\"source\":\"portal\",\"occurred_at\":\"2026-10-03T08:03:00Z\",\"subject\":{\"entity\":\"lead\",\"email\":\"bulk%d@example.com\"},\"data\":{\"url\":\"/\"}}", i ? "," : "", i, i % 50; printf "]" }' > backlog.json
expect "$(code POST /v1/events --data-binary @backlog.json)" 202 "the backlog"
curl -s -H "Authorization: Bearer $TOKEN" -w '%{http_code}\n' -X POST -o d1 "$base/v1/approvals/3/approve" \
     --next -H "Authorization: Bearer $TOKEN" -w '%{http_code}\n' -X POST -o d2 "$base/v1/approvals/3/reject" \
     --next -H "Authorization: Bearer $TOKEN" -w '%{http_code}\n' -X POST -o d3 "$base/v1/approvals/3/approve" > codes
[ "$(sed -n 1p codes)" = 202 ] || fail "approve 3 behind the backlog: $(cat codes) $(cat d1)"
ev3=$(sed -n 's/.*"event":"\([^"]*\)".*/\1/p' d1)
case "$(sed -n 2p codes) $(cat d2)" in
    "409 "*"already being approved (event $ev3 is pending)"*) p2=pending ;;
    "409 "*"already approved"*) p2=processed ;;
    *) fail "reject while approve 3 is accepted: $(sed -n 2p codes) $(cat d2)" ;;
esac
case "$(sed -n 3p codes) $(cat d3)" in
    "200 "*"\"event\":\"$ev3\",\"duplicate\":true"*) p3=pending ;;
    "409 "*"already approved"*) p3=processed ;;
    *) fail "approve 3 again: $(sed -n 3p codes) $(cat d3)" ;;
esac
[ "$p2 $p3" = "processed pending" ] && fail "pending again after processed"
echo "approvals: a reject and a repeat after the approve: $p2, $p3"
drain t.db
[ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE type='approval'")" = 3 ] || fail "a repeat stored another decision"
expect "$(code GET '/v1/approvals?state=decided')" 200 "decided at the end"
has '"id":3,[^]]*"status":"approved"' "approval 3 approved"
same_as_replay t.db
echo "approvals: $(sqlite3 t.db "SELECT count(*) FROM events") events, $(grep -c . effects.jsonl) effects equal to replay"
stop
json_log
echo "ok ($case)"
