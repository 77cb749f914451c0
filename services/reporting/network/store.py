"""The network read model's tables: the minimised copy of consumed events and one row per episode."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg

from services.reporting.network.facts import EpisodeFacts, EpisodeSummary
from services.reporting.network.outcomes import Change

EPISODE_COLUMNS = (
    "episode_id",
    "facts",
    "practice_agb",
    "referral_month",
    "duration_class",
    "course",
    "escalation_reasons",
    "evaluations_due",
    "evaluations_on_time",
    "evaluations_overdue",
    "sessions",
    "qbpds_baseline",
    "qbpds_follow_up",
    "qbpds_important",
    "nprs_baseline",
    "nprs_follow_up",
    "nprs_important",
    "psk_baseline",
    "psk_follow_up",
    "psk_important",
)
_UPDATE = (
    "UPDATE network_episodes SET facts = $2::jsonb, "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(EPISODE_COLUMNS[2:], start=3))
    + " WHERE episode_id = $1"
)


def episode_record(episode_id: uuid.UUID, facts: EpisodeFacts) -> tuple[Any, ...]:
    """The row for `network_episodes`, in `EPISODE_COLUMNS` order."""
    s = facts.summary()
    if s is None:
        return (episode_id, facts.to_json(), *([None] * 4), [], 0, 0, 0, 0, *([None] * 9))

    def parts(c: Change | None) -> tuple[Any, ...]:
        return (c.baseline, c.follow_up, c.important) if c is not None else (None, None, None)

    return (
        episode_id,
        facts.to_json(),
        s.practice_agb,
        s.referral_month,
        s.duration_class,
        s.course,
        list(s.escalation_reasons),
        s.evaluations_due,
        s.evaluations_on_time,
        s.evaluations_overdue,
        s.sessions,
        *parts(s.qbpds),
        *parts(s.nprs),
        *parts(s.psk),
    )


async def keep_event(
    conn: asyncpg.Connection,
    event_id: uuid.UUID,
    episode_id: uuid.UUID,
    event_type: str,
    stream_version: int,
    occurred_at: datetime,
    data: dict[str, Any],
) -> bool:
    """Copy a consumed event; False when the copy was there already (then it has been applied)."""
    seq = await conn.fetchval(
        "INSERT INTO network_received_events (event_id, episode_id, event_type, stream_version, occurred_at, data)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (event_id) DO NOTHING RETURNING seq",
        event_id,
        episode_id,
        event_type,
        stream_version,
        occurred_at,
        json.dumps(data, separators=(",", ":")),
    )
    return seq is not None


async def apply_to_episode(
    conn: asyncpg.Connection, episode_id: uuid.UUID, event_type: str, stream_version: int, data: dict[str, Any]
) -> None:
    """Fold one event into the episode's row (created on first sight; events of two topics race)."""
    await conn.execute(
        "INSERT INTO network_episodes (episode_id, facts) VALUES ($1, '{}'::jsonb) ON CONFLICT DO NOTHING",
        episode_id,
    )
    raw = await conn.fetchval("SELECT facts::text FROM network_episodes WHERE episode_id = $1 FOR UPDATE", episode_id)
    facts = EpisodeFacts.from_json(raw)
    facts.apply(event_type, stream_version, data)
    await conn.execute(_UPDATE, *episode_record(episode_id, facts))


async def write_episodes(conn: asyncpg.Connection, records: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table("network_episodes", records=records, columns=list(EPISODE_COLUMNS))


async def summaries(
    conn: asyncpg.Connection, first_month: date | None, last_month: date | None, practice_agb: str | None
) -> list[EpisodeSummary]:
    """The summarised episodes referred in [first_month, last_month] (whole months), of one or all practices."""
    rows = await conn.fetch(
        "SELECT * FROM network_episodes WHERE practice_agb IS NOT NULL"
        " AND ($1::date IS NULL OR referral_month >= $1) AND ($2::date IS NULL OR referral_month <= $2)"
        " AND ($3::text IS NULL OR practice_agb = $3)",
        first_month,
        last_month,
        practice_agb,
    )
    return [_summary(r) for r in rows]


def _summary(row: asyncpg.Record) -> EpisodeSummary:
    def measured(name: str) -> Change | None:
        baseline, follow_up = row[f"{name}_baseline"], row[f"{name}_follow_up"]
        if baseline is None or follow_up is None:
            return None
        return Change(baseline, follow_up, baseline - follow_up, row[f"{name}_important"])

    return EpisodeSummary(
        practice_agb=row["practice_agb"],
        referral_month=row["referral_month"],
        duration_class=row["duration_class"],
        course=row["course"],
        escalation_reasons=tuple(row["escalation_reasons"]),
        evaluations_due=row["evaluations_due"],
        evaluations_on_time=row["evaluations_on_time"],
        evaluations_overdue=row["evaluations_overdue"],
        sessions=row["sessions"],
        qbpds=measured("qbpds"),
        nprs=measured("nprs"),
        psk=measured("psk"),
    )
