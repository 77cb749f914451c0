-- Idempotency-Key on POSTs: a retried request gets the first answer instead of acting twice.
CREATE TABLE idempotency_keys (
    caller_org   TEXT        NOT NULL,
    key          TEXT        NOT NULL,
    route        TEXT        NOT NULL,
    request_hash TEXT        NOT NULL,
    status_code  INTEGER     NOT NULL,
    body         JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (caller_org, key)
);
