"""One fixture layer for real servers: environment variables first, testcontainers when a Docker engine
answers, otherwise the project's local launcher (embedded PostgreSQL + tansu). Never a mock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from deploy.local import EmbeddedPostgres, LocalBroker
from shared.db import open_service_database
from shared.store.migrate import Migration, event_store_migrations


@dataclass(frozen=True)
class Infrastructure:
    database_url: str
    bootstrap: str
    how: str


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 — no engine, no client config: not available
        return False


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    database_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    stops = []
    how = []
    try:
        if (not database_url or not bootstrap) and _docker_answers():
            if not database_url:
                from testcontainers.postgres import PostgresContainer

                postgres = PostgresContainer("postgres:16-alpine", driver=None).start()
                stops.append(postgres.stop)
                database_url = postgres.get_connection_url()
                how.append("postgres:testcontainers")
            if not bootstrap:
                from testcontainers.kafka import KafkaContainer

                kafka = KafkaContainer("apache/kafka:3.9.0").with_kraft().start()
                stops.append(kafka.stop)
                bootstrap = kafka.get_bootstrap_server()
                how.append("kafka:testcontainers")
        if not database_url:
            postgres = EmbeddedPostgres()
            database_url = postgres.start()
            stops.append(postgres.stop)
            how.append("postgres:embedded")
        if not bootstrap:
            broker = LocalBroker(log_path=tmp_path_factory.mktemp("broker") / "tansu.log")
            bootstrap = broker.start()
            stops.append(broker.stop)
            how.append("kafka:tansu")
        yield Infrastructure(database_url, bootstrap, ",".join(how) or "environment")
    finally:
        for stop in reversed(stops):
            stop()


@pytest.fixture
def restartable_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A tansu broker of this test's own, which the test may restart empty (tansu keeps nothing)."""
    broker = LocalBroker(log_path=tmp_path / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def created_database(server_url: str, prefix: str = "rgtest") -> AsyncIterator[str]:
    """A database of its own on the shared server, dropped afterwards; yields its URL."""
    name = unique(prefix)
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield _with_database(server_url, name)
    finally:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def fresh_database(infrastructure: Infrastructure) -> AsyncIterator[str]:
    """A database of this test's own on the shared server, dropped afterwards."""
    async with created_database(infrastructure.database_url) as url:
        yield url


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def schema_pool(server_url: str, migrations: list[Migration], prefix: str = "t") -> AsyncIterator[asyncpg.Pool]:
    """A pool in a random schema of the shared database with `migrations` applied; the schema is dropped after."""
    schema = unique(prefix)
    pool = await open_service_database(server_url, schema, migrations, max_size=12)
    try:
        yield pool
    finally:
        await pool.close()
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


@pytest.fixture
async def store_pool(infrastructure: Infrastructure) -> AsyncIterator[asyncpg.Pool]:
    """A pool in a random schema holding an event store, on the shared database."""
    async with schema_pool(infrastructure.database_url, event_store_migrations()) as pool:
        yield pool


async def eventually(probe, timeout: float = 30.0, interval: float = 0.1):
    """Await `probe()` until it returns something truthy; the last value on timeout is in the error."""
    deadline = asyncio.get_running_loop().time() + timeout
    value = None
    while asyncio.get_running_loop().time() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s; last value: {value!r}")
