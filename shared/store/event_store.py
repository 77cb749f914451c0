"""The event store on PostgreSQL: append with an expected version, read a stream, read all in commit order.

Reading "everything after a position" follows (transaction id, position), not position alone: an identity
value is taken when a row is inserted, but becomes visible only at commit, so with concurrent writers a
later position can be visible before an earlier one and a reader following positions would skip the
earlier event for good. Each row stores `pg_current_xact_id()`; a reader only returns rows of
transactions older than the oldest one still running (`pg_snapshot_xmin(pg_current_snapshot())`), which
are all committed or gone, in (transaction id, position) order. Unlike a table lock on append, this
lets writers commit in parallel (group commit), which the 8-writer benchmark needs; the price is that a
long-open transaction holds readers back until it ends.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.events.envelope import Envelope, extension_attributes, source_for
from shared.events.payload import EventPayload, schema_uri
from shared.events.registry import EventRegistry


@dataclass(frozen=True, order=True)
class GlobalPosition:
    """A place in one service's log, in the order readers follow."""

    transaction_id: int
    position: int


START = GlobalPosition(0, 0)


class ConcurrencyConflict(Exception):
    """The stream was not at the expected version; nothing was written."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        """`actual_version` is None when the version could not be read (the failed write aborted the
        transaction it ran in)."""
        super().__init__(f"stream {stream_id!r} is at version {actual_version}, expected {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class VersionNotCurrent(ConcurrencyConflict):
    """The version the caller said it saw (HTTP `If-Match`) is not the stream's current one; nothing was written.
    Unlike a plain conflict, sending the same request again cannot succeed: the caller reads again first."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A row of the log; the payload stays JSON text until someone needs it decoded."""

    global_position: GlobalPosition
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    event_type: str
    data_version: int
    occurred_at: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    guideline_version: str | None
    data_json: str
    service: str
    traceparent: str | None = None  # W3C trace context of the work that appended it (while traces are on)
    protocol_version: str | None = None  # the network protocol a decision was made under

    def payload(self, registry: EventRegistry) -> EventPayload:
        return registry.decode_json(self.event_type, self.data_version, self.data_json)

    def envelope(self) -> Envelope:
        return Envelope(
            id=self.event_id,
            source=source_for(self.service),
            type=self.event_type,
            time=self.occurred_at,
            subject=self.stream_id,
            dataschema=schema_uri(self.event_type, self.data_version),
            streamversion=self.stream_version,
            dataversion=self.data_version,
            correlationid=self.correlation_id,
            causationid=self.causation_id,
            guidelineversion=self.guideline_version,
            traceparent=self.traceparent,
            protocolversion=self.protocol_version,
            data=json.loads(self.data_json),
        )

    def cloudevent_json(self) -> bytes:
        """The structured-mode CloudEvent, built without re-encoding the payload (the relay's hot path)."""
        attributes: dict[str, Any] = {
            "id": str(self.event_id),
            "source": source_for(self.service),
            "type": self.event_type,
            "specversion": "1.0",
            "time": self.occurred_at.isoformat(),
            "subject": self.stream_id,
            "datacontenttype": "application/json",
            "dataschema": schema_uri(self.event_type, self.data_version),
            **extension_attributes(
                self.stream_version,
                self.data_version,
                self.correlation_id,
                self.causation_id,
                self.guideline_version,
                self.protocol_version,
                self.traceparent,
            ),
        }
        head = json.dumps(attributes, separators=(",", ":"))
        return f'{head[:-1]},"data":{self.data_json}}}'.encode()


_COLUMNS = (
    "transaction_id::text::bigint AS tx, position, stream_id, stream_version, event_id, event_type, "
    "data_version, occurred_at, correlation_id, causation_id, guideline_version, data::text AS data, traceparent, "
    "protocol_version"
)

# One stream's append, its parameters named so that `_append_sql` can number them from wherever a statement
# wants them: `append` runs it alone, `append_statement` hands it out as a CTE of a larger statement.
_APPEND_PARAMETERS = (
    "stream_id",
    "versions",
    "event_ids",
    "event_types",
    "time",
    "correlation_id",
    "causation_id",
    "guideline_version",
    "traceparent",
    "protocol_version",
    "data_versions",
    "datas",
    "expected_version",
)
_AT_EXPECTED_VERSION = (
    "coalesce((SELECT max(stream_version) FROM events WHERE stream_id = {stream_id}), 0) = {expected_version}"
)
_APPEND = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data_version, occurred_at,
                    correlation_id, causation_id, guideline_version, traceparent, protocol_version, data)
SELECT {stream_id}, v.version, v.event_id, v.event_type, v.data_version, {time}, {correlation_id}, {causation_id},
       {guideline_version}, {traceparent}::text, {protocol_version}::text, v.data::jsonb
FROM unnest({versions}::int[], {event_ids}::uuid[], {event_types}::text[], {data_versions}::smallint[],
            {datas}::text[])
     AS v(version, event_id, event_type, data_version, data)
WHERE {at_expected_version}
RETURNING transaction_id::text::bigint AS tx, position
"""


@functools.cache
def _append_sql(first_parameter: int, guard: str | None) -> tuple[str, str]:
    """`_APPEND` and its version check, the parameters numbered from `$first_parameter` on in
    `_APPEND_PARAMETERS` order; `guard`, when given, is one more condition for inserting anything."""
    placeholders = {name: f"${first_parameter + i}" for i, name in enumerate(_APPEND_PARAMETERS)}
    at_expected_version = _AT_EXPECTED_VERSION.format(**placeholders)
    condition = at_expected_version if guard is None else f"{at_expected_version} AND {guard}"
    return _APPEND.format(**placeholders, at_expected_version=condition), at_expected_version


def _duplicate_event_id(error: asyncpg.UniqueViolationError) -> bool:
    return bool(error.constraint_name and "event_id" in error.constraint_name)


def lost_append_race(error: asyncpg.UniqueViolationError) -> bool:
    """Whether `error`, raised by a statement that appends (alone or as a CTE), means that another append of
    the same stream version committed first: the stream moved on, like a failed version check. Not so for a
    duplicate event id, or a unique violation on another table of that statement."""
    return error.table_name == "events" and not _duplicate_event_id(error)


@dataclass(frozen=True)
class AppendStatement:
    """An append to one stream as SQL and its parameters (see `EventStore.append_statement`)."""

    sql: str  # INSERT … RETURNING tx, position: one row per event, in order; nothing when the check fails
    at_expected_version: str  # the append's version check, true while the stream is at the expected version
    values: dict[str, Any]  # the parameters by name
    service: str

    @property
    def parameters(self) -> list[Any]:
        """The values for the parameters of `sql`, in order."""
        return [self.values[name] for name in _APPEND_PARAMETERS]

    def stored(self, rows: Sequence[asyncpg.Record]) -> list[StoredEvent]:
        """The appended events, from the rows `sql` returned."""
        v = self.values
        return [
            StoredEvent(
                GlobalPosition(row["tx"], row["position"]),
                v["stream_id"],
                v["versions"][i],
                v["event_ids"][i],
                v["event_types"][i],
                v["data_versions"][i],
                v["time"],
                v["correlation_id"],
                v["causation_id"],
                v["guideline_version"],
                v["datas"][i],
                self.service,
                v["traceparent"],
                v["protocol_version"],
            )
            for i, row in enumerate(rows)
        ]


_APPEND_MANY = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data_version, occurred_at,
                    correlation_id, causation_id, guideline_version, traceparent, protocol_version, data)
SELECT v.stream_id, v.version, v.event_id, v.event_type, v.data_version, $1, v.correlation_id, v.causation_id,
       v.guideline_version, v.traceparent, v.protocol_version, v.data::jsonb
FROM unnest($2::text[], $3::int[], $4::uuid[], $5::text[], $6::smallint[], $7::uuid[], $8::uuid[], $9::text[],
            $10::text[], $11::int[], $12::text[], $13::text[])
     AS v(stream_id, version, event_id, event_type, data_version, correlation_id, causation_id, guideline_version,
          data, expected, traceparent, protocol_version)
WHERE coalesce((SELECT max(stream_version) FROM events e WHERE e.stream_id = v.stream_id), 0) = v.expected
RETURNING stream_id, transaction_id::text::bigint AS tx, position
"""


@dataclass(frozen=True)
class PendingEvent:
    """One event of a multi-stream append, with what caused it."""

    stream_id: str
    payload: EventPayload
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    guideline_version: str | None = None
    traceparent: str | None = None
    protocol_version: str | None = None


_READ_ALL = f"""
SELECT {_COLUMNS} FROM events
WHERE (transaction_id, position) > ($1::text::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id, position
LIMIT $3
"""


class EventStore:
    """One service's log. Methods take a connection so a command's events commit with its other effects."""

    COLUMNS = _COLUMNS  # what `from_row` decodes, for a statement that reads events along with other things

    def __init__(self, service: str, registry: EventRegistry) -> None:
        self.service = service
        self.registry = registry

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        payloads: Sequence[EventPayload],
        *,
        time: datetime,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None = None,
        guideline_version: str | None = None,
        event_ids: Sequence[uuid.UUID] | None = None,
        traceparent: str | None = None,
        protocol_version: str | None = None,
    ) -> list[StoredEvent]:
        """Append after `expected_version` (0 for a new stream) or raise ConcurrencyConflict.

        One stream keeps its own statement rather than going through `append_many`: with the stream id a
        constant, the version check runs once per statement, and the 8-writer benchmark measured 4,168
        appends/s this way against 3,050 through the multi-stream statement."""
        if not payloads:
            return []
        statement = self.append_statement(
            stream_id,
            expected_version,
            payloads,
            time=time,
            correlation_id=correlation_id,
            causation_id=causation_id,
            guideline_version=guideline_version,
            event_ids=event_ids,
            traceparent=traceparent,
            protocol_version=protocol_version,
        )
        try:
            rows = await conn.fetch(statement.sql, *statement.parameters)
        except asyncpg.UniqueViolationError as error:
            if _duplicate_event_id(error):
                raise
            # Inside a transaction the failed INSERT aborted it: no further query can tell the version.
            actual = None if conn.is_in_transaction() else await self.stream_version(conn, stream_id)
            raise ConcurrencyConflict(stream_id, expected_version, actual) from error
        if not rows:
            raise ConcurrencyConflict(stream_id, expected_version, await self.stream_version(conn, stream_id))
        return statement.stored(rows)

    def append_statement(
        self,
        stream_id: str,
        expected_version: int,
        payloads: Sequence[EventPayload],
        *,
        time: datetime,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None = None,
        guideline_version: str | None = None,
        event_ids: Sequence[uuid.UUID] | None = None,
        traceparent: str | None = None,
        protocol_version: str | None = None,
        first_parameter: int = 1,
        guard: str | None = None,
    ) -> AppendStatement:
        """What `append` runs, for a statement that appends along with other writes: `WITH appended AS
        (statement.sql) …`, the parameters numbered from `$first_parameter` on. It inserts nothing when the
        stream is not at `expected_version` (nor when `guard`, more SQL, is false); the statement's other writes
        can depend on `statement.at_expected_version` so that all or nothing is written. As with `append`, an
        append of the same version that commits first makes the statement fail (see `lost_append_race`).
        No payloads make an append of nothing, so the other writes still go through the version check."""
        if time.tzinfo is None:
            raise ValueError("time must carry a timezone")
        for payload in payloads:
            self.registry.model_for(payload.event_type)  # an unregistered type never reaches the log
        ids = list(event_ids) if event_ids is not None else [uuid.uuid4() for _ in payloads]
        if len(ids) != len(payloads):
            raise ValueError("event_ids: one id per payload")
        values = {
            "stream_id": stream_id,
            "versions": [expected_version + i + 1 for i in range(len(payloads))],
            "event_ids": ids,
            "event_types": [p.event_type for p in payloads],
            "time": time,
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "guideline_version": guideline_version,
            "traceparent": traceparent,
            "protocol_version": protocol_version,
            "data_versions": [p.event_version for p in payloads],
            "datas": [p.model_dump_json() for p in payloads],
            "expected_version": expected_version,
        }
        sql, at_expected_version = _append_sql(first_parameter, guard)
        return AppendStatement(sql, at_expected_version, values, self.service)

    async def append_many(
        self,
        conn: asyncpg.Connection,
        expected_versions: dict[str, int],
        events: Sequence[PendingEvent],
        *,
        time: datetime,
    ) -> list[StoredEvent]:
        """Append events to several streams in one statement, each stream after its expected version (as it
        was before this append); events of one stream follow each other in the order given. Raises
        ConcurrencyConflict (and the caller's transaction must roll back) when any stream moved on."""
        if not events:
            return []
        if time.tzinfo is None:
            raise ValueError("time must carry a timezone")
        next_version = dict(expected_versions)
        versions, ids, datas = [], [], []
        for event in events:
            self.registry.model_for(event.payload.event_type)
            next_version[event.stream_id] += 1
            versions.append(next_version[event.stream_id])
            ids.append(uuid.uuid4())
            datas.append(event.payload.model_dump_json())
        try:
            rows = await conn.fetch(
                _APPEND_MANY,
                time,
                [e.stream_id for e in events],
                versions,
                ids,
                [e.payload.event_type for e in events],
                [e.payload.event_version for e in events],
                [e.correlation_id for e in events],
                [e.causation_id for e in events],
                [e.guideline_version for e in events],
                datas,
                [expected_versions[e.stream_id] for e in events],
                [e.traceparent for e in events],
                [e.protocol_version for e in events],
            )
        except asyncpg.UniqueViolationError as error:
            if _duplicate_event_id(error):
                raise
            stream = next(iter(expected_versions))
            raise ConcurrencyConflict(stream, expected_versions[stream], None) from error
        if len(rows) != len(events):  # a stream had moved on: its rows were not inserted
            written = {row["stream_id"] for row in rows}
            moved = next(e.stream_id for e in events if e.stream_id not in written)
            raise ConcurrencyConflict(moved, expected_versions[moved], await self.stream_version(conn, moved))
        return [
            StoredEvent(
                GlobalPosition(row["tx"], row["position"]),
                event.stream_id,
                versions[i],
                ids[i],
                event.payload.event_type,
                event.payload.event_version,
                time,
                event.correlation_id,
                event.causation_id,
                event.guideline_version,
                datas[i],
                self.service,
                event.traceparent,
                event.protocol_version,
            )
            for i, (row, event) in enumerate(zip(rows, events, strict=True))
        ]

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        value = await conn.fetchval(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        return int(value)

    async def stream_versions(self, conn: asyncpg.Connection, stream_ids: Collection[str]) -> dict[str, int]:
        """The current version of each stream (0 for one with no events), in one statement."""
        rows = await conn.fetch(
            "SELECT s, coalesce((SELECT max(stream_version) FROM events WHERE stream_id = s), 0)"
            " FROM unnest($1::text[]) AS s",
            list(stream_ids),
        )
        return {row[0]: row[1] for row in rows}

    async def read_stream(self, conn: asyncpg.Connection, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version",
            stream_id,
            after_version,
        )
        return [self.from_row(r) for r in rows]

    async def read_streams(self, conn: asyncpg.Connection, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        """Several streams in one query, each in version order; a stream with none is absent."""
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version",
            list(stream_ids),
        )
        streams: dict[str, list[StoredEvent]] = {}
        for row in rows:
            streams.setdefault(row[2], []).append(self.from_row(row))
        return streams

    async def read_payloads(
        self, conn: asyncpg.Connection, stream_ids: Sequence[str], types: Collection[str]
    ) -> list[asyncpg.Record]:
        """The events of `types` in several streams, each stream's in version order, as only what decoding their
        payloads needs: (stream id, occurred at, type, data version, data as JSON text). For reading a great many
        (a what-if over a year of a network), where a whole `StoredEvent` per event would cost several times the
        reading."""
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT stream_id, occurred_at, event_type, data_version, data::text AS data FROM events"
            " WHERE stream_id = ANY($1::text[]) AND event_type = ANY($2::text[]) ORDER BY stream_id, stream_version",
            list(stream_ids),
            list(types),
        )
        return rows

    async def read_all(
        self, conn: asyncpg.Connection, after: GlobalPosition = START, limit: int = 1000
    ) -> list[StoredEvent]:
        """Committed events after `after` in commit order; never skips one that commits late."""
        rows = await conn.fetch(_READ_ALL, str(after.transaction_id), after.position, limit)
        return [self.from_row(r) for r in rows]

    async def replay(
        self, pool: asyncpg.Pool, after: GlobalPosition = START, batch_size: int = 5000
    ) -> AsyncIterator[StoredEvent]:
        """Every committed event after `after`, in commit order, fetched in batches."""
        position = after
        async with pool.acquire() as conn:
            while True:
                batch = await self.read_all(conn, position, batch_size)
                for event in batch:
                    yield event
                if len(batch) < batch_size:
                    return
                position = batch[-1].global_position

    def from_row(self, row: asyncpg.Record) -> StoredEvent:
        """An event from a row that starts with `COLUMNS` (what follows them is left alone): so a statement
        can read a stream together with other things, as intake's command statements do."""
        return StoredEvent(
            GlobalPosition(row[0], row[1]),
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            row[10],
            row[11],
            self.service,
            row[12],
            row[13],
        )
