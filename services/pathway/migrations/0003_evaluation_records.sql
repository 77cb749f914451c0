-- What the timers need to know besides themselves: which evaluations were recorded (so an overdue timer
-- stays silent and recording twice plans the next evaluation once) and which episodes were closed (so
-- nothing schedules a timer for them again).
CREATE TABLE evaluations_recorded (
    episode_id        TEXT        NOT NULL,
    evaluation_number INTEGER     NOT NULL CHECK (evaluation_number >= 1),
    recorded_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (episode_id, evaluation_number)
);

CREATE TABLE timer_episodes_closed (
    episode_id TEXT PRIMARY KEY,
    closed_at  TIMESTAMPTZ NOT NULL
);
