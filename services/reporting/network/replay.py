"""Rebuild the network read model from reporting's own copy of the consumed events, in one transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import asyncpg

from services.reporting.domain.network.facts import EpisodeFacts, fold_events
from services.reporting.store import network as store

Progress = Callable[[int, int], None]
BATCH = 10_000


async def rebuild(pool: asyncpg.Pool, progress: Progress | None = None) -> int:
    """Empty `network_episodes` and fold every copied event again, in copy order; returns the events applied.

    The copy is locked against new rows first, so a handler running meanwhile waits and then folds its event
    into the rebuilt row (handlers take the copy table before the episodes table, so nobody deadlocks).
    Folding happens in memory, with the handler's `fold_events`, and the episodes are written with one COPY.
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE network_received_events IN SHARE MODE")
        await conn.execute("TRUNCATE network_episodes")
        total = await conn.fetchval("SELECT count(*) FROM network_received_events")
        episodes: dict[uuid.UUID, EpisodeFacts] = {}
        done = 0
        cursor = await conn.cursor(
            "SELECT episode_id, event_type, stream_version, data::text FROM network_received_events ORDER BY seq"
        )
        loads = json.loads
        while batch := await cursor.fetch(BATCH):
            fold_events(
                episodes, ((episode_id, kind, version, loads(data)) for episode_id, kind, version, data in batch)
            )
            done += len(batch)
            if progress is not None:
                progress(done, total)
        await store.fill_episodes(conn, episodes)
        if progress is not None:
            progress(done, total)
        return done
