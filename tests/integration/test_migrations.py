"""The migration runner records each applied file's checksum and refuses a schema whose applied file changed."""

from __future__ import annotations

import asyncpg
import pytest

from shared.store.migrate import AppliedMigrationChanged, Migration, migrate
from tests.conftest import unique

pytestmark = pytest.mark.integration

FIRST = Migration("t:0001_first", "CREATE TABLE first (id INT PRIMARY KEY);")
SECOND = Migration("t:0002_second", "CREATE TABLE second (id INT PRIMARY KEY);")


@pytest.fixture
async def conn(infrastructure):
    connection = await asyncpg.connect(infrastructure.database_url)
    schema = unique("m")
    try:
        yield connection, schema
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


async def recorded(connection: asyncpg.Connection, schema: str) -> dict[str, str | None]:
    rows = await connection.fetch(f'SELECT id, checksum FROM "{schema}".schema_migrations ORDER BY id')
    return {r["id"]: r["checksum"] for r in rows}


async def test_each_applied_file_is_recorded_with_its_checksum_and_applied_once(conn):
    connection, schema = conn
    assert await migrate(connection, schema, [FIRST]) == [FIRST.id]
    assert await migrate(connection, schema, [FIRST, SECOND]) == [SECOND.id]
    assert await migrate(connection, schema, [FIRST, SECOND]) == []
    assert await recorded(connection, schema) == {FIRST.id: FIRST.checksum, SECOND.id: SECOND.checksum}


async def test_a_changed_applied_file_refuses_the_start_and_applies_nothing(conn):
    connection, schema = conn
    await migrate(connection, schema, [FIRST])
    edited = Migration(FIRST.id, FIRST.sql.replace("INT", "BIGINT"))
    with pytest.raises(AppliedMigrationChanged, match="t:0001_first"):
        await migrate(connection, schema, [edited, SECOND])
    assert await recorded(connection, schema) == {FIRST.id: FIRST.checksum}  # the second was not applied


async def test_a_schema_from_before_checksums_records_them_at_its_next_start(conn):
    connection, schema = conn
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    await connection.execute(
        f'CREATE TABLE "{schema}".schema_migrations'
        " (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    await connection.execute(f'CREATE TABLE "{schema}".first (id INT PRIMARY KEY)')
    await connection.execute(f'INSERT INTO "{schema}".schema_migrations (id) VALUES ($1)', FIRST.id)
    assert await migrate(connection, schema, [FIRST]) == []
    assert await recorded(connection, schema) == {FIRST.id: FIRST.checksum}
    with pytest.raises(AppliedMigrationChanged):
        await migrate(connection, schema, [Migration(FIRST.id, FIRST.sql + "\n-- edited")])
