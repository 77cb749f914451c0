"""The network read model follows intake and pathway events: keep a minimised copy of each, and fold the
events whose copy is new into their episodes, a whole batch at a time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.reporting.domain.network.facts import KEPT_FIELDS, fold_events, minimise
from services.reporting.store import network as store
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.store.unit_of_work import UnitOfWork


async def follow_network(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    received = [
        store.ReceivedEvent(
            e.envelope.id,
            uuid.UUID(e.envelope.subject),
            e.envelope.type,
            e.envelope.streamversion,
            e.envelope.time,
            minimise(e.payload),
        )
        for e in events
    ]
    copied = await store.keep_events(uow.conn, received)
    new = []
    for event in received:
        if event.event_id in copied:
            copied.discard(event.event_id)  # an event given twice is applied once
            new.append(event)
    if not new:
        return
    episodes = await store.lock_episodes(uow.conn, {e.episode_id for e in new})
    fold_events(episodes, ((e.episode_id, e.event_type, e.stream_version, e.data) for e in new))
    await store.save_episodes(uow.conn, episodes)


NETWORK = BatchHandler(types=tuple(KEPT_FIELDS), handle=follow_network)
