"""Letters follow the episodes: a batch's events are folded into their episodes' letter facts one by one, in
arrival order, and each letter that falls due is composed on the day of the event that made it due."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.reporting.store import letters as store
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.events import intake, pathway
from shared.store.unit_of_work import UnitOfWork


async def follow_letters(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    episode_ids = [uuid.UUID(event.envelope.subject) for event in events]
    episodes = await store.lock_episodes(uow.conn, set(episode_ids))
    letters = []
    for episode_id, event in zip(episode_ids, events, strict=True):
        episode = episodes[episode_id]
        for key, content in episode.follow(event.payload, event.envelope.time.date()):
            to_agb = episode.facts.referrer_agb
            letters.append(store.NewLetter(episode_id, key, content, to_agb, uow.clock.now(), cause=event.envelope))
    await store.store_letters(uow, letters)
    await store.save_episodes(uow.conn, episodes)


LETTERS = BatchHandler(
    types=(
        intake.ReferralReceived,
        *intake.CLINICAL_EVENTS,
        pathway.BeloopClassified,
        pathway.TreatmentPlanProposed,
        pathway.EvaluationScheduled,
        pathway.EvaluationCompleted,
        pathway.EscalatedToReferrer,
    ),
    handle=follow_letters,
)
