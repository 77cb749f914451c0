"""The pathway's episode view folds its own decisions into one row per episode, in log order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.pathway.domain.episode_view import fold
from shared.events.intake import AssessmentCompleted, sample_referral
from shared.events.pathway import EvaluationCompleted, EvaluationDue, EvaluationOverdue, EvaluationScheduled
from shared.store.event_store import GlobalPosition, StoredEvent
from tests.unit.pathway_flow.test_reactions import START, WITHIN, decide, history

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def stored(episode: str, payload, at: datetime) -> StoredEvent:
    return StoredEvent(
        GlobalPosition(1, 1), episode, 1, uuid.uuid4(), payload.event_type, payload.event_version, at,
        uuid.uuid4(), None, "kngf-lrp-2003", payload.model_dump_json(), "pathway",
    )  # fmt: skip


def test_a_batch_of_decisions_folds_into_the_row_the_read_api_shows():
    episode = "e-1"
    decided = decide(
        [sample_referral(), history(START - timedelta(days=40)), AssessmentCompleted(assessed_on=START, scope=WITHIN)]
    )
    timer = uuid.uuid4()
    later = AT + timedelta(days=21)
    log = [
        EvaluationScheduled(timer_id=timer, evaluation_number=1, due_at=later),
        *decided,
        EvaluationDue(timer_id=timer, evaluation_number=1, due_at=later, fired_at=later, overdue_after=later),
        EvaluationScheduled(timer_id=uuid.uuid4(), evaluation_number=2, due_at=later + timedelta(days=21)),
        EvaluationScheduled(timer_id=timer, evaluation_number=1, due_at=later),  # late news of an earlier plan
        EvaluationCompleted.model_construct(evaluation_number=1),
    ]
    row = None
    for n, payload in enumerate(log):
        row = fold(row, stored(episode, payload, AT + timedelta(minutes=n)), payload)
    assert row is not None
    classified = next(p for p in decided if type(p).__name__ == "BeloopClassified")
    assert (row.beloop, row.duration_class, row.classified_on) == (
        classified.beloop,
        classified.duration_class,
        classified.decided_on,
    )
    assert row.plan_components and row.next_evaluation_number == 2
    assert row.next_evaluation_due == later + timedelta(days=21)
    assert (row.evaluations_due, row.evaluations_completed, row.evaluations_overdue) == (1, 1, 0)
    assert row.decisions == len(log) and row.last_event_at == AT + timedelta(minutes=len(log) - 1)
    assert row.escalations == [] and row.consults == []


def test_an_overdue_evaluation_stays_open_until_it_is_recorded_and_twice_overdue_counts_once():
    def overdue(number: int) -> EvaluationOverdue:
        return EvaluationOverdue(timer_id=uuid.uuid4(), evaluation_number=number, due_at=AT, overdue_since=AT)

    log = [overdue(1), overdue(2), overdue(1), EvaluationCompleted.model_construct(evaluation_number=1)]
    row = None
    opened = []
    for n, payload in enumerate(log):
        row = fold(row, stored("e-2", payload, AT + timedelta(minutes=n)), payload)
        opened.append(list(row.overdue_open))
    assert opened == [[1], [1, 2], [1, 2], [2]]
    assert row is not None and row.evaluations_overdue == 3  # the network counts every overdue event
