-- Durable timers: an evaluation that falls due at a moment, fired once by the scheduler.
CREATE TABLE timers (
    timer_id     UUID PRIMARY KEY,
    episode_id   TEXT        NOT NULL,
    kind         TEXT        NOT NULL,
    sequence     INTEGER     NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    fired_at     TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    UNIQUE (episode_id, kind, sequence)
);
CREATE INDEX timers_pending ON timers (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
