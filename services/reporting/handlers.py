"""Reporting's handlers: load (store) → decide (domain) → write (store), one function per event batch, command
or query.

Event batches (`BATCH_HANDLERS`, the one handler API the consumer calls): each read model handles a batch's
events of its types with a constant number of statements, in the batch's transaction.
- `follow_overview`: the episode overview, one merge per batch.
- `follow_letters`: the letters follow the episodes; each letter that falls due is composed on the day of the
  event that made it due and stored with its `ReportComposed` and `ReportSent` events.
- `follow_network`: the network read model keeps a minimised copy of each event and folds the new ones into
  their episodes.

Commands and queries, for the routes (access decided by `services.reporting.access`): `read_overview`,
`read_episode_letters`, `read_letter`, `correct_letter`, `read_network_cells`. The network read model's
replay is `rebuild.rebuild_network`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from services.reporting import access
from services.reporting.domain.letters.content import LetterFacts
from services.reporting.domain.letters.correction import correction, refuse_when_objected
from services.reporting.domain.network.counts import PublishedCell, published_cells
from services.reporting.domain.network.facts import KEPT_FIELDS, fold_events, minimise
from services.reporting.domain.overview import changes
from services.reporting.store import ReportingStore
from services.reporting.store import letters as letter_store
from services.reporting.store import network as network_store
from services.reporting.store import overview as overview_store
from shared.access_log import Access, Action, log_access
from shared.auth import Caller
from shared.clock import Clock
from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.events import intake, pathway
from shared.store.unit_of_work import UnitOfWork

# ---- event batches -------------------------------------------------------------------------------------------


async def follow_overview(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    """Merge a batch's events into the episodes' rows: one statement, rows taken in episode order."""
    await overview_store.merge_overview(uow.conn, changes(events))


async def follow_letters(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    """Fold a batch's events into their episodes' letter facts one by one, in arrival order, and store each
    letter that falls due."""
    episode_ids = [uuid.UUID(event.envelope.subject) for event in events]
    episodes = await letter_store.lock_episodes(uow.conn, set(episode_ids))
    letters = []
    for episode_id, event in zip(episode_ids, events, strict=True):
        episode = episodes[episode_id]
        for key, content in episode.follow(event.payload, event.envelope.time.date()):
            to_agb = episode.facts.referrer_agb
            letters.append(
                letter_store.NewLetter(episode_id, key, content, to_agb, uow.clock.now(), cause=event.envelope)
            )
    await letter_store.store_letters(uow, letters)
    await letter_store.save_episodes(uow.conn, episodes)


async def follow_network(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    """Keep a minimised copy of each event and fold the events whose copy is new into their episodes."""
    received = [
        network_store.ReceivedEvent(
            e.envelope.id,
            uuid.UUID(e.envelope.subject),
            e.envelope.type,
            e.envelope.streamversion,
            e.envelope.time,
            minimise(e.payload),
        )
        for e in events
    ]
    copied = await network_store.keep_events(uow.conn, received)
    new = []
    for event in received:
        if event.event_id in copied:
            copied.discard(event.event_id)  # an event given twice is applied once
            new.append(event)
    if not new:
        return
    episodes = await network_store.lock_episodes(uow.conn, {e.episode_id for e in new})
    fold_events(episodes, ((e.episode_id, e.event_type, e.stream_version, e.data) for e in new))
    await network_store.save_episodes(uow.conn, episodes)


OVERVIEW = BatchHandler(
    types=(intake.ReferralReceived, pathway.EvaluationScheduled, intake.PatientDataErased), handle=follow_overview
)
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
NETWORK = BatchHandler(types=tuple(KEPT_FIELDS), handle=follow_network)
BATCH_HANDLERS: list[BatchHandler] = [OVERVIEW, LETTERS, NETWORK]

# ---- commands and queries ------------------------------------------------------------------------------------


async def read_overview(
    store: ReportingStore, caller: Caller, episode_id: uuid.UUID, route: str, clock: Clock
) -> asyncpg.Record | None:
    """The episode's overview row, its reading logged; None when unknown or not the caller's to see."""
    async with store.transaction() as conn:
        row = await overview_store.episode_overview(conn, episode_id)
        if row is None or not access.may_see_episode(caller, row["practice_agb"], row["referrer_agb"]):
            return None
        await log_access(conn, caller, Access("reporting", Action.READ, route, episode_id), clock.now())
    return row


@dataclass(frozen=True)
class EpisodeLetters:
    facts: LetterFacts
    letters: list[asyncpg.Record]  # summaries, in the order composed


async def read_episode_letters(store: ReportingStore, caller: Caller, episode_id: uuid.UUID) -> EpisodeLetters | None:
    """The episode's letter facts and its letters' summaries; None when unknown or not the caller's to see."""
    async with store.connection() as conn:
        facts = await letter_store.letter_facts(conn, episode_id)
        if facts is None or not access.may_see_episode(caller, facts.practice_agb, facts.referrer_agb):
            return None
        letters = await letter_store.episode_letters(conn, episode_id)
    return EpisodeLetters(facts, letters)


class EpisodeHidden(Exception):
    """The letter's episode is not the caller's to see (the route answers as for an unknown episode)."""

    def __init__(self, episode_id: uuid.UUID) -> None:
        super().__init__(episode_id)
        self.episode_id = episode_id


async def read_letter(
    store: ReportingStore, caller: Caller, letter_id: uuid.UUID, route: str, clock: Clock
) -> tuple[asyncpg.Record, LetterFacts] | None:
    """The letter's row and its episode's letter facts, its reading logged; None when unknown. Raises
    `EpisodeHidden` when the letter's episode is not the caller's to see."""
    async with store.transaction() as conn:
        row = await letter_store.letter(conn, letter_id)
        facts = await letter_store.letter_facts(conn, row["episode_id"]) if row else None
        if row is None or facts is None:
            return None
        if not access.may_see_episode(caller, facts.practice_agb, facts.referrer_agb):
            raise EpisodeHidden(row["episode_id"])
        await log_access(conn, caller, Access("reporting", Action.READ, route, row["episode_id"]), clock.now())
    return row, facts


async def correct_letter(
    store: ReportingStore, caller: Caller, letter_id: uuid.UUID, route: str, clock: Clock
) -> asyncpg.Record | None:
    """Compose a correction of the letter from the episode's current facts and store it with its events; the
    original stays as it was. The new letter's summary; None when unknown or not the caller's to correct.
    Raises `PatientObjects` when the patient objects to reports to the GP."""
    async with store.transaction() as conn:
        row = await letter_store.lock_letter(conn, letter_id)
        facts = await letter_store.letter_facts(conn, row["episode_id"]) if row else None
        if row is None or facts is None or not access.may_correct_letters(caller, facts.practice_agb):
            return None
        refuse_when_objected(facts)
        corrections = await letter_store.corrections_of(conn, row["letter_id"])
        now = clock.now()
        key, content = correction(row["kind"], row["letter_key"], corrections, facts, now.date())
        new = letter_store.NewLetter(row["episode_id"], key, content, facts.referrer_agb, now, corrects=letter_id)
        [new_id] = await letter_store.store_letters(UnitOfWork(conn, store.event_store(), clock), [new])
        await log_access(conn, caller, Access("reporting", Action.CREATE, route, row["episode_id"]), clock.now())
        return await letter_store.letter_summary(conn, new_id)


async def read_network_cells(store: ReportingStore, first: date | None, last: date | None) -> list[PublishedCell]:
    """Every practice's published cells for the episodes referred in [first, last] (whole months)."""
    async with store.connection() as conn:
        episodes = await network_store.summaries(conn, first, last, None)
    return published_cells(episodes)
