"""The pathway's episode view as a fold of its own decisions: one row per episode. Pure: no I/O, no clock.

The projection (`services.pathway.projection`) loads the rows a batch of the log touches, folds the events
in with `fold` and writes the rows back through the store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.events.pathway import (
    BeloopClassified,
    ConsultRequested,
    EscalatedToReferrer,
    EvaluationCompleted,
    EvaluationDue,
    EvaluationOverdue,
    EvaluationScheduled,
    TreatmentPlanProposed,
)
from shared.events.payload import EventPayload
from shared.store.event_store import StoredEvent


@dataclass
class ViewRow:
    episode_id: str
    last_event_at: datetime
    beloop: str | None = None
    duration_class: str | None = None
    classified_on: date | None = None
    plan_components: list[str] = field(default_factory=list)
    flagged_modalities: list[str] = field(default_factory=list)
    next_evaluation_number: int | None = None
    next_evaluation_due: datetime | None = None
    evaluations_due: int = 0
    evaluations_completed: int = 0
    evaluations_overdue: int = 0
    overdue_open: list[int] = field(default_factory=list)  # evaluations gone overdue and not recorded since
    escalations: list[dict[str, Any]] = field(default_factory=list)
    consults: list[str] = field(default_factory=list)
    decisions: int = 0


COLUMNS = tuple(f.name for f in dataclasses.fields(ViewRow))


def fold(row: ViewRow | None, event: StoredEvent, payload: EventPayload) -> ViewRow:
    """The row after one more of the episode's events (the row is changed in place when given)."""
    if row is None:
        row = ViewRow(event.stream_id, event.occurred_at)
    row.last_event_at = max(row.last_event_at, event.occurred_at)
    row.decisions += 1
    match payload:
        case BeloopClassified():
            row.beloop, row.duration_class, row.classified_on = (
                payload.beloop,
                payload.duration_class,
                payload.decided_on,
            )
        case TreatmentPlanProposed():
            row.plan_components = list(payload.components)
            row.flagged_modalities = [f.modality for f in payload.flagged_modalities]
        case EvaluationScheduled():
            if row.next_evaluation_number is None or row.next_evaluation_number <= payload.evaluation_number:
                row.next_evaluation_number, row.next_evaluation_due = payload.evaluation_number, payload.due_at
        case EvaluationDue():
            row.evaluations_due += 1
        case EvaluationOverdue():
            row.evaluations_overdue += 1
            if payload.evaluation_number not in row.overdue_open:
                row.overdue_open.append(payload.evaluation_number)
        case EvaluationCompleted():
            row.evaluations_completed += 1
            if payload.evaluation_number in row.overdue_open:
                row.overdue_open.remove(payload.evaluation_number)
        case EscalatedToReferrer():
            row.escalations.append(
                {
                    "reason": payload.reason.value,
                    "section": payload.guideline_section,
                    "explanation_nl": payload.explanation_nl,
                    "at": event.occurred_at.isoformat(),
                    "event_id": str(event.event_id),
                }
            )
        case ConsultRequested():
            row.consults.append(payload.discipline)
    return row
