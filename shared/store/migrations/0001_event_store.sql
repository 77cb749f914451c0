-- The event log of one service. Every service owns one schema and one such table.
-- `position` gives a total order for display; `transaction_id` (with position) is the order readers
-- follow, because BIGSERIAL/identity values are handed out before commit and can become visible
-- out of order under concurrent writers (see shared/store/event_store.py).
CREATE TABLE events (
    position          BIGINT GENERATED ALWAYS AS IDENTITY,
    transaction_id    xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id         TEXT        NOT NULL,
    stream_version    INTEGER     NOT NULL CHECK (stream_version >= 1),
    event_id          UUID        NOT NULL,
    event_type        TEXT        NOT NULL,
    data_version      SMALLINT    NOT NULL,
    occurred_at       TIMESTAMPTZ NOT NULL,
    correlation_id    UUID        NOT NULL,
    causation_id      UUID,
    guideline_version TEXT,
    data              JSONB       NOT NULL,
    PRIMARY KEY (stream_id, stream_version),
    UNIQUE (event_id)
);
CREATE INDEX events_commit_order ON events (transaction_id, position);

-- How far the relay got publishing this log to Kafka, and the oldest point a consumer group has not yet
-- confirmed (the place to republish from when the broker comes back empty).
CREATE TABLE relay_checkpoints (
    topic                    TEXT PRIMARY KEY,
    transaction_id           xid8   NOT NULL DEFAULT '0',
    position                 BIGINT NOT NULL DEFAULT 0,
    confirmed_transaction_id xid8   NOT NULL DEFAULT '0',
    confirmed_position       BIGINT NOT NULL DEFAULT 0,
    topic_id                 TEXT,
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per published batch and partition: the Kafka offset of the first record and its place in the log.
-- Maps a consumer group's committed offset back to a log position.
CREATE TABLE relay_offsets (
    topic          TEXT   NOT NULL,
    partition      INTEGER NOT NULL,
    first_offset   BIGINT NOT NULL,
    last_offset    BIGINT NOT NULL,
    transaction_id xid8   NOT NULL,
    position       BIGINT NOT NULL,
    PRIMARY KEY (topic, partition, first_offset)
);

-- The idempotent consumer's memory: an event id handled by a consumer, written in the same transaction
-- as the handler's effects.
CREATE TABLE inbox (
    consumer   TEXT NOT NULL,
    event_id   UUID NOT NULL,
    handled_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Records a consumer could not handle: unparseable, invalid, or failing after every retry.
CREATE TABLE dead_letters (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer      TEXT        NOT NULL,
    fingerprint   TEXT        NOT NULL,
    event_id      UUID,
    event_type    TEXT,
    topic         TEXT        NOT NULL,
    partition     INTEGER     NOT NULL,
    record_offset BIGINT      NOT NULL,
    record_key    BYTEA,
    record_value  BYTEA       NOT NULL,
    reason        TEXT        NOT NULL,
    error         TEXT        NOT NULL,
    attempts      INTEGER     NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (consumer, fingerprint)
);
