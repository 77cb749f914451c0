"""The order an episode's held events are walked in: each source's in its stream order, sources interleaved as
they arrived."""

from __future__ import annotations

from dataclasses import dataclass

from services.notifications.domain.holding import walk_order


@dataclass(frozen=True)
class Held:
    source: str
    stream_version: int | None


def test_a_later_event_that_arrived_first_is_walked_after_the_earlier_one_of_its_source():
    arrived = [Held("intake", 3), Held("intake", 4), Held("intake", 1)]
    assert walk_order(arrived) == [Held("intake", 1), Held("intake", 3), Held("intake", 4)]


def test_sources_keep_the_places_they_arrived_in():
    arrived = [Held("pathway", 2), Held("intake", 5), Held("pathway", 1), Held("intake", 4), Held("reporting", 1)]
    assert walk_order(arrived) == [
        Held("pathway", 1),
        Held("intake", 4),
        Held("pathway", 2),
        Held("intake", 5),
        Held("reporting", 1),
    ]


def test_events_in_order_stay_as_they_are():
    arrived = [Held("intake", 1), Held("pathway", 1), Held("intake", 2)]
    assert walk_order(arrived) == arrived
    assert walk_order([]) == []
