"""The letters' tables: each episode's letter facts (`letter_episodes`) and the letters, written once, with
their `ReportComposed` and `ReportSent` events. Every write takes a whole batch: a constant number of
statements however many episodes and letters it holds. The reads serve the letter routes and corrections."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.reporting.domain.letters.content import LetterContent, LetterFacts
from services.reporting.domain.letters.episode import LetterEpisode
from services.reporting.store.episode_rows import lock_episode_rows
from shared.events.envelope import Envelope
from shared.events.reporting import ReportComposed, ReportSent
from shared.store.event_store import PendingEvent
from shared.store.unit_of_work import UnitOfWork

LETTER_NAMESPACE = uuid.UUID("5b3c9a8e-1f2d-5c4b-9a7e-3d2c1b0a9f8e")
_SUMMARY = "letter_id, kind, content->>'title' AS title, composed_at, corrects"


async def letter_facts(conn: asyncpg.Connection, episode_id: uuid.UUID) -> LetterFacts | None:
    """The episode's letter facts, or None when the letters do not know the episode."""
    raw = await conn.fetchval("SELECT facts::text FROM letter_episodes WHERE episode_id = $1", episode_id)
    return LetterFacts.model_validate_json(raw) if raw else None


async def letter(conn: asyncpg.Connection, letter_id: uuid.UUID) -> asyncpg.Record | None:
    """The letter's row of `letters`."""
    return await conn.fetchrow("SELECT * FROM letters WHERE letter_id = $1", letter_id)


async def lock_letter(conn: asyncpg.Connection, letter_id: uuid.UUID) -> asyncpg.Record | None:
    """The letter's row of `letters`, locked for this transaction (a correction of it)."""
    return await conn.fetchrow("SELECT * FROM letters WHERE letter_id = $1 FOR UPDATE", letter_id)


async def episode_letters(conn: asyncpg.Connection, episode_id: uuid.UUID) -> list[asyncpg.Record]:
    """Summaries of the episode's letters in the order composed (start, interims, final on one day)."""
    return await conn.fetch(
        f"SELECT {_SUMMARY} FROM letters WHERE episode_id = $1"
        " ORDER BY composed_at, CASE kind WHEN 'start' THEN 0 WHEN 'interim' THEN 1 ELSE 2 END, letter_key",
        episode_id,
    )


async def letter_summary(conn: asyncpg.Connection, letter_id: uuid.UUID) -> asyncpg.Record | None:
    """The summary of one letter (as `episode_letters` lists it)."""
    return await conn.fetchrow(f"SELECT {_SUMMARY} FROM letters WHERE letter_id = $1", letter_id)


async def corrections_of(conn: asyncpg.Connection, letter_id: uuid.UUID) -> int:
    """How many corrections of the letter were stored."""
    return await conn.fetchval("SELECT count(*) FROM letters WHERE corrects = $1", letter_id)


async def lock_episodes(conn: asyncpg.Connection, episode_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, LetterEpisode]:
    """The episodes' letter state, their rows locked for this transaction (see `lock_episode_rows`)."""
    rows = await lock_episode_rows(conn, "letter_episodes", "facts::text AS facts, composed", episode_ids)
    return {
        episode_id: LetterEpisode(LetterFacts.model_validate_json(row["facts"]), set(row["composed"]))
        if row is not None
        else LetterEpisode()
        for episode_id, row in rows.items()
    }


async def save_episodes(conn: asyncpg.Connection, episodes: dict[uuid.UUID, LetterEpisode]) -> None:
    """Write back episodes taken with `lock_episodes`."""
    await conn.executemany(
        "UPDATE letter_episodes SET facts = $2::jsonb, composed = $3 WHERE episode_id = $1",
        [(i, e.facts.model_dump_json(), sorted(e.composed)) for i, e in episodes.items()],
    )


@dataclass(frozen=True)
class NewLetter:
    episode_id: uuid.UUID
    key: str
    content: LetterContent
    to_agb: str | None
    composed_at: datetime
    cause: Envelope | None = None  # the consumed event that made it due; None for a correction
    corrects: uuid.UUID | None = None


def letter_id(episode_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(LETTER_NAMESPACE, f"{episode_id}:{key}")


def digest(content: LetterContent) -> str:
    return hashlib.sha256(content.model_dump_json().encode()).hexdigest()


async def store_letters(uow: UnitOfWork, letters: Sequence[NewLetter]) -> list[uuid.UUID]:
    """Store the letters and append `ReportComposed` and `ReportSent` for each, in the order given, to their
    episodes' streams; each pair is caused by the letter's cause. Returns the letters' ids."""
    if not letters:
        return []
    ids = [letter_id(letter.episode_id, letter.key) for letter in letters]
    digests = [digest(letter.content) for letter in letters]
    await uow.conn.executemany(
        "INSERT INTO letters (letter_id, episode_id, kind, letter_key, corrects, content, content_digest,"
        " composed_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $8)",
        [
            (i, x.episode_id, x.content.kind, x.key, x.corrects, x.content.model_dump_json(), d, x.composed_at)
            for i, x, d in zip(ids, letters, digests, strict=True)
        ],
    )
    events = []
    for i, letter, d in zip(ids, letters, digests, strict=True):
        stream = str(letter.episode_id)
        correlation = letter.cause.correlationid if letter.cause else uuid.uuid4()
        causation = letter.cause.id if letter.cause else None
        content = letter.content
        composed = ReportComposed(
            letter_id=i, kind=content.kind, composed_on=content.composed_on, corrects=letter.corrects, content_digest=d
        )
        sent = ReportSent(letter_id=i, sent_on=letter.composed_at.date(), to_agb=letter.to_agb)
        events += [
            PendingEvent(stream, composed, correlation, causation),
            PendingEvent(stream, sent, correlation, causation),
        ]
    await uow.append_many(await uow.store.stream_versions(uow.conn, {e.stream_id for e in events}), events)
    return ids
