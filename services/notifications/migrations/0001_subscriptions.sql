-- Who wants which events delivered where. The secret signs every delivery (Standard Webhooks).
CREATE TABLE subscriptions (
    subscription_id UUID PRIMARY KEY,
    subscriber      TEXT        NOT NULL,
    endpoint_url    TEXT        NOT NULL,
    event_types     TEXT[]      NOT NULL,
    secret          TEXT        NOT NULL,
    active          BOOLEAN     NOT NULL DEFAULT true,
    next_sequence   BIGINT      NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL
);

-- One row per event per subscription: written with the consumer's inbox row, sent by the dispatcher.
-- `sequence` numbers a subscription's deliveries so the receiver sees gaps.
CREATE TABLE deliveries (
    delivery_id      UUID PRIMARY KEY,
    subscription_id  UUID        NOT NULL REFERENCES subscriptions ON DELETE CASCADE,
    sequence         BIGINT      NOT NULL,
    event_id         UUID        NOT NULL,
    event_type       TEXT        NOT NULL,
    subject          TEXT        NOT NULL,
    body             BYTEA       NOT NULL,
    status           TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (subscription_id, event_id),
    UNIQUE (subscription_id, sequence)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_order ON deliveries (subscription_id, subject, sequence) WHERE status = 'pending';

-- Every attempt, successful or not.
CREATE TABLE delivery_attempts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   UUID        NOT NULL REFERENCES deliveries ON DELETE CASCADE,
    attempted_at  TIMESTAMPTZ NOT NULL,
    status_code   INTEGER,
    latency_ms    DOUBLE PRECISION NOT NULL,
    error         TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
