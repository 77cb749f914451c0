"""A lane's send order: numbered first and blocking, one episode in order, causes first, escalations ahead."""

from __future__ import annotations

import dataclasses
import random
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


def test_a_cause_that_arrived_after_its_effect_goes_first_and_the_lane_goes_on():
    # An event released when its cause's hold expired, and the cause arriving after it: the effect waits for
    # its cause, which no longer waits behind it (that used to stop the lane for good).
    cause = uuid.uuid4()
    effect = pending(1, "a", cause=cause)
    assert positions(plan([effect, pending(2, "a", event=cause)], NOW, 10)) == [2, 1]


def test_within_an_episode_only_what_waits_for_a_late_cause_waits():
    cause, effect_event = uuid.uuid4(), uuid.uuid4()
    items = [
        pending(1, "a", cause=cause, event=effect_event),
        pending(2, "a"),
        pending(3, "a", event=cause),
        pending(4, "a", cause=effect_event),
        pending(5, "a"),
    ]
    assert positions(plan(items, NOW, 10)) == [2, 3, 1, 4, 5]


def test_episodes_waiting_on_each_others_late_causes_send_the_oldest_first_rather_than_stop():
    a_cause, b_cause = uuid.uuid4(), uuid.uuid4()
    items = [
        pending(1, "a", cause=b_cause),
        pending(2, "b", cause=a_cause),
        pending(3, "a", event=a_cause),
        pending(4, "b", event=b_cause),
    ]
    # 1 goes without its cause (nothing else could go); then causes before their effects again.
    assert positions(plan(items, NOW, 10)) == [1, 3, 2, 4]


def test_every_due_delivery_is_planned_once_whatever_the_causes():
    # However causes point (within or across episodes, later arrivals, cycles), a plan as long as the lane
    # holds everything once: nothing due is ever left waiting for good.
    rng = random.Random(23)
    for _ in range(300):
        items = [pending(i, rng.choice("abc")) for i in range(rng.randint(1, 12))]
        events = [p.event_id for p in items]
        items = [dataclasses.replace(p, causation_id=rng.choice([None, uuid.uuid4(), *events])) for p in items]
        chosen = plan(items, NOW, len(items))
        assert sorted(positions(chosen)) == sorted(positions(items))
        sent: set[uuid.UUID] = set()
        for p in chosen:  # an episode's cause, when it is there, always goes before its effect
            same_episode = {q.event_id for q in items if q.subject == p.subject}
            if p.causation_id in same_episode and p.causation_id != p.event_id and not _in_cycle(p, items):
                assert p.causation_id in sent
            sent.add(p.event_id)


def _in_cycle(start: Pending, items: list[Pending]) -> bool:
    by_event = {p.event_id: p for p in items if p.subject == start.subject}
    seen, current = set(), start
    while current.causation_id in by_event and current.event_id not in seen:
        seen.add(current.event_id)
        current = by_event[current.causation_id]
        if current.event_id == start.event_id:
            return True
    return current.event_id in seen
