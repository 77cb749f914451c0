-- The patients intake knows, by pseudonym, with the key that seals their personal data.
-- Deleting `data_key` is erasure: every sealed copy anywhere becomes unreadable.
CREATE TABLE patients (
    patient_id        UUID PRIMARY KEY,
    practice_agb      TEXT        NOT NULL,
    data_key          BYTEA,
    created_at        TIMESTAMPTZ NOT NULL,
    last_treatment_at TIMESTAMPTZ NOT NULL,
    erased_at         TIMESTAMPTZ,
    erased_by         TEXT,
    CHECK ((data_key IS NULL) = (erased_at IS NOT NULL))
);
CREATE INDEX patients_retention ON patients (last_treatment_at) WHERE erased_at IS NULL;

-- Which episodes belong to which patient and who may see them (episode streams carry only the episode id).
CREATE TABLE patient_episodes (
    episode_id   UUID PRIMARY KEY,
    patient_id   UUID NOT NULL REFERENCES patients,
    practice_agb TEXT NOT NULL,
    referrer_agb TEXT
);
CREATE INDEX patient_episodes_patient ON patient_episodes (patient_id);
