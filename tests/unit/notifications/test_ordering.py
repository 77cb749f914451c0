"""A lane's send order: numbered first and blocking, one episode in order, causes first, escalations ahead."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.notifications.domain.ordering import ESCALATION_PRIORITY, Pending, plan

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def pending(position: int, subject: str = "a", *, sequence=None, priority=0, cause=None, due=NOW, event=None):
    return Pending(
        delivery_id=uuid.uuid4(),
        position=position,
        subject=subject,
        event_id=event or uuid.uuid4(),
        causation_id=cause,
        sequence=sequence,
        priority=priority,
        next_attempt_at=due,
    )


def positions(chosen: list[Pending]) -> list[int]:
    return [p.position for p in chosen]


def test_unnumbered_deliveries_go_in_arrival_order():
    items = [pending(3, "b"), pending(1, "a"), pending(2, "c")]
    assert positions(plan(items, NOW, 10)) == [1, 2, 3]


def test_numbered_deliveries_go_first_lowest_number_first():
    items = [pending(1, "a"), pending(9, "b", sequence=5), pending(8, "c", sequence=4)]
    assert positions(plan(items, NOW, 10)) == [8, 9, 1]


def test_a_numbered_delivery_waiting_for_its_retry_blocks_the_whole_lane():
    waiting = pending(5, "a", sequence=7, due=NOW + timedelta(seconds=30))
    assert plan([waiting, pending(6, "b"), pending(7, "c")], NOW, 10) == []
    assert positions(plan([waiting, pending(6, "b")], NOW + timedelta(seconds=30), 10)) == [5, 6]


def test_an_escalated_episode_goes_ahead_of_other_episodes_but_keeps_its_own_order():
    items = [
        pending(1, "a"),
        pending(2, "b"),
        pending(3, "c"),
        pending(4, "d"),
        pending(5, "d", priority=ESCALATION_PRIORITY),
        pending(6, "a"),
    ]
    assert positions(plan(items, NOW, 10)) == [4, 5, 1, 2, 3, 6]


def test_an_event_is_never_sent_before_its_cause_pending_for_the_same_subscription():
    cause = uuid.uuid4()
    effect = pending(1, "b", cause=cause, priority=ESCALATION_PRIORITY)
    items = [effect, pending(2, "a", event=cause)]
    assert positions(plan(items, NOW, 10)) == [2, 1]


def test_a_cause_this_subscription_does_not_get_does_not_hold_anything_back():
    assert positions(plan([pending(1, "a", cause=uuid.uuid4())], NOW, 10)) == [1]


def test_each_episode_keeps_its_order_however_the_episodes_interleave():
    items = [pending(i, "ab"[i % 2]) for i in range(1, 9)]
    chosen = plan(items, NOW, 100)
    for subject in "ab":
        assert positions([p for p in chosen if p.subject == subject]) == sorted(
            p.position for p in items if p.subject == subject
        )


def test_the_plan_is_cut_at_the_limit():
    items = [pending(i, f"s{i}") for i in range(20)] + [pending(100, "x", sequence=1)]
    assert positions(plan(items, NOW, 3)) == [100, 0, 1]
