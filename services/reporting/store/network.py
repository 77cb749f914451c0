"""The network read model's tables: the minimised copy of consumed events and one row per episode, and what
rebuilding the rows from the copy reads and writes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import asyncpg

from services.reporting.domain.network.facts import EpisodeFacts, EpisodeSummary
from services.reporting.domain.outcomes import Change
from services.reporting.store.episode_rows import lock_episode_rows

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


class ReceivedEvent(NamedTuple):
    """A consumed event as the copy keeps it: minimised to the data the figures need."""

    event_id: uuid.UUID
    episode_id: uuid.UUID
    event_type: str
    stream_version: int
    occurred_at: datetime
    data: dict[str, Any]


async def keep_events(conn: asyncpg.Connection, events: Sequence[ReceivedEvent]) -> set[uuid.UUID]:
    """Copy consumed events, in the order given; the ids of those copied now (the others had been copied,
    and applied, before). The copy is taken before the episodes: replay locks it in that order too."""
    rows = await conn.fetch(
        "INSERT INTO network_received_events (event_id, episode_id, event_type, stream_version, occurred_at, data)"
        " SELECT e.id, e.episode_id, e.type, e.version, e.at, e.data::jsonb"
        " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::timestamptz[], $6::text[])"
        " WITH ORDINALITY AS e(id, episode_id, type, version, at, data, n)"
        " ORDER BY e.n ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        [e.event_id for e in events],
        [e.episode_id for e in events],
        [e.event_type for e in events],
        [e.stream_version for e in events],
        [e.occurred_at for e in events],
        [json.dumps(e.data, separators=(",", ":")) for e in events],
    )
    return {row[0] for row in rows}


async def lock_episodes(conn: asyncpg.Connection, episode_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, EpisodeFacts]:
    """The episodes' facts, their rows locked for this transaction (see `lock_episode_rows`; events of one
    episode come on two topics and race)."""
    rows = await lock_episode_rows(conn, "network_episodes", "facts::text AS facts", episode_ids)
    return {episode_id: EpisodeFacts.from_json(row and row["facts"]) for episode_id, row in rows.items()}


async def save_episodes(conn: asyncpg.Connection, episodes: dict[uuid.UUID, EpisodeFacts]) -> None:
    """Write back episodes taken with `lock_episodes`."""
    await conn.executemany(_UPDATE, [episode_record(e, f) for e, f in episodes.items()])


async def fill_episodes(conn: asyncpg.Connection, episodes: dict[uuid.UUID, EpisodeFacts]) -> None:
    """Write every episode into the emptied table with one COPY (replay)."""
    records = [episode_record(e, f) for e, f in episodes.items()]
    await conn.copy_records_to_table("network_episodes", records=records, columns=list(EPISODE_COLUMNS))


async def summaries(
    conn: asyncpg.Connection, first_month: date | None, last_month: date | None, practice_agb: str | None
) -> list[EpisodeSummary]:
    """The summarised episodes referred in [first_month, last_month] (whole months), of one or all practices.
    Summarised from the folded facts, so a figure added later needs a replay, not a migration."""
    rows = await conn.fetch(
        "SELECT facts::text AS facts FROM network_episodes WHERE practice_agb IS NOT NULL"
        " AND ($1::date IS NULL OR referral_month >= $1) AND ($2::date IS NULL OR referral_month <= $2)"
        " AND ($3::text IS NULL OR practice_agb = $3)",
        first_month,
        last_month,
        practice_agb,
    )
    found = (EpisodeFacts.from_json(row["facts"]).summary() for row in rows)
    return [s for s in found if s is not None]


async def empty_episodes_for_rebuild(conn: asyncpg.Connection) -> int:
    """Lock the copy against new rows (a handler running meanwhile waits, then folds its event into the rebuilt
    row), empty `network_episodes`, and return how many events the copy holds."""
    await conn.execute("LOCK TABLE network_received_events IN SHARE MODE")
    await conn.execute("TRUNCATE network_episodes")
    return await conn.fetchval("SELECT count(*) FROM network_received_events")


async def copied_events(
    conn: asyncpg.Connection, batch: int
) -> AsyncIterator[tuple[int, Iterator[tuple[uuid.UUID, str, int, dict[str, Any]]]]]:
    """Every copied event in copy order, `batch` at a time: how many, and the events (episode id, type, stream
    version, data), decoded one by one as they are taken, so a batch's data is never all in memory at once
    (decoding it up front made the rebuild a third slower)."""
    cursor = await conn.cursor(
        "SELECT episode_id, event_type, stream_version, data::text FROM network_received_events ORDER BY seq"
    )
    loads = json.loads
    while rows := await cursor.fetch(batch):
        yield len(rows), ((episode_id, kind, version, loads(data)) for episode_id, kind, version, data in rows)
