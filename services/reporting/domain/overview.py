"""The episode overview read model, decided: one row per episode, from the referral, scheduled evaluations and
erasure. Pure: no I/O.

A batch's events of one episode are summed up in memory into one change (`changes`), and every episode's change
is merged into its row by one upsert (`store.overview.merge_overview`). The merge needs no read first, so it
holds up against another transaction writing the same episode at the same time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shared.consumer.idempotent import ConsumedEvent
from shared.events.intake import PatientDataErased, ReferralReceived
from shared.events.pathway import EvaluationScheduled


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
