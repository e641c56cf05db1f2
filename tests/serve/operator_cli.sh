#!/bin/sh
# operator_cli.sh - `dnad approvals ...` and `dnad alerts ...` against the
# real daemon over HTTP: lists as tables and as the API's JSON, approve and
# reject park-by-id (the decision lands in the store like the API's), a
# second decision exits 1 with the API's reason, an unknown id exits 1, a
# bad token exits 1, no daemon at the URL exits 2, usage errors exit 2.
#
#   operator_cli.sh DNAD DNAC SRCDIR WORKDIR
dnad=$1 dnac=$2 src=$3 work=$4 case=operator_cli
. "$(dirname "$0")/lib.sh"

deal_ev() {  # deal_ev ID TYPE TIME DEAL DATA
    printf '{"id":"%s","type":"%s","source":"crm","occurred_at":"%s","subject":{"entity":"deal","crm_deal_id":"%s"},"data":%s}' "$1" "$2" "$3" "$4" "$5"
}
op() {  # op ARGS...: dnad with the daemon's URL; stdout to out, stderr to err; prints the exit status
    "$dnad" "$@" --url "$base" >out 2>err
    echo $?
}
want() { [ "$1" = "$2" ] || fail "$3: exit $1, want $2; stdout: $(cat out); stderr: $(cat err)"; }
out_has() { grep -q "$1" out || fail "$2: $(cat out)"; }
err_has() { grep -q "$1" err || fail "$2: $(cat err)"; }

start t.db --no-wall-clock --lateness 0
{
    printf '['
    for d in 1 2; do
        deal_ev "c$d" deal_created 2026-10-02T08:0${d}:00Z "D-$d" "{\"name\":\"Deal $d\",\"contact\":\"buyer$d@example.com\",\"value\":100$d.00}"
        printf ','
        deal_ev "w$d" deal_stage_changed 2026-10-03T08:0${d}:00Z "D-$d" '{"stage":"closed_won"}'
        printf ','
    done
    printf '{"id":"e1","type":"demo_request","source":"web","occurred_at":"2026-10-03T09:00:00Z","subject":{"entity":"lead","email":"ada@example.com"},"data":{}}]'
} > events.json
expect "$(code POST /v1/events --data-binary @events.json)" 202 "post the events"
drain t.db

# approvals: the table, then JSON as the API gave it
want "$(op approvals list)" 0 "approvals list"
out_has '^id  workflow        entity    status   parked_at             actions$' "the header"
out_has '^1   won_to_finance  deal D-1  pending  2026-10-03T08:01:00Z  call finance.create_customer, call finance.create_offer$' "approval 1"
out_has '^2   won_to_finance  deal D-2  pending' "approval 2"
want "$(op approvals list --json)" 0 "approvals list --json"
python3 -c "import json,sys; d=json.load(open('out')); assert d['count']==2 and d['approvals'][0]['id']==1, d" || fail "--json: $(cat out)"
want "$(op approvals list --state decided)" 0 "decided"
out_has '^no approvals$' "nothing decided yet"

# decide: 1 approved, 2 rejected; the envelopes are in the store
want "$(op approvals approve 1 --by fin@dna.example)" 0 "approve 1"
out_has '^approval 1: approved (event approval-1-[0-9]*)$' "approve's answer"
want "$(op approvals reject 2)" 0 "reject 2"
out_has '^approval 2: rejected (event approval-2-' "reject's answer"
drain t.db
sqlite3 t.db "SELECT body FROM events WHERE type='approval' ORDER BY seq" > decisions
grep -q '"data":{"id":1,"decision":"approve","by":"fin@dna.example"}' decisions || fail "approve envelope: $(cat decisions)"
grep -q '"data":{"id":2,"decision":"reject"}' decisions || fail "reject envelope: $(cat decisions)"
want "$(op approvals list --state decided)" 0 "decided list"
out_has '^1   won_to_finance  deal D-1  approved' "1 approved"
out_has '^2   won_to_finance  deal D-2  rejected' "2 rejected"

# refused: decided already, unknown, not a number, bad token
want "$(op approvals reject 1)" 1 "reject an approved one"
err_has 'already approved (HTTP 409)' "the API's reason"
want "$(op approvals approve 99)" 1 "unknown approval"
err_has '^dnad: no approval 99 (HTTP 404)$' "404"
want "$(op approvals approve x1)" 2 "not an id"
DNA_API_TOKEN=wrong "$dnad" approvals list --url "$base" >out 2>err
want $? 1 "a wrong token"
err_has '(HTTP 401)' "401 named"
echo wrong > badtoken
want "$(op approvals list --token-file badtoken)" 1 "a wrong token file"

# alerts: list, one entity, ack, ack again
want "$(op alerts list)" 0 "alerts list"
out_has '^id  signal' "the alerts header"
out_has 'DEMO_REQUEST  lead ada@example.com  critical  open' "ada's alert"
a=$(grep 'DEMO_REQUEST' out | awk '{print $1}')
want "$(op alerts list --entity lead/ada@example.com --json)" 0 "one entity's alerts"
python3 -c "import json; d=json.load(open('out')); assert all(x['entity']['key']=='ada@example.com' for x in d['alerts']) and d['count']>=1, d" || fail "entity filter: $(cat out)"
want "$(op alerts ack "$a" --by sam@example.com)" 0 "ack"
out_has "^alert $a: acknowledged (event ack-$a-" "ack's answer"
drain t.db
want "$(op alerts list --state acked)" 0 "acked list"
out_has "^$a .*acknowledged" "listed as acknowledged"
want "$(op alerts ack "$a")" 1 "ack again"
err_has 'already acknowledged' "409 reason"
want "$(op alerts list --entity nokind/x)" 1 "a bad entity"

# usage, and no daemon there
"$dnad" approvals >out 2>err; want $? 2 "no action"
"$dnad" approvals approve >out 2>err; want $? 2 "no id"
"$dnad" alerts approve 1 >out 2>err; want $? 2 "approve is not an alerts action"
"$dnad" approvals list --entity lead/x >out 2>err; want $? 2 "--entity is for alerts"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
want "$(op approvals list)" 2 "the daemon is gone"
err_has "^dnad: cannot reach $base/v1/approvals: " "the reason"
echo "ok operator_cli"
