-- Read model: the pathway's current view of each episode, projected from its own log (rebuilt by replay).
CREATE TABLE episode_view (
    episode_id             TEXT PRIMARY KEY,
    beloop                 TEXT,
    duration_class         TEXT,
    classified_on          DATE,
    plan_components        TEXT[]      NOT NULL DEFAULT '{}',
    flagged_modalities     TEXT[]      NOT NULL DEFAULT '{}',
    next_evaluation_number INTEGER,
    next_evaluation_due    TIMESTAMPTZ,
    evaluations_due        INTEGER     NOT NULL DEFAULT 0,
    evaluations_completed  INTEGER     NOT NULL DEFAULT 0,
    evaluations_overdue    INTEGER     NOT NULL DEFAULT 0,
    escalations            JSONB       NOT NULL DEFAULT '[]',
    consults               TEXT[]      NOT NULL DEFAULT '{}',
    decisions              INTEGER     NOT NULL DEFAULT 0,
    last_event_at          TIMESTAMPTZ NOT NULL
);
