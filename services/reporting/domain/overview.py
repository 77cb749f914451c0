"""The episode overview read model: one row per episode, from the referral, scheduled evaluations and erasure.

A batch's events of one episode are summed up in memory into one change (`changes`, pure), and every
episode's change is merged into its row by one upsert. The merge needs no read first, so it holds up
against another transaction writing the same episode at the same time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shared.consumer.idempotent import BatchHandler, ConsumedEvent
from shared.events.intake import PatientDataErased, ReferralReceived
from shared.events.pathway import EvaluationScheduled
from shared.store.unit_of_work import UnitOfWork


@dataclass
class OverviewChange:
    """What a run of events does to one episode's row, as the values the row takes when it is new.

    Merged into an existing row: the referral's fields replace the row's when there was a referral
    (`route` is set by every referral); the evaluation columns follow the highest evaluation number, the
    latest of equals winning; the last event is the latest `EvaluationScheduled` (numbers start at 1),
    other events leave an existing row's last event as it was; an erasure is never undone.
    """

    last_event_type: str
    last_event_at: datetime
    practice_agb: str | None = None
    referrer_agb: str | None = None
    route: str | None = None
    referred_on: date | None = None
    next_evaluation_due: datetime | None = None
    evaluations_scheduled: int = 0
    personal_data_erased: bool = False

    def add(self, event: ConsumedEvent) -> None:
        match event.payload:
            case ReferralReceived() as referral:
                self.practice_agb, self.referrer_agb = referral.practice_agb, referral.referrer_agb
                self.route, self.referred_on = referral.route, referral.referred_on
            case EvaluationScheduled() as scheduled:
                if scheduled.evaluation_number >= self.evaluations_scheduled:
                    self.next_evaluation_due = scheduled.due_at
                    self.evaluations_scheduled = scheduled.evaluation_number
                self.last_event_type, self.last_event_at = event.envelope.type, event.envelope.time
            case PatientDataErased():
                self.personal_data_erased = True


def changes(events: Sequence[ConsumedEvent]) -> dict[uuid.UUID, OverviewChange]:
    """Each episode's change from its events, taken in the order given."""
    out: dict[uuid.UUID, OverviewChange] = {}
    for event in events:
        episode_id = uuid.UUID(event.envelope.subject)
        change = out.get(episode_id)
        if change is None:
            change = out[episode_id] = OverviewChange(event.envelope.type, event.envelope.time)
        change.add(event)
    return out


_MERGE = """
INSERT INTO episode_overview AS o (episode_id, practice_agb, referrer_agb, route, referred_on, next_evaluation_due,
                                   evaluations_scheduled, personal_data_erased, last_event_type, last_event_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::timestamptz[], $7::int[],
                     $8::bool[], $9::text[], $10::timestamptz[])
ORDER BY 1
ON CONFLICT (episode_id) DO UPDATE SET
    practice_agb = CASE WHEN excluded.route IS NULL THEN o.practice_agb ELSE excluded.practice_agb END,
    referrer_agb = CASE WHEN excluded.route IS NULL THEN o.referrer_agb ELSE excluded.referrer_agb END,
    referred_on = CASE WHEN excluded.route IS NULL THEN o.referred_on ELSE excluded.referred_on END,
    route = coalesce(excluded.route, o.route),
    next_evaluation_due = CASE WHEN excluded.evaluations_scheduled > 0
                                    AND excluded.evaluations_scheduled >= o.evaluations_scheduled
                               THEN excluded.next_evaluation_due ELSE o.next_evaluation_due END,
    evaluations_scheduled = greatest(o.evaluations_scheduled, excluded.evaluations_scheduled),
    personal_data_erased = o.personal_data_erased OR excluded.personal_data_erased,
    last_event_type = CASE WHEN excluded.evaluations_scheduled > 0
                           THEN excluded.last_event_type ELSE o.last_event_type END,
    last_event_at = CASE WHEN excluded.evaluations_scheduled > 0 THEN excluded.last_event_at ELSE o.last_event_at END
"""


async def follow_overview(events: Sequence[ConsumedEvent], uow: UnitOfWork) -> None:
    """Merge a batch's events into the episodes' rows: one statement, rows taken in episode order."""
    merged = changes(events)
    ids = list(merged)
    rows = list(merged.values())
    await uow.conn.execute(
        _MERGE,
        ids,
        [c.practice_agb for c in rows],
        [c.referrer_agb for c in rows],
        [c.route for c in rows],
        [c.referred_on for c in rows],
        [c.next_evaluation_due for c in rows],
        [c.evaluations_scheduled for c in rows],
        [c.personal_data_erased for c in rows],
        [c.last_event_type for c in rows],
        [c.last_event_at for c in rows],
    )


OVERVIEW = BatchHandler(types=(ReferralReceived, EvaluationScheduled, PatientDataErased), handle=follow_overview)
