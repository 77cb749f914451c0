"""Versioned SQL migrations, applied in order at service start, once per schema.

Each applied file's SHA-256 is recorded with it; a service whose applied file has changed since refuses to
start (the schema would no longer be what the files say). An applied file is never edited: a change is a new
file."""

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

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class AppliedMigrationChanged(RuntimeError):
    """A migration applied to the schema no longer reads as it did when it was applied."""

    def __init__(self, schema: str, changed: list[str]) -> None:
        super().__init__(
            f"schema {schema}: applied migration(s) {', '.join(changed)} changed since they were applied; "
            "restore the applied file(s) and put the change in a new migration"
        )
        self.changed = changed


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
            "id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), checksum TEXT)"
        )
        # Schemas made before checksums were recorded: their files are taken as they are at this start.
        await conn.execute(f'ALTER TABLE "{schema}".schema_migrations ADD COLUMN IF NOT EXISTS checksum TEXT')
        done = {
            r["id"]: r["checksum"] for r in await conn.fetch(f'SELECT id, checksum FROM "{schema}".schema_migrations')
        }
        changed = [m.id for m in migrations if done.get(m.id) not in (None, m.checksum)]
        if changed:
            raise AppliedMigrationChanged(schema, changed)
        for migration in migrations:
            if migration.id in done:
                if done[migration.id] is None:
                    await conn.execute(
                        f'UPDATE "{schema}".schema_migrations SET checksum = $2 WHERE id = $1',
                        migration.id,
                        migration.checksum,
                    )
                continue
            async with conn.transaction():
                await conn.execute(f'SET LOCAL search_path TO "{schema}"')
                await conn.execute(migration.sql)
                await conn.execute(
                    f'INSERT INTO "{schema}".schema_migrations (id, checksum) VALUES ($1, $2)',
                    migration.id,
                    migration.checksum,
                )
            applied_now.append(migration.id)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))
    return applied_now
