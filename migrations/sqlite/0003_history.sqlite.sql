-- 0003_history.sqlite.sql - history is not news (issue 15).
--
-- outbox.status gains `history`: an external effect of an evaluation whose
-- `now` is earlier than the moment the daemon went live (a backfill, an
-- import, the old timers that fire when it goes live).  It is recorded and
-- never delivered, unless `--deliver-history` (then it is `pending`).
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt,
-- rows, sequence numbers and indexes as they were.

CREATE TABLE outbox_new (
    seq         INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL DEFAULT 'default',
    effect      INTEGER NOT NULL REFERENCES effects (seq),
    event_id    TEXT,
    kind        TEXT    NOT NULL,
    mode        TEXT    NOT NULL,              -- live or approval (approved runs)
    connector   TEXT    NOT NULL,
    idem_key    TEXT    NOT NULL,
    line        TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'dead', 'dropped', 'history')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,    -- ms since the epoch
    last_code   INTEGER,                       -- HTTP status of the last attempt, 0: no answer
    last_error  TEXT,
    response    TEXT,                          -- the body of the 2xx answer (rest connectors)
    created_at  INTEGER NOT NULL,
    done_at     INTEGER
);
INSERT INTO outbox_new SELECT seq, tenant, effect, event_id, kind, mode, connector, idem_key, line, status, attempts,
                              next_at, last_code, last_error, response, created_at, done_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (tenant, connector, seq) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox (tenant, seq) WHERE status = 'dead';

INSERT OR IGNORE INTO schema_version (version, applied_at) VALUES (3, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
