"""The facts as the pathway recorded them, for re-deciding history: which episodes were referred in a period, each
one's intake events (the pathway's own copies, in stream order) with its practice and referrer, and the decisions
it recorded that a what-if compares (`what_if.COMPARED`).

Rows come as plain tuples: read by the service for a thread of its own, or by a worker process on a connection of
its own (`what_if_worker`), and decoded an episode at a time (`decode_histories`, `recorded_by_episode` and
`decode_recorded`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TypeVar

import asyncpg

from services.pathway.domain.episode_decisions import IntakeFact
from services.pathway.domain.what_if import COMPARED, Decided, EpisodeHistory
from shared.events.intake import ReferralReceived
from shared.events.registry import EventRegistry
from shared.store.event_store import EventStore


async def referred_between(
    conn: asyncpg.Connection, start: datetime, end: datetime, practice_agb: str | None = None
) -> list[str]:
    """The episodes whose referral the pathway received in [start, end), of one practice when given, in the
    order they were referred."""
    rows = await conn.fetch(
        "SELECT i.episode_id FROM intake_events i JOIN episode_parties p USING (episode_id)"
        " WHERE i.event_type = $1 AND i.occurred_at >= $2 AND i.occurred_at < $3"
        " AND ($4::text IS NULL OR p.practice_agb = $4) ORDER BY i.occurred_at, i.episode_id",
        ReferralReceived.event_type,
        start,
        end,
        practice_agb,
    )
    return [row["episode_id"] for row in rows]


HistoryRow = tuple[str, str, str | None, int, datetime, str, int, str]  # what `history_rows` reads, picklable


async def history_rows(conn: asyncpg.Connection, episode_ids: Sequence[str]) -> list[HistoryRow]:
    """The kept intake events of these episodes with their practice and referrer, each episode's in stream order:
    (episode id, practice, referrer, stream version, occurred at, type, data version, data as JSON text). An
    episode whose parties the pathway does not know is left out."""
    rows = await conn.fetch(
        "SELECT i.episode_id, p.practice_agb, p.referrer_agb, i.stream_version, i.occurred_at, i.event_type,"
        " i.data_version, i.data::text FROM intake_events i JOIN episode_parties p USING (episode_id)"
        " WHERE i.episode_id = ANY($1::text[]) ORDER BY i.episode_id, i.stream_version",
        list(episode_ids),
    )
    return list(map(tuple, rows))


def decode_histories(rows: Sequence[HistoryRow], registry: EventRegistry) -> Iterator[EpisodeHistory]:
    """The episodes in `rows`, in the order their first rows come, each decoded only when it is taken: one
    episode's objects at a time, so re-deciding a chunk keeps its working set small (a tenth faster than
    decoding the chunk first)."""
    for episode_id, episode_rows in _by_episode(rows).items():
        _, practice_agb, referrer_agb, *_ = episode_rows[0]
        facts = [
            IntakeFact(version, occurred_at, registry.decode_json(event_type, data_version, data))
            for _, _, _, version, occurred_at, event_type, data_version, data in episode_rows
        ]
        yield EpisodeHistory(episode_id, practice_agb, referrer_agb, facts)


RecordedRow = tuple[str, datetime, str, int, str]  # what `recorded_rows` reads, picklable


async def recorded_rows(conn: asyncpg.Connection, store: EventStore, episode_ids: Sequence[str]) -> list[RecordedRow]:
    """The decisions of `COMPARED` types the pathway recorded for these episodes, each episode's in stream order:
    (episode id, occurred at, type, data version, data as JSON text)."""
    rows = await store.read_payloads(conn, episode_ids, [t.event_type for t in COMPARED])
    return list(map(tuple, rows))


def recorded_by_episode(rows: Sequence[RecordedRow]) -> dict[str, list[RecordedRow]]:
    """The rows of `recorded_rows` by episode id, not yet decoded (`decode_recorded`, one episode at a time)."""
    return _by_episode(rows)


def decode_recorded(rows: Sequence[RecordedRow], registry: EventRegistry) -> list[Decided]:
    """One episode's recorded decisions, decoded, in their order."""
    return [
        Decided(occurred_at, registry.decode_json(event_type, data_version, data))
        for _, occurred_at, event_type, data_version, data in rows
    ]


Row = TypeVar("Row", HistoryRow, RecordedRow)


def _by_episode(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """Rows that start with an episode id, by episode, in the order their first rows come."""
    by_episode: dict[str, list[Row]] = {}
    for row in rows:
        by_episode.setdefault(row[0], []).append(row)
    return by_episode
