"""The network read model follows intake and pathway events: keep a minimised copy, fold it into the episode."""

from __future__ import annotations

import uuid

from services.reporting.network import store
from services.reporting.network.facts import KEPT_FIELDS, minimise
from shared.consumer.idempotent import ConsumedEvent, Handler
from shared.events.payload import EventPayload
from shared.store.unit_of_work import UnitOfWork


async def on_network_event(event: ConsumedEvent, uow: UnitOfWork) -> None:
    envelope = event.envelope
    episode_id = uuid.UUID(envelope.subject)
    data = minimise(event.payload)
    if await store.keep_event(
        uow.conn, envelope.id, episode_id, envelope.type, envelope.streamversion, envelope.time, data
    ):
        await store.apply_to_episode(uow.conn, episode_id, envelope.type, envelope.streamversion, data)


NETWORK_HANDLERS: dict[type[EventPayload], Handler] = {kind: on_network_event for kind in KEPT_FIELDS}
