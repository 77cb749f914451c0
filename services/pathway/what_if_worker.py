"""The what-if's heavy part, run where it does not hold up the service: each episode of a chunk re-decided under a
draft (`domain.what_if.replay`) and compared with the decisions the pathway recorded.

`redecide` works on rows as the store read them (`store.history`): a thread of the service runs it on rows the
service read. `redecide_episodes` is what a worker process of a pool runs: it reads its chunk itself, on a
connection of its own (`worker_started` says where), so the rows never pass through the service and are never
pickled between processes. Top-level functions of plain, picklable arguments."""

from __future__ import annotations

import asyncio
import atexit
import gc
from collections.abc import Iterator, Sequence
from datetime import date, datetime

import asyncpg

from services.pathway.domain.episode_decisions import RulesCache
from services.pathway.domain.protocol import Protocol
from services.pathway.domain.what_if import Cell, EpisodeDifference, PracticeCounts, compare, replay, summarise
from services.pathway.store.history import (
    HistoryRow,
    RecordedRow,
    decode_histories,
    decode_recorded,
    history_rows,
    recorded_by_episode,
    recorded_rows,
)
from shared.db import DATABASE_UNAVAILABLE, DatabaseAddress
from shared.events import REGISTRY
from shared.store.event_store import EventStore

Found = tuple[dict[Cell, PracticeCounts], list[EpisodeDifference]]


def redecide(
    rows: Sequence[HistoryRow], recorded_rows: Sequence[RecordedRow], draft: Protocol, now: datetime, listed: bool
) -> Found:
    """What `draft` changes for the episodes in `rows` (their intake events) against what was recorded for them
    (`recorded_rows`), up to `now`: the counts per practice and month, and — when `listed` — the episodes that
    would differ (only what is asked for goes back to the service)."""

    def draft_on(_: date) -> Protocol:
        return draft

    rules = RulesCache()
    recorded = recorded_by_episode(recorded_rows)
    differing: list[EpisodeDifference] = []

    def differences() -> Iterator[EpisodeDifference]:
        for episode in decode_histories(rows, REGISTRY):
            as_recorded = decode_recorded(recorded.get(episode.episode_id, []), REGISTRY)
            difference = compare(episode, as_recorded, replay(episode, draft_on, now, rules))
            if listed and difference.differs:
                differing.append(difference)
            yield difference

    return summarise(differences()), differing


class _Reader:
    """A worker process's own connection to the service's schema, on an event loop of its own."""

    def __init__(self, address: DatabaseAddress, events: EventStore) -> None:
        self.address = address
        self.events = events
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection | None = None

    def read(self, episode_ids: Sequence[str]) -> tuple[list[HistoryRow], list[RecordedRow]]:
        try:
            return self.loop.run_until_complete(self._read(episode_ids))
        except DATABASE_UNAVAILABLE as error:
            self._drop()  # the next chunk connects again
            # Raised in the service as the database being away (an OSError: 503), whatever asyncpg raised here.
            raise ConnectionError(f"database: {error!r}") from None

    async def _read(self, episode_ids: Sequence[str]) -> tuple[list[HistoryRow], list[RecordedRow]]:
        if self.conn is None or self.conn.is_closed():
            self.conn = await self.address.connect()
        return await history_rows(self.conn, episode_ids), await recorded_rows(self.conn, self.events, episode_ids)

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None

    def close(self) -> None:
        if self.conn is not None and not self.conn.is_closed():
            try:
                self.loop.run_until_complete(self.conn.close(timeout=5))
            except DATABASE_UNAVAILABLE:
                self.conn.terminate()
        self.loop.close()


_reader: _Reader | None = None


def worker_started(address: DatabaseAddress, service: str) -> None:
    """A worker process's start, with this module (and so all that re-deciding needs) imported: where it reads
    (`address`, the event store of `service`), closed when the process ends; and the long-lived objects moved out
    of the cyclic collector's way (`gc.freeze`), which otherwise walks them again and again while a replay
    allocates (measured, a tenth of a worker's time)."""
    global _reader
    _reader = _Reader(address, EventStore(service, REGISTRY))
    atexit.register(_reader.close)
    gc.freeze()


def redecide_episodes(episode_ids: Sequence[str], draft: Protocol, now: datetime, listed: bool) -> Found:
    """`redecide` on these episodes, read by this worker (`worker_started`)."""
    if _reader is None:
        raise RuntimeError("redecide_episodes runs in a worker started by worker_started")
    rows, recorded = _reader.read(episode_ids)
    return redecide(rows, recorded, draft, now, listed)
