"""The network's protocol versions: `ProtocolAdopted` events in the pathway's own stream `network-protocol`, read
and decoded here, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.pathway.domain.protocol import AdoptedProtocol, adopted_from
from shared.events.pathway import ProtocolAdopted
from shared.store.event_store import EventStore, StoredEvent

STREAM = "network-protocol"


@dataclass(frozen=True)
class Adoption:
    """One adopted protocol version as recorded: what, from when, when adopted and by whom."""

    adopted: AdoptedProtocol
    adopted_at: datetime
    adopted_by: str


def adoption_of(event: StoredEvent, events: EventStore) -> Adoption:
    payload = event.payload(events.registry)
    assert isinstance(payload, ProtocolAdopted)
    return Adoption(adopted_from(payload), event.occurred_at, payload.adopted_by)


async def adoptions(conn: asyncpg.Connection, events: EventStore) -> list[Adoption]:
    """Every adoption, in the order adopted (one indexed read of a short stream)."""
    return [adoption_of(event, events) for event in await events.read_stream(conn, STREAM)]


async def adopted(conn: asyncpg.Connection, events: EventStore) -> list[AdoptedProtocol]:
    """The protocols adopted, in the order adopted."""
    return [adoption.adopted for adoption in await adoptions(conn, events)]
