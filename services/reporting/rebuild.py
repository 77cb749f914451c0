"""The network read model's replay: load every copied event (store) → fold (domain) → write (store), in one
transaction.

Kept apart from `handlers` so that a replay (`./ruggengraat replay reporting`, `bench.reporting_replay`) loads
only the store and the domain: importing the handlers' web and consumer modules too made the rebuild about a
fifth slower (the garbage collector walks every object they bring)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import asyncpg

from services.reporting.domain.network.facts import EpisodeFacts, fold_events
from services.reporting.store import ReportingStore
from services.reporting.store import network as network_store

Progress = Callable[[int, int], None]
REBUILD_BATCH = 10_000


async def rebuild_network(pool: asyncpg.Pool, progress: Progress | None = None) -> int:
    """Empty `network_episodes` and fold every copied event again, in copy order, in one transaction; returns
    the events applied.

    The copy is locked against new rows first, so a handler running meanwhile waits and then folds its event
    into the rebuilt row (handlers take the copy table before the episodes table, so nobody deadlocks).
    Folding happens in memory, with `fold_events` as `handlers.follow_network` folds, and the episodes are
    written with one COPY.
    """
    async with ReportingStore(pool).transaction() as conn:
        total = await network_store.empty_episodes_for_rebuild(conn)
        episodes: dict[uuid.UUID, EpisodeFacts] = {}
        done = 0
        async for count, batch in network_store.copied_events(conn, REBUILD_BATCH):
            fold_events(episodes, batch)
            done += count
            if progress is not None:
                progress(done, total)
        await network_store.fill_episodes(conn, episodes)
        if progress is not None:
            progress(done, total)
        return done
