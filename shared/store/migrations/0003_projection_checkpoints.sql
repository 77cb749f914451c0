-- How far each read model (projection of this service's own log) has applied the log.
CREATE TABLE projection_checkpoints (
    projection     TEXT PRIMARY KEY,
    transaction_id xid8   NOT NULL DEFAULT '0',
    position       BIGINT NOT NULL DEFAULT 0,
    applied        BIGINT NOT NULL DEFAULT 0
);
