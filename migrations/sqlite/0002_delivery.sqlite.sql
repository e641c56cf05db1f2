-- 0002_delivery.sqlite.sql - connector delivery and bundle reloads.
--
-- events.bundle: the bundle (first 16 hex digits of its checksum) that
-- processed the event; a reload changes it between two events, never
-- inside one.
--
-- outbox: rebuilt with what the delivery loop needs.  Only effects that
-- name a connector and are not in shadow mode enter it (older rows that
-- do not stay in `effects` only).  A row is
-- `pending` until its connector answers: `sent` (2xx), `dead` (the last
-- attempt failed, or an answer that is not retried: the dead-letter
-- queue), `dropped` (an operator dropped a dead letter).  `next_at` is
-- when it may be tried (ms); `idem_key` is derived from the effect and is
-- the same on every attempt.

ALTER TABLE events ADD COLUMN bundle TEXT;

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
                CHECK (status IN ('pending', 'sent', 'dead', 'dropped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,    -- ms since the epoch
    last_code   INTEGER,                       -- HTTP status of the last attempt, 0: no answer
    last_error  TEXT,
    response    TEXT,                          -- the body of the 2xx answer (rest connectors)
    created_at  INTEGER NOT NULL,
    done_at     INTEGER
);
INSERT INTO outbox_new (seq, tenant, effect, event_id, kind, mode, connector, idem_key, line, status, attempts, created_at)
    SELECT seq, tenant, effect, event_id, kind, mode,
           json_extract(line, '$.detail.connector'), 'dna-' || tenant || '-' || effect, line,
           CASE status WHEN 'failed' THEN 'dead' ELSE status END, attempts, created_at
    FROM outbox WHERE mode <> 'shadow' AND json_extract(line, '$.detail.connector') IS NOT NULL;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (tenant, connector, seq) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox (tenant, seq) WHERE status = 'dead';

-- Connectors an answer of 410 Gone disabled; deliveries wait until an
-- operator enables the connector again (dnad connector enable NAME).
CREATE TABLE IF NOT EXISTS connector_state (
    tenant      TEXT    NOT NULL DEFAULT 'default',
    connector   TEXT    NOT NULL,
    disabled_at INTEGER,
    reason      TEXT,
    PRIMARY KEY (tenant, connector)
);

INSERT OR IGNORE INTO schema_version (version, applied_at) VALUES (2, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
