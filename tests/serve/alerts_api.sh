#!/bin/sh
# alerts_api.sh - the operator API's alerts on the real daemon with the
# shipped rules: events raise alerts, GET /v1/alerts lists them (state and
# entity filters), POST /v1/alerts/{id}/ack acknowledges one through the
# intake (a durable alert_ack envelope the worker processes), a second ack
# is 409, an unknown id 404, no token 401; an overdue alert is listed as
# such and its ack is late; acks survive a restart (the state is rebuilt
# from the events table) and the effects equal `dnad replay`'s.
#
#   alerts_api.sh DNAD DNAC SRCDIR WORKDIR
dnad=$1 dnac=$2 src=$3 work=$4 case=alerts_api
. "$(dirname "$0")/lib.sh"

start t.db --no-wall-clock --lateness 0
lead_ev e1 demo_request 2026-10-01T08:00:00Z ada@example.com '{}' > e1.json
lead_ev e2 page_visit 2026-10-01T08:05:00Z bob@example.com '{"url":"/pricing"}' > e2.json
printf '[%s,%s]' "$(cat e1.json)" "$(cat e2.json)" > batch.json
expect "$(code POST /v1/events --data-binary @batch.json)" 202 "post the events"
drain t.db

# the list: open alerts, the most urgent first (a page visit is also a
# low-priority WEBSITE_VISIT, due in 72 hours)
expect "$(code GET /v1/alerts)" 200 "list"
has '"count":3' "three open alerts"
has '"key":"bob@example.com"},"signal":"WEBSITE_VISIT","priority":"low"' "bob's visit alert"
has '"signal":"DEMO_REQUEST","priority":"critical","status":"open"' "ada's demo alert"
has '"signal":"PRICING_PAGE","priority":"critical","status":"open"' "bob's pricing alert"
has '"due":"2026-10-01T09:00:00Z","overdue":false,"acked":false,"closed_at":null' "due, not overdue"
grep -q '"key":"ada@example.com".*"PRICING_PAGE".*"WEBSITE_VISIT"' body || fail "not ordered by due: $(cat body)"
# one entity's
expect "$(code GET '/v1/alerts?entity=lead/ada@example.com')" 200 "entity filter"
has '"count":1' "one alert for ada"
hasnt 'bob@example.com' "bob in ada's list"
a=$(sed -n 's/.*"alerts":\[{"id":\([0-9]*\),.*/\1/p' body)
[ -n "$a" ] || fail "no alert id in $(cat body)"
expect "$(code GET '/v1/alerts?entity=lead/nobody@example.com')" 404 "unknown entity"
expect "$(code GET '/v1/alerts?entity=nokind/x')" 400 "unknown kind"
expect "$(code GET '/v1/alerts?state=closed')" 400 "bad state"
expect "$(code GET '/v1/alerts?limit=1')" 200 "limit"
has '"count":3,"truncated":true' "limit 1 of 3"

# no token
expect "$(anon GET /v1/alerts)" 401 "list without a token"
expect "$(anon POST "/v1/alerts/$a/ack")" 401 "ack without a token"
expect "$(anon GET /v1/alerts -H 'Authorization: Bearer wrong')" 401 "wrong token"

# bad requests change nothing
expect "$(code POST "/v1/alerts/$a/ack" -d '{"by":5}')" 422 "by is not a string"
expect "$(code POST "/v1/alerts/$a/ack" -d '{"who":"x"}')" 422 "unknown body key"
expect "$(code POST "/v1/alerts/$a/ack" -d '{"by":')" 400 "malformed body"
expect "$(code POST "/v1/alerts/$a/ack" -d '{"by":"sam\u0000eve"}')" 400 "a NUL in by would cut who acknowledged (issue 19)"
expect "$(code POST /v1/alerts/999/ack)" 404 "unknown alert"
expect "$(code POST /v1/alerts/abc/ack)" 404 "not an id"
expect "$(code POST "/v1/alerts/$a/close")" 404 "unknown action"
expect "$(code GET "/v1/alerts/$a/ack")" 405 "GET on an action"
expect "$(code DELETE /v1/alerts)" 405 "DELETE the list"
[ "$(sqlite3 t.db "SELECT count(*) FROM events")" = 2 ] || fail "a refused request stored an event"

# the ack: 202 with the event id, durable, processed in order
expect "$(code POST "/v1/alerts/$a/ack" -d '{"by":"sam@dna.example"}')" 202 "ack"
has "\"alert\":$a,\"event\":\"ack-$a-" "202 body"
ev=$(sed -n 's/.*"event":"\([^"]*\)".*/\1/p' body)
sqlite3 t.db "SELECT body FROM events WHERE id='$ev'" > ackbody
grep -q '"type":"alert_ack"' ackbody || fail "the ack is not an alert_ack envelope: $(cat ackbody)"
grep -q "\"data\":{\"signal\":\"DEMO_REQUEST\",\"alert\":$a,\"by\":\"sam@dna.example\"}" ackbody || fail "ack envelope: $(cat ackbody)"
grep -q '"subject":{"entity":"lead","email":"ada@example.com"}' ackbody || fail "ack subject: $(cat ackbody)"
# a repeat is safe: the same event (200) while it is pending, 409 once processed
r=$(code POST "/v1/alerts/$a/ack")
case $r in 200) has "\"event\":\"$ev\",\"duplicate\":true" "repeat names the first event" ;; 409) ;; *) fail "repeat: $r" ;; esac
drain t.db
[ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE type='alert_ack'")" = 1 ] || fail "two ack events"
expect "$(code GET "/v1/events/$ev")" 200 "the ack event"
has '"status":"processed"' "ack processed"
[ "$(sqlite3 t.db "SELECT count(*) FROM effects WHERE kind='ack' AND event_id='$ev'")" = 1 ] || fail "no ack effect"
sqlite3 t.db "SELECT line FROM effects WHERE kind='ack'" | grep -q "\"alert\":$a,\"signal\":\"DEMO_REQUEST\",\"late\":false" || fail "ack effect"

# listed as acknowledged
expect "$(code GET /v1/alerts)" 200 "list after the ack"
has '"count":2' "two open alerts left"
hasnt 'ada@example.com' "ada's alert still open"
expect "$(code GET '/v1/alerts?state=acked')" 200 "acked list"
has "\"id\":$a,.*\"status\":\"acknowledged\".*\"acked\":true,\"closed_at\":\"2026-10-01T08:05:00Z\"" "acked alert"
expect "$(code GET '/v1/alerts?state=all')" 200 "all"
has '"count":3' "all alerts"
expect "$(code GET /v1/entities/lead/ada@example.com)" 200 "entity"
has "\"alerts\":\[{\"id\":$a,\"signal\":\"DEMO_REQUEST\",\"priority\":\"critical\",\"due\":\"2026-10-01T09:00:00Z\",\"status\":\"acknowledged\"}\]" "entity state"

# again: 409 with the alert
expect "$(code POST "/v1/alerts/$a/ack")" 409 "second ack"
has 'already acknowledged' "409 reason"
has '"acked":true' "409 names the state"

# bob's alert goes overdue when time passes its due; still open (not acked)
lead_ev e3 page_visit 2026-10-01T11:00:00Z cy@example.com '{"url":"/blog"}' > e3.json
expect "$(code POST /v1/events --data-binary @e3.json)" 202 "later event"
drain t.db
expect "$(code GET /v1/alerts)" 200 "list with an overdue alert"
has '"key":"bob@example.com"},"signal":"PRICING_PAGE","priority":"critical","status":"overdue"' "bob's alert overdue"
has '"overdue":true,"acked":false,"closed_at":"2026-10-01T09:05:00Z"' "overdue fields"
b=$(sed -n 's/.*"alerts":\[{"id":\([0-9]*\),.*/\1/p' body)
expect "$(code POST "/v1/alerts/$b/ack")" 202 "ack an overdue alert"
drain t.db
sqlite3 t.db "SELECT line FROM effects WHERE kind='ack'" | grep -q "\"alert\":$b,\"signal\":\"PRICING_PAGE\",\"late\":true" || fail "late ack effect"
expect "$(code GET /v1/alerts)" 200 "the visits are left"
has '"count":2' "two visit alerts open"
hasnt 'PRICING_PAGE' "bob's pricing alert still open"
expect "$(code GET /metrics)" 200 "metrics"
grep -q '^dna_events_processed_total{type="builtin"} 2$' body || fail "metrics: two built-in envelopes processed"

# the acks are events: a restart rebuilds them
stop
start t.db --no-wall-clock --lateness 0
expect "$(code GET '/v1/alerts?state=acked')" 200 "acked after restart"
has '"count":2' "both acks rebuilt"
expect "$(code POST "/v1/alerts/$a/ack")" 409 "ack after restart"
same_as_replay t.db
echo "alerts: $(sqlite3 t.db "SELECT count(*) FROM events") events, $(grep -c . effects.jsonl) effects equal to replay"
stop
json_log
echo "ok ($case)"
