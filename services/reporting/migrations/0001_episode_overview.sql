-- Read model: one row per episode as reporting sees it. Disposable: rebuilt from events by replay.
CREATE TABLE episode_overview (
    episode_id            UUID PRIMARY KEY,
    -- Filled by ReferralReceived. Pathway events travel on another topic and may arrive first, so every
    -- column but the key may still be empty and every projection is an upsert.
    practice_agb          TEXT,
    referrer_agb          TEXT,
    route                 TEXT,
    referred_on           DATE,
    next_evaluation_due   TIMESTAMPTZ,
    evaluations_scheduled INTEGER     NOT NULL DEFAULT 0,
    last_event_type       TEXT        NOT NULL,
    last_event_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX episode_overview_practice ON episode_overview (practice_agb);
