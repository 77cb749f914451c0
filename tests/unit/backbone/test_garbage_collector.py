"""A service leaves what start-up made out of later collections and collects its youngest generation less often."""

from __future__ import annotations

import gc

import pytest

from shared.service import GC_YOUNG_THRESHOLD, settle_garbage_collector


@pytest.fixture
def restored_collector():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settling_freezes_what_exists_and_raises_the_young_threshold(restored_collector):
    made_at_start_up = [[i] for i in range(1000)]
    frozen_before = gc.get_freeze_count()

    settle_garbage_collector()

    assert gc.get_freeze_count() >= frozen_before + len(made_at_start_up)
    collected = {id(o) for o in gc.get_objects()}  # the generations a collection looks at
    assert not any(id(o) in collected for o in made_at_start_up)
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD > 700  # CPython's default
