-- Letters to the GP. A letter is written once and never changed: a correction is a new letter that points
-- to the one it corrects. No personal data here: the name and goals are merged in from intake when shown.
CREATE TABLE letter_episodes (
    episode_id UUID PRIMARY KEY,
    facts      JSONB  NOT NULL,
    composed   TEXT[] NOT NULL DEFAULT '{}'
);

CREATE TABLE letters (
    letter_id      UUID PRIMARY KEY,
    episode_id     UUID        NOT NULL,
    kind           TEXT        NOT NULL CHECK (kind IN ('start', 'interim', 'final')),
    letter_key     TEXT        NOT NULL,
    corrects       UUID REFERENCES letters,
    content        JSONB       NOT NULL,
    content_digest TEXT        NOT NULL,
    composed_at    TIMESTAMPTZ NOT NULL,
    sent_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (episode_id, letter_key)
);
CREATE INDEX letters_episode ON letters (episode_id, composed_at);

CREATE FUNCTION letters_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a letter is never changed; compose a correction instead';
END;
$$;
CREATE TRIGGER letters_immutable BEFORE UPDATE ON letters FOR EACH ROW EXECUTE FUNCTION letters_are_immutable();
