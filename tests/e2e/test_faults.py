"""The two hardest faults of the campaign (`./ruggengraat faults`), in short: PostgreSQL stopped mid-load, and the
pathway SIGKILLed while evaluation timers fire. Each on a fresh system of its own (embedded PostgreSQL, tansu,
the four services, a webhook receiver), under a steady load, judged by the campaign's own checks."""

from __future__ import annotations

import time

import pytest

from deploy.faults import SCENARIOS, Options, ScenarioResult, run_scenario

pytestmark = pytest.mark.e2e


def short(tmp_path) -> Options:
    return Options(
        out=tmp_path,
        rate=5,
        seconds=18,
        fault_at=6,
        drain_timeout=40,
        stall_after=25,
        rescue=False,  # a stall fails the test; nobody steps in
        settle=2,
        echo=lambda line: None,
    )


def assert_nothing_lost_twice_or_stalled(result: ScenarioResult) -> None:
    assert result.error == ""
    assert result.drain == "drained", f"{result.drain}: {result.stall}; logs in {result.run_dir}"
    assert result.lost == [] and result.load["rejected_total"] == 0
    assert result.load["accepted"] > 0
    for consumer, consumed in result.consumption.items():
        assert (consumed["missing"], consumed["duplicated"]) == (0, 0), consumer
    assert result.duplicates == []
    assert result.timers["fired_twice"] == 0 and result.timers["due_not_fired"] == 0
    assert set(result.deliveries) == set(result.order) == {"practice", "referrer"}
    for endpoint, deliveries in result.deliveries.items():
        assert (deliveries["missing"], deliveries["duplicated"], deliveries["gaps"]) == (0, 0, []), endpoint
        assert deliveries["once"] == deliveries["expected"] > 0
        assert deliveries["out_of_order"] == 0 and result.order[endpoint]["violations"] == 0
    assert result.person_acted == ""
    assert result.ok, result.problems


async def test_postgresql_stopped_for_five_seconds_mid_load_loses_nothing_and_does_nothing_twice(tmp_path):
    began = time.monotonic()
    result = await run_scenario(SCENARIOS["pg-fast-5"], short(tmp_path))
    assert_nothing_lost_twice_or_stalled(result)
    assert any("PostgreSQL started again" in text for _, text in result.timeline)
    assert time.monotonic() - began < 90


async def test_pathway_killed_while_timers_fire_fires_each_once_and_loses_nothing(tmp_path):
    began = time.monotonic()
    result = await run_scenario(SCENARIOS["kill-pathway"], short(tmp_path))
    assert_nothing_lost_twice_or_stalled(result)
    assert result.timers["fired"] > 0 and result.events["pathway"]["EvaluationDue"] == result.timers["fired"]
    assert result.orchestrator_restarts == 1
    assert time.monotonic() - began < 90
