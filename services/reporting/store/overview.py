"""The episode overview's table (`episode_overview`): the batch's merge, one episode's row and its parties."""

from __future__ import annotations

import uuid

import asyncpg

from services.reporting.domain.overview import OverviewChange

_MERGE = """
INSERT INTO episode_overview AS o (episode_id, practice_agb, referrer_agb, route, referred_on, next_evaluation_due,
                                   evaluations_scheduled, personal_data_erased, last_event_type, last_event_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::timestamptz[], $7::int[],
                     $8::bool[], $9::text[], $10::timestamptz[])
ORDER BY 1
ON CONFLICT (episode_id) DO UPDATE SET
    practice_agb = CASE WHEN excluded.route IS NULL THEN o.practice_agb ELSE excluded.practice_agb END,
    referrer_agb = CASE WHEN excluded.route IS NULL THEN o.referrer_agb ELSE excluded.referrer_agb END,
    referred_on = CASE WHEN excluded.route IS NULL THEN o.referred_on ELSE excluded.referred_on END,
    route = coalesce(excluded.route, o.route),
    next_evaluation_due = CASE WHEN excluded.evaluations_scheduled > 0
                                    AND excluded.evaluations_scheduled >= o.evaluations_scheduled
                               THEN excluded.next_evaluation_due ELSE o.next_evaluation_due END,
    evaluations_scheduled = greatest(o.evaluations_scheduled, excluded.evaluations_scheduled),
    personal_data_erased = o.personal_data_erased OR excluded.personal_data_erased,
    last_event_type = CASE WHEN excluded.evaluations_scheduled > 0
                           THEN excluded.last_event_type ELSE o.last_event_type END,
    last_event_at = CASE WHEN excluded.evaluations_scheduled > 0 THEN excluded.last_event_at ELSE o.last_event_at END
"""


async def merge_overview(conn: asyncpg.Connection, merged: dict[uuid.UUID, OverviewChange]) -> None:
    """Merge each episode's change into its row: one statement, rows taken in episode order."""
    ids = list(merged)
    rows = list(merged.values())
    await conn.execute(
        _MERGE,
        ids,
        [c.practice_agb for c in rows],
        [c.referrer_agb for c in rows],
        [c.route for c in rows],
        [c.referred_on for c in rows],
        [c.next_evaluation_due for c in rows],
        [c.evaluations_scheduled for c in rows],
        [c.personal_data_erased for c in rows],
        [c.last_event_type for c in rows],
        [c.last_event_at for c in rows],
    )


async def episode_overview(conn: asyncpg.Connection, episode_id: uuid.UUID) -> asyncpg.Record | None:
    """The episode's row, or None when reporting does not know it."""
    return await conn.fetchrow("SELECT * FROM episode_overview WHERE episode_id = $1", episode_id)


async def episode_parties(conn: asyncpg.Connection, episode_id: uuid.UUID) -> tuple[str, str | None] | None:
    """The episode's practice and verwijzer (AGB codes), or None when reporting does not know it."""
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM episode_overview WHERE episode_id = $1", episode_id
    )
    return (row["practice_agb"], row["referrer_agb"]) if row else None
