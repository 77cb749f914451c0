"""One fixture layer for real servers: environment variables first, testcontainers when a Docker engine
answers, otherwise the project's local launcher (embedded PostgreSQL + tansu). Never a mock."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from deploy.local import Infrastructure, LocalBroker, chosen_infrastructure
from shared.db import open_service_database
from shared.store.migrate import Migration, event_store_migrations


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    with chosen_infrastructure(tmp_path_factory.mktemp("broker")) as chosen:
        yield chosen


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
