-- The regional network's view of quality. Both tables belong to services/reporting/network.
--
-- A copy of every consumed event the network's figures need, minimised to the fields they use (no patient
-- pseudonym, no sealed data, no free text): the read model below is rebuilt from this copy by replay.
CREATE TABLE network_received_events (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       UUID        NOT NULL UNIQUE,
    episode_id     UUID        NOT NULL,
    event_type     TEXT        NOT NULL,
    stream_version INTEGER     NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    data           JSONB       NOT NULL
);

-- Read model: one row per episode. `facts` is the folded state (order-independent); the other columns
-- are its summary, which the figures aggregate per practice and month of referral. Disposable: rebuilt
-- by `services.reporting.network.replay.rebuild`. The episode id never leaves reporting.
CREATE TABLE network_episodes (
    episode_id          UUID PRIMARY KEY,
    facts               JSONB   NOT NULL,
    practice_agb        TEXT,
    referral_month      DATE,
    duration_class      TEXT,
    course              TEXT,
    escalation_reasons  TEXT[]  NOT NULL DEFAULT '{}',
    evaluations_due     INTEGER NOT NULL DEFAULT 0,
    evaluations_on_time INTEGER NOT NULL DEFAULT 0,
    evaluations_overdue INTEGER NOT NULL DEFAULT 0,
    sessions            INTEGER NOT NULL DEFAULT 0,
    qbpds_baseline      NUMERIC,
    qbpds_follow_up     NUMERIC,
    qbpds_important     BOOLEAN,
    nprs_baseline       NUMERIC,
    nprs_follow_up      NUMERIC,
    nprs_important      BOOLEAN,
    psk_baseline        NUMERIC,
    psk_follow_up       NUMERIC,
    psk_important       BOOLEAN
);
CREATE INDEX network_episodes_month_practice ON network_episodes (referral_month, practice_agb)
    WHERE practice_agb IS NOT NULL;
