-- Who an episode belongs to (from ReferralReceived): its practice and its verwijzer, for access checks.
CREATE TABLE episode_parties (
    episode_id   TEXT PRIMARY KEY,
    practice_agb TEXT NOT NULL,
    referrer_agb TEXT
);
