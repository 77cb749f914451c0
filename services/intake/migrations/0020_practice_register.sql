-- The register of care providers letters name: physiotherapy practices with their physiotherapists, and the
-- verwijzers (GPs) with their practice. Names and addresses of care providers, no patient data. Each row is the
-- entry as last written (validated by shared/practice_register.py), with who wrote it and when.
CREATE TABLE register_practices (
    practice_agb TEXT PRIMARY KEY,
    entry        JSONB       NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT        NOT NULL
);

CREATE TABLE register_referrers (
    referrer_agb TEXT PRIMARY KEY,
    entry        JSONB       NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT        NOT NULL
);

-- The physiotherapist responsible for an episode: the one who signs its letters.
CREATE TABLE episode_therapists (
    episode_id    UUID PRIMARY KEY,
    therapist_agb TEXT        NOT NULL,
    assigned_at   TIMESTAMPTZ NOT NULL,
    assigned_by   TEXT        NOT NULL
);
