-- Subscriptions get a filter (the episodes they cover), a content mode, a lifecycle (active, paused, gone
-- after a 410), a rotatable secret, a circuit breaker and a lease on their delivery lane.
ALTER TABLE subscriptions
    ADD COLUMN filter_party          TEXT CHECK (filter_party IN ('practice', 'referrer')),
    ADD COLUMN filter_agb            TEXT,
    ADD COLUMN content_mode          TEXT NOT NULL DEFAULT 'structured'
                                          CHECK (content_mode IN ('structured', 'binary')),
    ADD COLUMN state                 TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'gone')),
    ADD COLUMN state_changed_at      TIMESTAMPTZ,
    ADD COLUMN state_reason          TEXT,
    ADD COLUMN previous_secret       TEXT,
    ADD COLUMN previous_secret_until TIMESTAMPTZ,
    ADD COLUMN breaker_failures      INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN breaker_open_until    TIMESTAMPTZ,
    ADD COLUMN lane_owner            TEXT,
    ADD COLUMN lane_lease_until      TIMESTAMPTZ;
-- Subscriptions made before filters existed keep no filter and so match no episode (delivering every
-- episode to them would show a subscriber episodes that are not its own).
UPDATE subscriptions SET state = CASE WHEN active THEN 'active' ELSE 'gone' END;
ALTER TABLE subscriptions DROP COLUMN active;
CREATE INDEX subscriptions_by_filter ON subscriptions (filter_agb) WHERE state <> 'gone';
CREATE INDEX subscriptions_by_subscriber ON subscriptions (subscriber, created_at);

-- Notifications' own copy of every event it consumed, stored once however many subscriptions get it.
-- An event is "held" (fanned_out_at IS NULL) while it waits for its episode's parties, for an earlier
-- held event of its source, or (until hold_until) for its cause.
CREATE TABLE received_events (
    event_id      UUID PRIMARY KEY,
    position      BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    source        TEXT        NOT NULL,
    event_type    TEXT        NOT NULL,
    subject       TEXT        NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    causation_id  UUID,
    body          BYTEA       NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    held_for      TEXT CHECK (held_for IN ('parties', 'order', 'cause')),
    hold_until    TIMESTAMPTZ,
    fanned_out_at TIMESTAMPTZ
);
CREATE INDEX received_events_held_by_subject ON received_events (subject, position) WHERE fanned_out_at IS NULL;
CREATE INDEX received_events_held_by_cause ON received_events (causation_id) WHERE fanned_out_at IS NULL;
CREATE INDEX received_events_hold_deadline ON received_events (hold_until) WHERE fanned_out_at IS NULL AND held_for = 'cause';

-- Who an episode belongs to, from ReferralReceived: the practice and the verwijzer (none on direct access).
CREATE TABLE episode_parties (
    episode_id   TEXT PRIMARY KEY,
    practice_agb TEXT        NOT NULL,
    referrer_agb TEXT,
    known_at     TIMESTAMPTZ NOT NULL
);

INSERT INTO received_events (event_id, source, event_type, subject, occurred_at, body, received_at, fanned_out_at)
SELECT DISTINCT ON (event_id) event_id, '/ruggengraat/unknown', event_type, subject, created_at, body, created_at,
       created_at
FROM deliveries ORDER BY event_id, created_at;

-- A delivery gets its sequence number when it is first sent (so numbers reach the receiver without gaps);
-- `position` is its arrival order, `round_attempts` counts attempts since it was last (re)queued.
ALTER TABLE deliveries
    DROP COLUMN body,
    ALTER COLUMN sequence DROP NOT NULL,
    ADD COLUMN position         BIGINT GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN priority         SMALLINT NOT NULL DEFAULT 0,
    ADD COLUMN causation_id     UUID,
    ADD COLUMN occurred_at      TIMESTAMPTZ,
    ADD COLUMN round_attempts   INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN first_attempt_at TIMESTAMPTZ,
    ADD COLUMN last_status_code INTEGER,
    ADD COLUMN last_error       TEXT,
    ADD COLUMN dead_at          TIMESTAMPTZ,
    ADD COLUMN requeued         INTEGER NOT NULL DEFAULT 0,
    ADD CONSTRAINT deliveries_event FOREIGN KEY (event_id) REFERENCES received_events;
UPDATE deliveries d SET occurred_at = e.occurred_at FROM received_events e WHERE e.event_id = d.event_id;
ALTER TABLE deliveries ALTER COLUMN occurred_at SET NOT NULL;
DROP INDEX deliveries_due;
DROP INDEX deliveries_order;
CREATE INDEX deliveries_lane ON deliveries (subscription_id, sequence, position) WHERE status = 'pending';
CREATE INDEX deliveries_by_position ON deliveries (subscription_id, position);
CREATE INDEX deliveries_dead ON deliveries (subscription_id, dead_at) WHERE status = 'dead';
CREATE INDEX deliveries_by_event ON deliveries (event_id);

-- Escalations to the verwijzer stay open until the subscriber (the referrer's system) acknowledges them.
CREATE TABLE escalations (
    subscriber       TEXT        NOT NULL,
    event_id         UUID        NOT NULL REFERENCES received_events,
    episode_id       TEXT        NOT NULL,
    details          JSONB       NOT NULL,
    raised_at        TIMESTAMPTZ NOT NULL,
    acknowledged_at  TIMESTAMPTZ,
    acknowledged_by  TEXT,
    PRIMARY KEY (subscriber, event_id)
);
CREATE INDEX escalations_open ON escalations (subscriber, raised_at) WHERE acknowledged_at IS NULL;
