"""Routing a batch: which events go out at once (together) and which walk their episode, in arrival order."""

from __future__ import annotations

import uuid

from services.notifications.domain.filters import EpisodeParties
from services.notifications.domain.routing import Arrival, AtOnce, Known, Walk, route

PARTIES = EpisodeParties("04111111", "01333333")
CLEAR = Known(seen=False, parties=PARTIES, episode_held=False, others_wait=False, cause_out=True)
UNKNOWN_EPISODE = Known(seen=False, parties=None, episode_held=False, others_wait=False, cause_out=True)


def arrival(episode: str = "e1", cause: Arrival | None = None, parties: EpisodeParties | None = None) -> Arrival:
    return Arrival(uuid.uuid4(), episode, cause.event_id if cause else None, parties)


def pending_cause(state: Known = CLEAR) -> Known:
    return Known(state.seen, state.parties, state.episode_held, state.others_wait, cause_out=False)


def shape(steps) -> list[tuple[str, list[uuid.UUID]]]:
    return [
        ("at once", [a.event_id for a, _ in s.arrivals]) if isinstance(s, AtOnce) else ("walk", [s.arrival.event_id])
        for s in steps
    ]


def test_a_batch_of_clear_events_goes_out_at_once_together_in_arrival_order():
    events = [arrival("e1"), arrival("e2"), arrival("e1")]
    assert route(events, [CLEAR] * 3) == [AtOnce(tuple((e, PARTIES) for e in events))]


def test_a_referral_makes_its_episodes_parties_known_from_there_on():
    before = arrival("e1")
    referral = arrival("e1", parties=PARTIES)
    after = arrival("e1", cause=referral)
    steps = route([before, referral, after], [UNKNOWN_EPISODE, UNKNOWN_EPISODE, pending_cause(UNKNOWN_EPISODE)])
    # `before` waits for the parties, so the rest of its episode walks after it
    assert shape(steps) == [("walk", [before.event_id]), ("walk", [referral.event_id]), ("walk", [after.event_id])]

    steps = route([referral, after], [UNKNOWN_EPISODE, pending_cause(UNKNOWN_EPISODE)])
    assert steps == [AtOnce(((referral, PARTIES), (after, PARTIES)))]


def test_the_first_referral_of_an_episode_counts_and_known_parties_stay():
    other = EpisodeParties("04222222", None)
    first, second = arrival("e1", parties=PARTIES), arrival("e1", parties=other)
    assert route([first, second], [UNKNOWN_EPISODE] * 2) == [AtOnce(((first, PARTIES), (second, PARTIES)))]
    assert route([second], [CLEAR]) == [AtOnce(((second, PARTIES),))]


def test_an_event_whose_cause_went_out_earlier_in_the_batch_goes_out_too_one_whose_cause_walked_walks():
    cause = arrival("e1")
    effect = arrival("e2", cause=cause)
    assert shape(route([cause, effect], [CLEAR, pending_cause()])) == [("at once", [cause.event_id, effect.event_id])]

    held = Known(seen=False, parties=PARTIES, episode_held=True, others_wait=False, cause_out=True)
    assert shape(route([cause, effect], [held, pending_cause()])) == [
        ("walk", [cause.event_id]),
        ("walk", [effect.event_id]),
    ]


def test_an_effect_before_its_cause_walks_and_so_does_the_cause_it_waits_for():
    cause = arrival("e1")
    effect = arrival("e2", cause=cause)
    other = arrival("e3")
    assert shape(route([effect, other, cause], [pending_cause(), CLEAR, CLEAR])) == [
        ("walk", [effect.event_id]),
        ("at once", [other.event_id]),
        ("walk", [cause.event_id]),
    ]


def test_once_an_event_of_an_episode_walks_the_rest_of_it_walks_other_episodes_go_on():
    waits, later = arrival("e1"), arrival("e1")
    a, b = arrival("e2"), arrival("e3")
    steps = route([a, waits, b, later], [CLEAR, pending_cause(), CLEAR, CLEAR])
    assert shape(steps) == [
        ("at once", [a.event_id]),
        ("walk", [waits.event_id]),
        ("at once", [b.event_id]),
        ("walk", [later.event_id]),
    ]


def test_what_the_store_holds_sends_an_event_on_the_walk():
    held_episode = Known(seen=False, parties=PARTIES, episode_held=True, others_wait=False, cause_out=True)
    waited_for = Known(seen=False, parties=PARTIES, episode_held=False, others_wait=True, cause_out=True)
    for state in (held_episode, waited_for, pending_cause(), UNKNOWN_EPISODE):
        event = arrival()
        assert route([event], [state]) == [Walk(event)]


def test_events_kept_already_or_earlier_in_the_batch_are_left_out():
    kept, fresh = arrival(), arrival("e2")
    seen = Known(seen=True, parties=PARTIES, episode_held=True, others_wait=True, cause_out=False)
    assert route([kept, fresh, fresh], [seen, CLEAR, CLEAR]) == [AtOnce(((fresh, PARTIES),))]
