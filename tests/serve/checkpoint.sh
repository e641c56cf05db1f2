#!/bin/sh
# checkpoint.sh - the daemon checkpoints its WAL on a thread of its own
# (runtime/serve/checkpoint.h), not inside commits: a few events, far
# fewer than SQLite's 1000-page checkpoint-in-commit, are copied into the
# database file within a second, so the file alone (without its -wal)
# already holds them; and they are still there after a clean stop.
#
#   checkpoint.sh DNAD DNAC SRCDIR WORKDIR
dnad=$1 dnac=$2 src=$3 work=$4 case=checkpoint
. "$(dirname "$0")/lib.sh"

start c.db --no-wall-clock --lateness 0
i=1
while [ $i -le 20 ]; do
    lead_ev "c$i" page_visit "2026-10-01T08:00:0$((i % 10))Z" "l$i@example.com" '{"url":"/pricing"}' > e.json
    expect "$(code POST /v1/events --data-binary @e.json)" 202 "post event $i"
    i=$((i + 1))
done
drain c.db
[ -s c.db-wal ] || fail "no WAL next to the database"
# the database file alone, as a copy without its WAL
n=0
i=0
while [ "$n" != 20 ]; do
    i=$((i + 1)); [ $i -gt 40 ] && fail "the database file holds $n of 20 events: the WAL was not checkpointed"
    sleep 0.1
    rm -f alone.db alone.db-wal
    cp c.db alone.db
    n=$(sqlite3 alone.db "SELECT count(*) FROM events WHERE status = 'processed'" 2>/dev/null || echo 0)
done
kill -TERM "$pid"
wait "$pid" || fail "the daemon did not stop cleanly"
pid=
rm -f alone.db alone.db-wal
cp c.db alone.db
[ "$(sqlite3 alone.db "SELECT count(*) FROM events")" = 20 ] || fail "after the stop the database file lacks events"
echo "ok: checkpoint"
