-- Each patient's data key, apart from everything that changes. Written once at enrolment, wrapped by a
-- key-encryption key that never enters the database (`kek_id` names it); re-wrapped only by a KEK rotation;
-- deleted by erasure, after which the service rewrites this table (VACUUM FULL) so that no dead row version
-- keeps a copy. `lookup` (an HMAC of the practice and the BSN) is how a referral finds its patient: it goes
-- with the key, so that once erased a BSN no longer leads to anybody.
CREATE TABLE patient_keys (
    lookup      UUID PRIMARY KEY,
    patient_id  UUID        NOT NULL UNIQUE,
    kek_id      TEXT        NOT NULL,
    wrapped_key BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- Keys stored before they were wrapped wait here until the service wraps them, at its next start
-- (`key_store.adopt_unwrapped_keys`), and then leave the table's file (VACUUM FULL).
ALTER TABLE patients RENAME COLUMN data_key TO unwrapped_key;
ALTER TABLE patients DROP CONSTRAINT patients_check;
COMMENT ON COLUMN patients.unwrapped_key IS 'only before 0003: emptied by the service at start';
