"""Read models projected from a service's own event log, kept up to date by a runner and rebuilt by replay.

A projection's tables are disposable: `rebuild` empties them and applies the whole log again in one
transaction, holding the checkpoint row, so a live runner waits rather than applying anything twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

import asyncpg

from shared.events.payload import EventPayload
from shared.store.event_store import START, EventStore, GlobalPosition, StoredEvent
from shared.supervisor import LoopHandle

Progress = Callable[[int, int], None]


class Projection(Protocol):
    name: str
    tables: tuple[str, ...]

    async def apply_batch(self, conn: asyncpg.Connection, events: Sequence[tuple[StoredEvent, EventPayload]]) -> None:
        """Apply events of the log, in log order, in the caller's transaction."""


class ProjectionRunner:
    def __init__(self, pool: asyncpg.Pool, store: EventStore, projection: Projection, batch_size: int = 1000) -> None:
        self.pool = pool
        self.store = store
        self.projection = projection
        self.batch_size = batch_size

    async def _checkpoint(self, conn: asyncpg.Connection) -> GlobalPosition:
        await conn.execute(
            "INSERT INTO projection_checkpoints (projection) VALUES ($1) ON CONFLICT DO NOTHING", self.projection.name
        )
        row = await conn.fetchrow(
            "SELECT transaction_id::text::bigint AS tx, position FROM projection_checkpoints"
            " WHERE projection = $1 FOR UPDATE",
            self.projection.name,
        )
        return GlobalPosition(row["tx"], row["position"])

    async def _apply_batch(self, conn: asyncpg.Connection, after: GlobalPosition) -> tuple[int, GlobalPosition]:
        batch = await self.store.read_all(conn, after, self.batch_size)
        if not batch:
            return 0, after
        await self.projection.apply_batch(conn, [(event, event.payload(self.store.registry)) for event in batch])
        last = batch[-1].global_position
        await conn.execute(
            "UPDATE projection_checkpoints SET transaction_id = $2::text::xid8, position = $3,"
            " applied = applied + $4 WHERE projection = $1",
            self.projection.name,
            str(last.transaction_id),
            last.position,
            len(batch),
        )
        return len(batch), last

    async def run_once(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            applied, _ = await self._apply_batch(conn, await self._checkpoint(conn))
            return applied

    async def run(self, stop: asyncio.Event, handle: LoopHandle | None = None, idle_seconds: float = 0.1) -> None:
        """Apply new events until `stop` is set. Runs under the service's supervisor: a failed batch ends this
        call (nothing of it committed) and the supervisor starts it again after a backoff."""
        handle = handle or LoopHandle(f"projection:{self.projection.name}")
        handle.busy()
        while not stop.is_set():
            applied = await self.run_once()
            handle.progressed()
            if applied == 0:
                try:
                    await asyncio.wait_for(stop.wait(), idle_seconds)
                except TimeoutError:
                    pass

    async def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the projection's tables and apply the whole log again; returns the events applied."""
        async with self.pool.acquire() as conn, conn.transaction():
            await self._checkpoint(conn)  # holds the row: a live runner waits for the rebuild to commit
            total = await conn.fetchval("SELECT count(*) FROM events")
            for table in self.projection.tables:
                await conn.execute(f'TRUNCATE "{table}"')
            await conn.execute(
                "UPDATE projection_checkpoints SET transaction_id = '0', position = 0, applied = 0"
                " WHERE projection = $1",
                self.projection.name,
            )
            done, position = 0, START
            while True:
                applied, position = await self._apply_batch(conn, position)
                if applied == 0:
                    break
                done += applied
                if progress is not None:
                    progress(done, total)
            return done
