-- NEN 7513: who read or changed which episode's data, when, from where, through which service.
-- Append-only: the database itself refuses changes and deletions. No clinical content is kept here.
CREATE TABLE access_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    service     TEXT        NOT NULL,
    actor_user  TEXT        NOT NULL,
    actor_role  TEXT        NOT NULL,
    actor_org   TEXT        NOT NULL,
    client      TEXT,
    action      TEXT        NOT NULL,
    route       TEXT        NOT NULL,
    episode_id  UUID        NOT NULL,
    patient_id  UUID
);
CREATE INDEX access_log_episode ON access_log (episode_id, at);
CREATE INDEX access_log_patient ON access_log (patient_id, at) WHERE patient_id IS NOT NULL;

CREATE FUNCTION access_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only (NEN 7513)';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_is_append_only();
