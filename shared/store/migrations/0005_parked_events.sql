-- An episode waits for its stuck event: while one of its events is an open dead letter of a consumer, the
-- consumer's later events of that episode are parked here, in arrival order (id), until the stuck one is
-- re-driven or discarded; then they follow in order.
CREATE TABLE parked_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY,
    consumer      TEXT        NOT NULL,
    subject       TEXT        NOT NULL,
    event_id      UUID        NOT NULL,
    event_type    TEXT        NOT NULL,
    topic         TEXT        NOT NULL,
    partition     INTEGER     NOT NULL,
    record_offset BIGINT      NOT NULL,
    record_key    BYTEA,
    record_value  BYTEA       NOT NULL,
    parked_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX parked_events_subject ON parked_events (consumer, subject, id);
CREATE INDEX dead_letters_open_subject ON dead_letters (consumer, subject) WHERE state = 'open';
