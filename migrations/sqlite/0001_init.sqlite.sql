-- 0001_init.sqlite.sql - the daemon's store on SQLite (dnad serve --db sqlite:PATH).
--
-- Event sourcing: `events` is the log of accepted envelopes in acceptance
-- order (seq); entity state lives in memory and is rebuilt at start-up by
-- replaying the processed events in seq order, each after advancing the
-- engine to the watermark recorded with it.  Every row carries a tenant.

CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
    seq          INTEGER PRIMARY KEY,          -- acceptance order
    tenant       TEXT    NOT NULL DEFAULT 'default',
    id           TEXT    NOT NULL,             -- the idempotency key
    type         TEXT    NOT NULL,
    occurred_at  INTEGER NOT NULL,             -- ms since the epoch
    received_at  INTEGER NOT NULL,             -- wall clock, ms
    late         INTEGER NOT NULL DEFAULT 0,   -- older than the watermark when accepted
    body         TEXT    NOT NULL,             -- the envelope as posted
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'processed', 'failed')),
    error        TEXT,
    watermark    INTEGER,                      -- the engine's watermark just before processing
    processed_at INTEGER,
    UNIQUE (tenant, id)
);
CREATE INDEX IF NOT EXISTS events_pending ON events (tenant, seq) WHERE status = 'pending';

-- Every effect the engine produced (the trace), in the order produced.
CREATE TABLE IF NOT EXISTS effects (
    seq        INTEGER PRIMARY KEY,
    tenant     TEXT    NOT NULL DEFAULT 'default',
    event_id   TEXT,                           -- NULL for a timer fired by the watermark
    entity     INTEGER NOT NULL,               -- engine handle (stable across rebuilds)
    entity_kind TEXT,
    entity_key TEXT,
    kind       TEXT    NOT NULL,
    line       TEXT    NOT NULL                -- the effect as `dnad replay` writes it
);
CREATE INDEX IF NOT EXISTS effects_entity ON effects (tenant, entity, seq);

-- Effects that leave the process, written with the status change of the
-- event that produced them; delivered by the connector worker (not built).
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY,
    tenant     TEXT    NOT NULL DEFAULT 'default',
    effect     INTEGER NOT NULL REFERENCES effects (seq),
    event_id   TEXT,
    kind       TEXT    NOT NULL,
    mode       TEXT    NOT NULL,               -- live, approval, shadow
    line       TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (tenant, seq) WHERE status = 'pending';

-- Small persisted values: the watermark.
CREATE TABLE IF NOT EXISTS meta (
    tenant TEXT NOT NULL DEFAULT 'default',
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (tenant, key)
);

INSERT OR IGNORE INTO schema_version (version, applied_at) VALUES (1, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
