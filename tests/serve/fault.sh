#!/bin/sh
# fault.sh - the store failing under the daemon (issue 19): tests/serve/
# fault_vfs (LD_PRELOAD) fails the Nth write, sync or read of the database
# or its WAL with an I/O error or "disk full", during a workload that goes
# through the intake, the worker's commits, delivery and a bundle reload.
# After each fault: the daemon is stopped (or has stopped itself), started
# again without faults, and then
#
#   - every event answered 202/200 is in the store and processed;
#   - every event answered with an error (4xx, 5xx) is not;
#   - the effects are exactly what replay gives over the accepted events
#     (each event processed once, none twice, none half);
#   - each processed ping's outbox row is sent, with its key, and the
#     connector got no key the outbox does not hold.
#
#   fault.sh DNAD DNAC SRCDIR WORKDIR STUB_HTTP FAULT_VFS_SO [long]
#
# The short loop (the normal test run) samples N over each operation's
# range; `long` (by hand: FAULT_LONG=1 or the 7th argument) tries every N.
dnad=$1 dnac=$2 src=$3 work=$4 stub=$5 so=$6 mode=${7:-${FAULT_LONG:+long}} case=fault
. "$(dirname "$0")/lib.sh"
trap '[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null' EXIT

"$dnac" compile "$src/tests/serve/deliver/rules.dna" -o rules.dnab >/dev/null || fail "compile"
stub_start
export DL_HOOK_URL="http://127.0.0.1:$sport/hook" DL_HOOK_SECRET=whsec_c2VjcmV0

# fstart DB: the daemon with the shim; 1 if it did not come up (a fault at start is one outcome)
fstart() {
    : > log
    LD_PRELOAD=$so "$dnad" serve --bundle rules.dnab --db "sqlite:$1" --listen 127.0.0.1:0 --no-wall-clock --deliver-history --lateness 0 --retry-base 20 2>>log &
    pid=$!
    i=0 port=
    while [ $i -lt 200 ]; do
        port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' log | head -n 1)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; pid=; return 1; }
        sleep 0.05; i=$((i + 1))
    done
    [ -n "$port" ] || fail "the daemon neither listened nor exited"
    base=http://127.0.0.1:$port
    i=0
    while [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" != 200 ]; do
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; pid=; return 1; }
        i=$((i + 1)); [ $i -gt 200 ] && return 0
        sleep 0.05
    done
    return 0
}
# post ID... : one request (a batch when more than one); records "ID CODE" in posted
post() {
    body=
    for id in "$@"; do
        e=$(lead_ev "$id" ping "2026-10-01T08:0$(printf '%s' "$id" | tr -cd 0-9 | tail -c 1):00Z" "$id@example.com" '{"n":1}')
        body="$body${body:+,}$e"
    done
    [ $# -gt 1 ] && body="[$body]"
    c=$(curl -s -o /dev/null -m 20 -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" --data-binary "$body" "$base/v1/events")
    for id in "$@"; do echo "$id $c" >> posted; done
}
sanitizer_clean() { ! grep -q 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' "$1"; }

# one run: fault OP N ERR STICKY
run() {
    op=$1 n=$2 err=$3 sticky=$4
    tag="$op#$n/$err${sticky:+/sticky}"
    rm -f t.db t.db-wal t.db-shm posted flog
    curl -s -X POST "http://127.0.0.1:$sport/_reset" > /dev/null
    : > posted
    export DNA_FAULT_OP=$op DNA_FAULT_N=$n DNA_FAULT_ERR=$err DNA_FAULT_STICKY=${sticky:-0} DNA_FAULT_LOG=$PWD/flog
    if fstart t.db; then
        post p1; post p2; post p3 p4
        code POST /v1/bundle > /dev/null                # a reload: the history replayed from the store
        post p5; post p6 p7; post p8
        i=0                                             # let the worker and the delivery run into it
        while [ $i -lt 40 ] && kill -0 "$pid" 2>/dev/null &&
              [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE status='pending'" 2>/dev/null)" != 0 ]; do
            sleep 0.05; i=$((i + 1))
        done
        sleep 0.3
        kill -TERM "$pid" 2>/dev/null
        wait "$pid"
        prc=$?
        pid=
        [ $prc -le 2 ] || fail "$tag: the daemon ended with $prc: $(tail -n 5 log)"
    fi
    sanitizer_clean log || fail "$tag: sanitizer: $(grep -m1 -A5 'ERROR\|runtime error' log)"
    cp log "log.$op.$n"
    unset DNA_FAULT_OP DNA_FAULT_N DNA_FAULT_ERR DNA_FAULT_STICKY DNA_FAULT_LOG
    # again, without faults: what was accepted is processed, once
    start t.db --no-wall-clock --deliver-history --lateness 0 --retry-base 20
    drain t.db
    i=0
    while [ "$(sqlite3 t.db "SELECT count(*) FROM outbox WHERE status <> 'sent'")" != 0 ]; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "$tag: the outbox does not empty: $(sqlite3 t.db "SELECT seq, status, last_error FROM outbox WHERE status <> 'sent'")"
        sleep 0.05
    done
    while read -r id c; do
        have=$(sqlite3 t.db "SELECT count(*) FROM events WHERE id='$id' AND status='processed'")
        case $c in
        200|202) [ "$have" = 1 ] || fail "$tag: $id was answered $c but is not processed" ;;
        000) ;;                                         # no answer: either is right
        *) [ "$(sqlite3 t.db "SELECT count(*) FROM events WHERE id='$id'")" = 0 ] || fail "$tag: $id was answered $c but is stored" ;;
        esac
    done < posted
    [ "$(sqlite3 t.db "SELECT count(*) FROM events")" = 0 ] || same_as_replay t.db
    pings=$(sqlite3 t.db "SELECT count(*) FROM events WHERE type='ping' AND status='processed'")
    [ "$(sqlite3 t.db "SELECT count(*) FROM outbox")" = "$pings" ] || fail "$tag: $pings pings, $(sqlite3 t.db "SELECT count(*) FROM outbox") outbox rows"
    curl -s "http://127.0.0.1:$sport/_log" | sed -n 's/.*"idempotency-key":"\([^"]*\)".*/\1/p' | sort -u > sent.keys
    sqlite3 t.db "SELECT idem_key FROM outbox" | sort -u > outbox.keys
    cmp -s sent.keys outbox.keys || fail "$tag: the keys the connector got are not the outbox's: $(diff sent.keys outbox.keys | head -n 5)"
    stop
    sanitizer_clean log || fail "$tag (restart): sanitizer: $(grep -m1 -A5 'ERROR\|runtime error' log)"
    fired=$(grep -c '^fault' flog 2>/dev/null || true)
    echo "$tag: $(date +%s) fired ${fired:-0}, answered $(awk '$2 ~ /^20/' posted | wc -l) of $(wc -l < posted), $pings processed"
}

# how many of each a clean run does
run none 0 ioerr ""
counts=$(grep '^count' flog | tail -n 1)
w=$(echo "$counts" | sed -n 's/.*write \([0-9]*\).*/\1/p')
s=$(echo "$counts" | sed -n 's/.*sync \([0-9]*\).*/\1/p')
r=$(echo "$counts" | sed -n 's/.*read \([0-9]*\).*/\1/p')
[ "${w:-0}" -gt 0 ] && [ "${s:-0}" -gt 0 ] || fail "the shim counted nothing ($counts): is it loaded?"
echo "a clean run: $w writes, $s syncs, $r reads"

if [ "$mode" = long ]; then
    k=1; while [ $k -le "$w" ]; do run write $k ioerr ""; run write $k full ""; k=$((k + 1)); done
    k=1; while [ $k -le "$s" ]; do run sync $k ioerr ""; k=$((k + 1)); done
    k=1; while [ $k -le "$r" ]; do run read $k ioerr ""; k=$((k + 7)); done
    k=1; while [ $k -le "$w" ]; do run write $k ioerr 1; k=$((k + 5)); done
else
    for f in 1 3 5 7 9; do
        run write $((w * f / 10 + 1)) "$([ $((f % 4)) = 1 ] && echo full || echo ioerr)" ""
        run sync $((s * f / 10 + 1)) ioerr ""
    done
    run read $((r / 2 + 1)) ioerr ""
    run write $((w / 2)) ioerr 1
fi
echo "ok (fault)"
