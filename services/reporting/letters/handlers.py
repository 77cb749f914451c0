"""Letters follow the episode: fold each event into the letter facts and compose what falls due."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg

from services.reporting.letters.content import LetterContent, LetterFacts, compose, fold, letters_due
from shared.consumer.idempotent import ConsumedEvent, Handler
from shared.events import intake, pathway
from shared.events.payload import EventPayload
from shared.events.reporting import ReportComposed, ReportSent
from shared.store.unit_of_work import UnitOfWork

LETTER_NAMESPACE = uuid.UUID("5b3c9a8e-1f2d-5c4b-9a7e-3d2c1b0a9f8e")


def digest(content: LetterContent) -> str:
    return hashlib.sha256(content.model_dump_json().encode()).hexdigest()


async def store_letter(
    uow: UnitOfWork,
    episode_id: uuid.UUID,
    content: LetterContent,
    key: str,
    to_agb: str | None,
    corrects: uuid.UUID | None = None,
) -> uuid.UUID:
    letter_id = uuid.uuid5(LETTER_NAMESPACE, f"{episode_id}:{key}")
    now = uow.clock.now()
    await uow.conn.execute(
        "INSERT INTO letters (letter_id, episode_id, kind, letter_key, corrects, content, content_digest,"
        " composed_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $8)",
        letter_id,
        episode_id,
        content.kind,
        key,
        corrects,
        content.model_dump_json(),
        digest(content),
        now,
    )
    version = await uow.store.stream_version(uow.conn, str(episode_id))
    await uow.append(
        str(episode_id),
        version,
        [
            ReportComposed(
                letter_id=letter_id,
                kind=content.kind,
                composed_on=content.composed_on,
                corrects=corrects,
                content_digest=digest(content),
            ),
            ReportSent(letter_id=letter_id, sent_on=now.date(), to_agb=to_agb),
        ],
    )
    return letter_id


async def compose_correction(uow: UnitOfWork, letter: asyncpg.Record, facts: LetterFacts) -> uuid.UUID:
    """A new letter of the same kind from the episode's current facts, pointing to the one it corrects."""
    count = await uow.conn.fetchval("SELECT count(*) FROM letters WHERE corrects = $1", letter["letter_id"])
    key = f"{letter['letter_key']}:correction:{count + 1}"
    content = compose(letter["kind"], letter["letter_key"], facts, uow.clock.now().date())
    return await store_letter(uow, letter["episode_id"], content, key, facts.referrer_agb, corrects=letter["letter_id"])


async def on_episode_event(event: ConsumedEvent, uow: UnitOfWork) -> None:
    episode_id = uuid.UUID(event.envelope.subject)
    row = await uow.conn.fetchrow(
        "SELECT facts::text AS facts, composed FROM letter_episodes WHERE episode_id = $1 FOR UPDATE", episode_id
    )
    facts = LetterFacts.model_validate_json(row["facts"]) if row else LetterFacts()
    composed = set(row["composed"]) if row else set()
    facts = fold(facts, event.payload)
    today = event.envelope.time.date()
    for kind, key in letters_due(facts, composed):
        await store_letter(uow, episode_id, compose(kind, key, facts, today), key, facts.referrer_agb)
        composed.add(key)
    await uow.conn.execute(
        "INSERT INTO letter_episodes (episode_id, facts, composed) VALUES ($1, $2::jsonb, $3)"
        " ON CONFLICT (episode_id) DO UPDATE SET facts = excluded.facts, composed = excluded.composed",
        episode_id,
        facts.model_dump_json(),
        sorted(composed),
    )


LETTER_HANDLERS: dict[type[EventPayload], Handler] = {
    kind: on_episode_event
    for kind in (
        intake.ReferralReceived,
        *intake.CLINICAL_EVENTS,
        pathway.BeloopClassified,
        pathway.TreatmentPlanProposed,
        pathway.EvaluationCompleted,
        pathway.EscalatedToReferrer,
    )
}
