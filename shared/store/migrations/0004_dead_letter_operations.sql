-- An operator settles a consumer's dead letters: re-driven (handled after a fix) or discarded (with a reason).
-- Each letter keeps its episode (the envelope's subject) so it can be found by episode; each action on a letter
-- is kept: who, when, why, and what came of it.
ALTER TABLE dead_letters ADD COLUMN subject TEXT;
ALTER TABLE dead_letters ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'redriven', 'discarded'));
ALTER TABLE dead_letters ADD COLUMN settled_at TIMESTAMPTZ;
-- Letters kept before: their episode from the envelope they hold (a parseable one is valid UTF-8 JSON).
UPDATE dead_letters
SET subject = convert_from(record_value, 'UTF8')::jsonb ->> 'subject'
WHERE reason IN ('invalid', 'handler_failed');
CREATE INDEX dead_letters_open ON dead_letters (consumer, created_at) WHERE state = 'open';

CREATE TABLE dead_letter_actions (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dead_letter_id BIGINT      NOT NULL REFERENCES dead_letters (id),
    action         TEXT        NOT NULL CHECK (action IN ('redrive', 'discard')),
    actor_user     TEXT        NOT NULL,
    actor_org      TEXT        NOT NULL,
    reason         TEXT,
    outcome        TEXT        NOT NULL,
    error          TEXT,
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX dead_letter_actions_letter ON dead_letter_actions (dead_letter_id, id);
