"""Backbone benchmark: event store appends (1 writer; 8 concurrent writers, one event per command), replay
decoded into payload models, relay throughput to the broker, and the `eventsourcing` library's Postgres
recorder on the same Postgres as the reference.

    .venv/bin/python -m bench.backbone [--appends 4000] [--replay 200000] [--relay 50000]

Uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, otherwise starts embedded Postgres and tansu.
Prints figures; never part of the tests' pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg

from deploy.local import embedded_infrastructure
from shared.db import open_service_database
from shared.events import REGISTRY
from shared.events.intake import sample_referral
from shared.store.event_store import START, EventStore
from shared.store.migrate import event_store_migrations
from shared.store.relay import Relay, RelayConfig

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PAYLOAD = sample_referral()
STORE = EventStore("bench", REGISTRY)


def line(label: str, count: int, seconds: float, unit: str = "events/s") -> float:
    rate = count / seconds
    print(f"  {label:<58} {rate:>10,.0f} {unit}   ({count:,} in {seconds:.2f} s)")
    return rate


async def appends(pool: asyncpg.Pool, writers: int, total: int) -> float:
    per_writer = total // writers

    async def writer(w: int) -> None:
        async with pool.acquire() as conn:
            for i in range(per_writer):
                async with conn.transaction():
                    await STORE.append(
                        conn, f"w{w}-{i}-{uuid.uuid4().hex[:6]}", 0, [PAYLOAD], time=NOW, correlation_id=uuid.uuid4()
                    )

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return time.perf_counter() - started


async def fill(pool: asyncpg.Pool, total: int) -> None:
    """Bulk-load events (100 per stream) for the replay and relay runs."""
    async with pool.acquire() as conn:
        for start in range(0, total, 2000):
            async with conn.transaction():
                for s in range(start, min(start + 2000, total), 100):
                    await STORE.append(
                        conn, f"fill-{s}", 0, [PAYLOAD] * min(100, total - s), time=NOW, correlation_id=uuid.uuid4()
                    )


async def replay(pool: asyncpg.Pool) -> tuple[int, float]:
    count = 0
    started = time.perf_counter()
    async for event in STORE.replay(pool, START, batch_size=10000):
        event.payload(REGISTRY)
        count += 1
    return count, time.perf_counter() - started


async def relay(pool: asyncpg.Pool, bootstrap: str, total: int) -> float:
    config = RelayConfig(topic=f"bench.relay.{uuid.uuid4().hex[:8]}", consumer_groups=[], partitions=6, batch_size=5000)
    relay = Relay(pool, STORE, bootstrap, config)
    await relay.start()
    started = time.perf_counter()
    published = 0
    while published < total:
        n = await relay.publish_once()
        if n == 0:
            break
        published += n
    elapsed = time.perf_counter() - started
    await relay.close()
    return elapsed


def eventsourcing_reference(database_url: str, schema: str, total: int) -> tuple[float, float]:
    """The eventsourcing library's PostgresApplicationRecorder, one event per insert, 1 and 8 threads."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parts = urlsplit(database_url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/") or "postgres",
        host=host,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
        pool_size=8,
        schema=schema,
    )
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    state = PAYLOAD.model_dump_json().encode()

    def insert(n: int) -> None:
        for _ in range(n):
            recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:ReferralReceived", state)])

    started = time.perf_counter()
    insert(total // 4)
    single = (total // 4) / (time.perf_counter() - started)
    threads = [threading.Thread(target=insert, args=(total // 8,)) for _ in range(8)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    concurrent = (total // 8 * 8) / (time.perf_counter() - started)
    datastore.close()
    return single, concurrent


async def main(args: argparse.Namespace, database_url: str, bootstrap: str) -> None:
    print(f"Postgres: {database_url.split('?')[0]}   broker: {bootstrap}   cores: {os.cpu_count()}")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pool = await open_service_database(database_url, schema, event_store_migrations(), max_size=10)
    try:
        print("Event store appends (one event per command, one transaction each)")
        one = line("1 writer", args.appends // 4, await appends(pool, 1, args.appends // 4))
        eight = line("8 concurrent writers   (target ≥ 4,000)", args.appends, await appends(pool, 8, args.appends))
        print("eventsourcing library, PostgresApplicationRecorder, same Postgres (reference)")
        es_schema = f"es_{uuid.uuid4().hex[:8]}"
        async with pool.acquire() as conn:
            await conn.execute(f'CREATE SCHEMA "{es_schema}"')
        es_one, es_eight = await asyncio.to_thread(eventsourcing_reference, database_url, es_schema, args.appends)
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{es_schema}" CASCADE')
        print(f"  {'1 writer':<58} {es_one:>10,.0f} events/s")
        print(f"  {'8 concurrent writers':<58} {es_eight:>10,.0f} events/s")
        print(f"  ratio ours/eventsourcing: 1 writer {one / es_one:.2f}×, 8 writers {eight / es_eight:.2f}×")

        async with pool.acquire() as conn:
            await conn.execute("TRUNCATE events")
        await fill(pool, args.replay)
        print("Replay (server-side batches, every payload decoded into its Pydantic model)")
        count, seconds = await replay(pool)
        line("replay   (target ≥ 80,000)", count, seconds)

        async with pool.acquire() as conn:
            await conn.execute("TRUNCATE events")
        await fill(pool, args.relay)
        print("Relay to the broker (kafka-python, acks=all, idempotent, checkpoint per batch)")
        line("relay    (target ≥ 10,000)", args.relay, await relay(pool, bootstrap, args.relay))
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=8000)
    parser.add_argument("--replay", type=int, default=200_000)
    parser.add_argument("--relay", type=int, default=50_000)
    args = parser.parse_args()
    with embedded_infrastructure(Path(tempfile.mkdtemp(prefix="rg-bench-"))) as (database_url, broker):
        asyncio.run(main(args, database_url, broker.bootstrap))


if __name__ == "__main__":
    cli()
