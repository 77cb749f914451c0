-- The pathway's own copy of each episode's intake events, in intake's stream order: the facts the
-- guideline engine decides on are rebuilt from it (personal data in it stays sealed).
CREATE TABLE intake_events (
    episode_id     TEXT        NOT NULL,
    stream_version INTEGER     NOT NULL,
    event_id       UUID        NOT NULL UNIQUE,
    event_type     TEXT        NOT NULL,
    data_version   SMALLINT    NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    data           JSONB       NOT NULL,
    PRIMARY KEY (episode_id, stream_version)
);
