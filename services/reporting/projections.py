"""Reporting's read models, projected from intake and pathway events."""

from __future__ import annotations

import uuid

from services.reporting.letters.handlers import LETTER_HANDLERS
from services.reporting.network.handlers import NETWORK_HANDLERS
from shared.consumer.idempotent import ConsumedEvent, Handler, merge_handlers
from shared.events.intake import PatientDataErased, ReferralReceived
from shared.events.pathway import EvaluationScheduled
from shared.events.payload import EventPayload
from shared.store.unit_of_work import UnitOfWork


async def on_referral_received(event: ConsumedEvent, uow: UnitOfWork) -> None:
    referral = event.payload
    assert isinstance(referral, ReferralReceived)
    await uow.conn.execute(
        "INSERT INTO episode_overview (episode_id, practice_agb, referrer_agb, route, referred_on,"
        " last_event_type, last_event_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (episode_id) DO UPDATE SET practice_agb = excluded.practice_agb,"
        " referrer_agb = excluded.referrer_agb, route = excluded.route, referred_on = excluded.referred_on,"
        " last_event_type = coalesce(episode_overview.last_event_type, excluded.last_event_type),"
        " last_event_at = coalesce(episode_overview.last_event_at, excluded.last_event_at)",
        uuid.UUID(event.envelope.subject),
        referral.practice_agb,
        referral.referrer_agb,
        referral.route,
        referral.referred_on,
        event.envelope.type,
        event.envelope.time,
    )


async def on_evaluation_scheduled(event: ConsumedEvent, uow: UnitOfWork) -> None:
    scheduled = event.payload
    assert isinstance(scheduled, EvaluationScheduled)
    await uow.conn.execute(
        "INSERT INTO episode_overview (episode_id, next_evaluation_due, evaluations_scheduled,"
        " last_event_type, last_event_at) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (episode_id) DO UPDATE SET"
        " next_evaluation_due = CASE WHEN excluded.evaluations_scheduled >= episode_overview.evaluations_scheduled"
        " THEN excluded.next_evaluation_due ELSE episode_overview.next_evaluation_due END,"
        " evaluations_scheduled = greatest(episode_overview.evaluations_scheduled, excluded.evaluations_scheduled),"
        " last_event_type = excluded.last_event_type, last_event_at = excluded.last_event_at",
        uuid.UUID(event.envelope.subject),
        scheduled.due_at,
        scheduled.evaluation_number,
        event.envelope.type,
        event.envelope.time,
    )


async def on_patient_data_erased(event: ConsumedEvent, uow: UnitOfWork) -> None:
    """Reporting keeps no personal data of its own; it marks the episode so letters show it as erased."""
    await uow.conn.execute(
        "INSERT INTO episode_overview (episode_id, personal_data_erased, last_event_type, last_event_at)"
        " VALUES ($1, true, $2, $3) ON CONFLICT (episode_id) DO UPDATE SET personal_data_erased = true",
        uuid.UUID(event.envelope.subject),
        event.envelope.type,
        event.envelope.time,
    )


OVERVIEW_HANDLERS: dict[type[EventPayload], Handler] = {
    PatientDataErased: on_patient_data_erased,
    ReferralReceived: on_referral_received,
    EvaluationScheduled: on_evaluation_scheduled,
}


HANDLERS = merge_handlers(OVERVIEW_HANDLERS, LETTER_HANDLERS, NETWORK_HANDLERS)
