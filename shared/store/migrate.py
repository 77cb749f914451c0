"""Versioned SQL migrations, applied in order at service start, once per schema."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg


@dataclass(frozen=True)
class Migration:
    id: str
    sql: str


def migrations_in(package: str) -> list[Migration]:
    """The `NNNN_name.sql` files of a package's `migrations/` folder, in order, ids prefixed by package."""
    folder = resources.files(package) / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f"{package}:{Path(f.name).stem}", f.read_text()) for f in files]


def event_store_migrations() -> list[Migration]:
    return migrations_in("shared.store")


def _lock_key(schema: str) -> int:
    return int.from_bytes(hashlib.sha256(f"migrate:{schema}".encode()).digest()[:8], "big", signed=True)


async def migrate(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Create `schema` if needed and apply what has not been applied; returns the ids applied now.

    An advisory lock makes two processes of one service starting together take turns.
    """
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
            "id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {r["id"] for r in await conn.fetch(f'SELECT id FROM "{schema}".schema_migrations')}
        for migration in migrations:
            if migration.id in done:
                continue
            async with conn.transaction():
                await conn.execute(f'SET LOCAL search_path TO "{schema}"')
                await conn.execute(migration.sql)
                await conn.execute(f'INSERT INTO "{schema}".schema_migrations (id) VALUES ($1)', migration.id)
            applied_now.append(migration.id)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))
    return applied_now
