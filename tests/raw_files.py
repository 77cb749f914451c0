"""What an auditor with the database server's files sees: the raw table files and WAL segments of a PostgreSQL
cluster searched for secrets in clear, hex and base64. Needs the server's data directory on this machine (the
embedded cluster the tests start); `server_files` says why not otherwise."""

from __future__ import annotations

import base64
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest


def forms(secret: bytes | str) -> dict[str, bytes]:
    """The ways a secret may lie in a file: as it is, as hex (bytea's text form) and as base64 (JSON's)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return {
        "clear": raw,
        "hex": raw.hex().encode(),
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
    }


@dataclass(frozen=True)
class ServerFiles:
    """The data directory of the server a connection is on, and where in it the current database lies."""

    data_directory: Path
    database_directory: Path

    async def relation_files(self, conn: asyncpg.Connection, relation: str) -> list[Path]:
        """The files of a table (main fork and its 1 GB segments), e.g. `patient_keys`."""
        path = self.data_directory / await conn.fetchval("SELECT pg_relation_filepath($1::regclass)", relation)
        return [path, *sorted(path.parent.glob(f"{path.name}.[0-9]*"))]

    def database_files(self) -> list[Path]:
        """Every file of the database: all its tables, indexes, TOAST and forks."""
        return sorted(p for p in self.database_directory.iterdir() if p.is_file())

    def wal_segments(self, since: str) -> list[Path]:
        """The WAL segments from `since` (a segment name, `wal_segment`) on: what was written after that."""
        wal = self.data_directory / "pg_wal"
        return sorted(p for p in wal.iterdir() if len(p.name) == 24 and p.name[8:] >= since[8:])


async def server_files(conn: asyncpg.Connection) -> ServerFiles | str:
    """The server's files, or why they cannot be read from here (a server in a container or elsewhere)."""
    try:
        data = Path(await conn.fetchval("SELECT current_setting('data_directory')"))
    except asyncpg.InsufficientPrivilegeError:
        return "the test's database role may not see the data directory"
    if not os.access(data / "base", os.R_OK | os.X_OK):
        return f"the server's data directory {data} is not on this machine"
    oid = await conn.fetchval("SELECT oid FROM pg_database WHERE datname = current_database()")
    return ServerFiles(data, data / "base" / str(oid))


def cannot_scan(reason: str, how: str) -> None:
    """The raw files are out of reach: a server in a container or elsewhere skips the scan (said in the
    report); on the embedded server, which the test run starts on this machine, that is a failure."""
    if "postgres:embedded" in how:
        pytest.fail(f"the embedded server's raw files must be scanned: {reason}")
    pytest.skip(f"raw files cannot be scanned: {reason}")


async def wal_segment(conn: asyncpg.Connection) -> str:
    """The name of the WAL segment being written now."""
    return await conn.fetchval("SELECT pg_walfile_name(pg_current_wal_lsn())")


async def checkpoint(conn: asyncpg.Connection) -> None:
    """Everything in shared buffers to the table files, and the WAL switched, so the files say all there is."""
    await conn.execute("CHECKPOINT")
    await conn.fetchval("SELECT pg_switch_wal()")


def occurrences(files: Iterable[Path], secrets: dict[str, bytes | str]) -> Counter[str]:
    """How often each secret occurs in `files`, per form: {"key/hex": 2, …} (absent forms are left out). Files
    that disappear while being read (a WAL segment recycled) are skipped."""
    needles = {f"{name}/{form}": blob for name, secret in secrets.items() for form, blob in forms(secret).items()}
    found: Counter[str] = Counter()
    for path in files:
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            continue
        for label, needle in needles.items():
            if n := content.count(needle):
                found[label] += n
    return found


def total(found: Counter[str], name: str) -> int:
    """All occurrences of one secret, whatever its form."""
    return sum(n for label, n in found.items() if label.split("/")[0] == name)


@dataclass(frozen=True)
class Scan:
    tables: Counter[str]  # in the database's files
    wal: Counter[str]  # in the WAL written since the audit started


class DatabaseAudit:
    """The raw files of one database and the WAL written since the audit started, searched after a CHECKPOINT."""

    def __init__(self, database_url: str, files: ServerFiles, since: str) -> None:
        self.database_url, self.files, self.since = database_url, files, since

    @classmethod
    async def start(cls, database_url: str) -> DatabaseAudit | str:
        """An audit from now on, or why the server's files cannot be read from here."""
        conn = await asyncpg.connect(database_url)
        try:
            files = await server_files(conn)
            return files if isinstance(files, str) else cls(database_url, files, await wal_segment(conn))
        finally:
            await conn.close()

    async def scan(self, secrets: dict[str, bytes | str]) -> Scan:
        conn = await asyncpg.connect(self.database_url)
        try:
            await checkpoint(conn)
        finally:
            await conn.close()
        return Scan(
            occurrences(self.files.database_files(), secrets), occurrences(self.files.wal_segments(self.since), secrets)
        )
