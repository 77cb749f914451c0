"""Who may see each episode the pathway knows: the practice and the verwijzer, learned from the referral."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared.events.intake import ReferralReceived


async def record(conn: asyncpg.Connection, referrals: Sequence[tuple[str, ReferralReceived]]) -> None:
    """Keep the parties of each (episode id, referral); an episode's first referral decides."""
    if referrals:
        await conn.execute(
            "INSERT INTO episode_parties (episode_id, practice_agb, referrer_agb)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (episode_id) DO NOTHING",
            [episode_id for episode_id, _ in referrals],
            [referral.practice_agb for _, referral in referrals],
            [referral.referrer_agb for _, referral in referrals],
        )


async def of(conn: asyncpg.Connection, episode_id: str) -> tuple[str, str | None] | None:
    """(practice AGB, referrer AGB) of the episode, or None for one the pathway does not know."""
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM episode_parties WHERE episode_id = $1", episode_id
    )
    return (row["practice_agb"], row["referrer_agb"]) if row else None


async def referrers_of(conn: asyncpg.Connection, episode_ids: Sequence[str]) -> dict[str, str | None]:
    rows = await conn.fetch(
        "SELECT episode_id, referrer_agb FROM episode_parties WHERE episode_id = ANY($1::text[])", list(episode_ids)
    )
    return {row["episode_id"]: row["referrer_agb"] for row in rows}
