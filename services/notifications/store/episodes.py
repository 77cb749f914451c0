"""Per episode: the advisory lock that makes the consumer and the hold sweeper take turns, and its parties."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import asyncpg

from services.notifications.domain.filters import EpisodeParties

# Ordered by lock key: every transaction that takes several takes them in the same order, so two never wait
# for each other (PostgreSQL evaluates a volatile select list after the ORDER BY sort).
_LOCK = """
SELECT pg_advisory_xact_lock(k)
FROM (SELECT DISTINCT hashtextextended('notifications:' || s, 0) AS k FROM unnest($1::text[]) AS s) AS keys
ORDER BY k
"""


async def lock_episodes(conn: asyncpg.Connection, episode_ids: Collection[str]) -> None:
    """Lock the episodes for the rest of the transaction."""
    await conn.execute(_LOCK, list(episode_ids))


async def record_parties(conn: asyncpg.Connection, parties: Mapping[str, EpisodeParties], now: datetime) -> None:
    """Keep each episode's parties, unless known already (the first referral of an episode counts)."""
    if not parties:
        return
    await conn.execute(
        "INSERT INTO episode_parties (episode_id, practice_agb, referrer_agb, known_at)"
        " SELECT e, p, r, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS x(e, p, r)"
        " ON CONFLICT (episode_id) DO NOTHING",
        list(parties),
        [p.practice_agb for p in parties.values()],
        [p.referrer_agb for p in parties.values()],
        now,
    )


async def parties_of(conn: asyncpg.Connection, episode_id: str) -> EpisodeParties | None:
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM episode_parties WHERE episode_id = $1", episode_id
    )
    return EpisodeParties(row["practice_agb"], row["referrer_agb"]) if row else None
