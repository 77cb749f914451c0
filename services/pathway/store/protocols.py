"""The network's protocol versions: `ProtocolAdopted` events in the pathway's own stream `network-protocol`."""

from __future__ import annotations

import asyncpg

from services.pathway.domain.protocol import AdoptedProtocol, adopted_from
from shared.events.pathway import ProtocolAdopted
from shared.store.event_store import EventStore, StoredEvent

STREAM = "network-protocol"


async def adoptions(conn: asyncpg.Connection, events: EventStore) -> list[StoredEvent]:
    """Every adoption, in the order adopted."""
    return await events.read_stream(conn, STREAM)


async def adopted(conn: asyncpg.Connection, events: EventStore) -> list[AdoptedProtocol]:
    """The protocols adopted, in the order adopted (one indexed read of a short stream)."""
    stored = await adoptions(conn, events)
    return [adopted_from(event) for event in _adopted_events(stored, events)]


def _adopted_events(stored: list[StoredEvent], events: EventStore) -> list[ProtocolAdopted]:
    found = []
    for event in stored:
        payload = event.payload(events.registry)
        assert isinstance(payload, ProtocolAdopted)
        found.append(payload)
    return found
