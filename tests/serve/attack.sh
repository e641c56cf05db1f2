#!/bin/sh
# attack.sh - the daemon under attack (issue 19): each case is one finding,
# on the real daemon over 127.0.0.1, with tests/serve/raw_http as the
# misbehaving client.
#
#   attack.sh DNAD DNAC SRCDIR WORKDIR RAW_HTTP CASE
#
# nul:        an escaped NUL in an id or an identity is a 400 naming where,
#             never a cut id ("a\u0000one" and "a\u0000two" are not one)
# timestamps: webhook-timestamp 9223372036854775807 and a created_at of
#             1e300 are refused with a reason, the daemon lives on; so are
#             --lateness and --max-future of 9223372036854775807 seconds
# chunked:    a chunked body past --max-body is not read without end
# framing:    two different Content-Length headers are a 400
# slow:       slow clients (a header line every so often, never done) are
#             cut at --header-timeout with 408; one client holds at most its
#             share; /healthz answers another client all the while
# reserve:    all ordinary connections taken: /healthz, /readyz, /metrics
#             still answered, anything else 503
# sigterm:    SIGTERM with requests in flight: each gets its answer, and
#             each 202 is in the store
# dbfile:     the database file deleted under the daemon: /readyz 503, the
#             intake 503, nothing 202'd into the void
# lock:       another process holds the write lock for 12 s: the daemon
#             waits (not ready meanwhile), then goes on; nothing lost
# enable:     POST /v1/connectors/nosuch/enable is a 404
dnad=$1 dnac=$2 src=$3 work=$4 raw=$5 case=attack_$6
. "$(dirname "$0")/lib.sh"

ev() { lead_ev "$@"; }
export FORMTOOL_SECRET=form-secret-$$
export EMAILTOOL_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
alive() { kill -0 "$pid" 2>/dev/null || fail "the daemon died: $(tail -n 5 log)"; expect "$(anon GET /healthz)" 200 "$1"; }

case ${case#attack_} in
nul)
    start t.db --no-wall-clock
    ev 'nul_a\u0000one' page_visit 2026-10-01T08:00:00Z ada@example.com '{"url":"/"}' > a.json
    ev 'nul_a\u0000two' page_visit 2026-10-01T08:01:00Z ada@example.com '{"url":"/"}' > b.json
    grep -q 'nul_a\\u0000one' a.json || fail "the test's own envelope lacks the escape"
    expect "$(code POST /v1/events --data-binary @a.json)" 400 "an id with NUL"
    has '\\"id\\" holds a NUL character' "the 400 does not say where"
    expect "$(code POST /v1/events --data-binary @b.json)" 400 "a second id with NUL"
    ev n3 page_visit 2026-10-01T08:02:00Z 'a\u0000b@example.com' '{"url":"/"}' > c.json
    expect "$(code POST /v1/events --data-binary @c.json)" 400 "an identity with NUL"
    has 'subject.email' "the 400 does not name the identity"
    printf '[%s,%s]' "$(ev ok1 page_visit 2026-10-01T08:03:00Z bob@example.com '{"url":"/"}')" "$(cat c.json)" > batch.json
    expect "$(code POST /v1/events --data-binary @batch.json)" 400 "a batch with one"
    has 'event 1:' "the 400 does not say which event"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events")" = 0 ] || fail "something was stored"
    # through a source webhook, the same
    printf '{"kind":"submission","form_name":"demo","submission_id":"s\\u0000x","created_at":"2026-10-01T09:00:00Z","fields":{"email":"ada@example.com"}}' > form.json
    sig=$(openssl dgst -sha256 -hmac "$FORMTOOL_SECRET" < form.json | sed 's/.*= //')
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$sig" --data-binary @form.json "$base/v1/sources/formtool")" 400 "a webhook id with NUL"
    # text fields are kept whole: a NUL in a URL is refused too (an envelope holds none)
    ev n4 page_visit 2026-10-01T08:04:00Z cy@example.com '{"url":"/a\u0000b"}' > d.json
    expect "$(code POST /v1/events --data-binary @d.json)" 400 "a field with NUL"
    expect "$(code POST /v1/events --data-binary "$(ev ok2 page_visit 2026-10-01T08:05:00Z cy@example.com '{"url":"/"}')")" 202 "a clean one"
    stop
    ;;
timestamps)
    # the daemon's own options: seconds times 1000 must not overflow
    for opt in --lateness --max-future; do
        timeout 10 "$dnad" serve --bundle rules.dnab --db sqlite:o.db --listen 127.0.0.1:0 "$opt" 9223372036854775807 2> opt.err
        [ $? = 2 ] || fail "$opt 9223372036854775807 was taken"
        grep -q -- "$opt needs seconds" opt.err || fail "$opt: $(cat opt.err)"
    done
    start t.db --no-wall-clock
    printf '{"event":"open","id":"em-1","ts":"2026-10-01T09:05:00Z","recipient":"ada@example.com","campaign":"autumn"}' > mail.json
    for ts in 9223372036854775807 -9223372036854775808 99999999999999999999 ' 1' 1e3; do
        expect "$(curl -s -o body -w '%{http_code}' -H "webhook-id: m1" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,AAAA" --data-binary @mail.json "$base/v1/sources/emailtool")" 401 "webhook-timestamp $ts"
        alive "after webhook-timestamp $ts"
    done
    expect "$(curl -s -o body -w '%{http_code}' -H "webhook-id: m1" -H "webhook-timestamp: 9223372036854775807" -H "webhook-signature: v1,AAAA" --data-binary @mail.json "$base/v1/sources/emailtool")" 401 "again"
    has 'out of range' "no reason for the huge time stamp"
    for at in 1e300 -1e300 1e20; do
        printf '{"kind":"submission","form_name":"demo","submission_id":"s-%s","created_at":%s,"fields":{"email":"ada@example.com"}}' "$at" "$at" > form.json
        sig=$(openssl dgst -sha256 -hmac "$FORMTOOL_SECRET" < form.json | sed 's/.*= //')
        expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$sig" --data-binary @form.json "$base/v1/sources/formtool")" 422 "created_at $at"
        has 'out of range' "created_at $at: no reason"
        alive "after created_at $at"
    done
    printf '{"kind":"submission","form_name":"demo","submission_id":"s-ok","created_at":1790000000,"fields":{"email":"ada@example.com"}}' > form.json
    sig=$(openssl dgst -sha256 -hmac "$FORMTOOL_SECRET" < form.json | sed 's/.*= //')
    expect "$(curl -s -o body -w '%{http_code}' -H "X-Webhook-Signature: sha256=$sig" --data-binary @form.json "$base/v1/sources/formtool")" 202 "Unix seconds"
    stop
    ;;
chunked)
    start t.db --no-wall-clock --max-body 65536
    "$raw" flood "$port" /v1/sources/formtool 4 > flood.txt || fail "raw_http flood"
    sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' flood.txt)
    grep -q 'closed 1' flood.txt || fail "the daemon read a chunked flood for 4 s: $(cat flood.txt)"
    # what it took in before closing is bounded by twice --max-body (plus the socket buffers)
    [ "$sent" -lt 20000000 ] || fail "the daemon took $sent bytes of a body limited to 64 KiB"
    expect "$(code POST /v1/events -H 'Transfer-Encoding: chunked' --data-binary @/dev/null)" 400 "an empty body (not JSON), chunked"
    alive "after the flood"
    grep -q '"msg":"a chunked body passed twice the size limit: connection closed"' log || fail "no log line"
    stop
    ;;
framing)
    start t.db --no-wall-clock
    body=$(ev f1 page_visit 2026-10-01T08:00:00Z ada@example.com '{"url":"/"}')
    n=$(printf '%s' "$body" | wc -c)
    printf 'POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\nContent-Length: 5\r\n\r\n%s' "$TOKEN" "$n" "$body" > two.req
    "$raw" send "$port" two.req > two.out
    head -n 1 two.out | grep -q '^HTTP/1.1 400' || fail "two Content-Length: $(head -n 1 two.out)"
    grep -q 'two different Content-Length headers' two.out || fail "no reason: $(cat two.out)"
    printf 'POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\nContent-Length: %d\r\n\r\n%s' "$TOKEN" "$n" "$n" "$body" > same.req
    "$raw" send "$port" same.req > same.out
    head -n 1 same.out | grep -q '^HTTP/1.1 202' || fail "the same Content-Length twice is one: $(head -n 1 same.out)"
    printf 'POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: +%d\r\n\r\n%s' "$TOKEN" "$n" "$body" > plus.req
    "$raw" send "$port" plus.req > plus.out
    head -n 1 plus.out | grep -q '^HTTP/1.1 400' || fail "Content-Length +N: $(head -n 1 plus.out)"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events")" = 1 ] || fail "want only the one clean request stored"
    stop
    ;;
slow)
    start t.db --no-wall-clock --header-timeout 2 --max-connections-per-client 20
    "$raw" slow "$port" 100 500 7000 127.0.0.1 > slow.txt &
    rpid=$!
    sleep 1
    i=0 ok=0
    while [ $i -lt 20 ]; do
        c=$(curl -s -o /dev/null -m 2 -w '%{http_code}' --interface 127.0.0.2 "$base/healthz")
        [ "$c" = 200 ] && ok=$((ok + 1))
        i=$((i + 1))
        sleep 0.2
    done
    wait $rpid
    [ $ok = 20 ] || fail "/healthz answered $ok of 20 during the slow clients"
    cat slow.txt
    open=$(sed -n 's/^open \([0-9]*\) .*/\1/p' slow.txt)
    got408=$(sed -n 's/.* 408 \([0-9]*\)$/\1/p' slow.txt)
    [ "$got408" -gt 0 ] || fail "no slow client got a 408: $(cat slow.txt)"
    expect "$(anon GET /metrics -H "Authorization: Bearer $TOKEN")" 200 "metrics"
    grep -q '^dna_http_connections_timed_out_total [1-9]' body || fail "metrics: no timed-out connections"
    grep -q '^dna_http_connections_refused_total [1-9]' body || fail "metrics: no refused connections"
    alive "after the slow clients"
    stop
    ;;
reserve)
    start t.db --no-wall-clock --max-connections 8 --max-connections-per-client 4 --header-timeout 30
    "$raw" slow "$port" 4 1000 4000 127.0.0.2 > s2.txt &
    p2=$!
    "$raw" slow "$port" 4 1000 4000 127.0.0.3 > s3.txt &
    p3=$!
    sleep 1
    for p in /healthz /readyz; do
        expect "$(curl -s -o body -w '%{http_code}' --interface 127.0.0.4 "$base$p")" 200 "$p with every ordinary connection taken"
    done
    expect "$(curl -s -o body -w '%{http_code}' --interface 127.0.0.4 -H "Authorization: Bearer $TOKEN" "$base/metrics")" 200 "/metrics in the reserve"
    expect "$(curl -s -o body -w '%{http_code}' --interface 127.0.0.4 -H "Authorization: Bearer $TOKEN" "$base/v1/events/x")" 503 "the API in the reserve"
    has 'too many connections' "the 503 does not say why"
    wait $p2 $p3
    expect "$(code GET /v1/events/x)" 404 "the API once the slow clients are gone"
    stop
    ;;
sigterm)
    start t.db --no-wall-clock
    files=
    for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
        ev "t$n" page_visit "2026-10-01T08:$((n + 10)):00Z" "u$n@example.com" '{"url":"/pricing"}' > "t$n.json"
        files="$files t$n.json"
    done
    # shellcheck disable=SC2086
    "$raw" inflight "$port" "$TOKEN" $files > inflight.txt &
    rpid=$!
    i=0
    while ! grep -q partial inflight.txt 2>/dev/null; do i=$((i + 1)); [ $i -gt 200 ] && fail "raw_http did not start"; sleep 0.02; done
    # every one accepted by the daemon (16, and this request)
    i=0
    until [ "$(curl -s -H "Authorization: Bearer $TOKEN" "$base/metrics" | sed -n 's/^dna_http_connections{class="ordinary"} //p')" -ge 17 ]; do
        i=$((i + 1)); [ $i -gt 100 ] && fail "the 16 connections were not all accepted"; sleep 0.01
    done
    kill -TERM "$pid"
    wait $rpid
    wait "$pid"
    rc=$?
    pid=
    [ $rc = 0 ] || fail "exit status $rc after SIGTERM"
    grep -q 'answered 16 of 16, 202: 16' inflight.txt || fail "requests in flight at SIGTERM: $(cat inflight.txt)"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events")" = 16 ] || fail "the 202s are not all in the store"
    [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE status='processed'")" = 16 ] || fail "not all processed before the stop"
    ;;
dbfile)
    start t.db --no-wall-clock
    expect "$(code POST /v1/events --data-binary "$(ev d1 page_visit 2026-10-01T08:00:00Z ada@example.com '{"url":"/"}')")" 202 "before"
    rm -f t.db t.db-wal t.db-shm
    expect "$(anon GET /readyz)" 503 "/readyz with the file gone"
    has 'is gone' "/readyz does not say why"
    expect "$(code POST /v1/events --data-binary "$(ev d2 page_visit 2026-10-01T08:01:00Z ada@example.com '{"url":"/"}')")" 503 "the intake with the file gone"
    has 'deleted or replaced' "the 503 does not say why"
    expect "$(anon GET /healthz)" 200 "alive"
    kill -TERM "$pid"; wait "$pid"; pid=
    ;;
lock)
    start t.db --lateness 0             # the wall clock on: the worker commits its watermark every second
    # an event of now makes the daemon live: only then does its watermark follow the wall clock
    expect "$(code POST /v1/events --data-binary "$(ev l1 page_visit "$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)" ada@example.com '{"url":"/"}')")" 202 "before"
    drain t.db
    # another process takes the write lock for 12 s (longer than the old 10 s timeout)
    (printf 'BEGIN IMMEDIATE;\nSELECT 1;\n'; sleep 12; printf 'COMMIT;\n') | sqlite3 t.db > /dev/null &
    lpid=$!
    sleep 0.5
    # the intake waits a bounded time, then 503 (nothing accepted)
    curl -s -o intake.body -w '%{http_code}' -m 20 -X POST -H "Authorization: Bearer $TOKEN" \
        --data-binary "$(ev l2 page_visit 2026-10-01T08:01:00Z ada@example.com '{"url":"/"}')" "$base/v1/events" > intake.code &
    cpid=$!
    sleep 2
    expect "$(anon GET /readyz)" 503 "/readyz while writes wait for the lock"
    has 'waiting for the store' "/readyz does not say why"
    wait $cpid
    [ "$(cat intake.code)" = 503 ] || fail "the intake while locked: $(cat intake.code) $(cat intake.body)"
    grep -q 'write lock is held by another process' intake.body || fail "the 503 does not say why: $(cat intake.body)"
    sleep 6
    expect "$(anon GET /readyz)" 503 "/readyz still, 8 s into the lock"
    wait $lpid
    kill -0 "$pid" 2>/dev/null || fail "the daemon stopped while the lock was held: $(tail -n 3 log)"
    i=0
    while [ "$(anon GET /readyz)" != 200 ]; do i=$((i + 1)); [ $i -gt 100 ] && fail "not ready again after the lock"; sleep 0.1; done
    expect "$(code POST /v1/events --data-binary "$(ev l2 page_visit 2026-10-01T08:01:00Z ada@example.com '{"url":"/"}')")" 202 "after"
    drain t.db
    [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE status='processed'")" = 2 ] || fail "want both events processed"
    stop
    ;;
enable)
    start t.db --no-wall-clock
    expect "$(code POST /v1/connectors/nosuch/enable)" 404 "an unknown connector"
    has 'no such connector' "404 without the reason"
    expect "$(code POST /v1/connectors/slack/enable)" 200 "a declared one"
    has 'was not disabled' "the declared one's answer"
    stop
    ;;
*) fail "unknown case" ;;
esac
echo "ok ($case)"
