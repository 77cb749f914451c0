"""The scheduler's settings come from the environment, with defaults fit for production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.pathway.scheduler import SchedulerConfig
from services.pathway.settings import PathwaySettings

VARIABLES = ("TIMER_POLL_INTERVAL_SECONDS", "TIMER_BATCH_SIZE", "EVALUATION_OVERDUE_GRACE_DAYS")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_by_default_the_scheduler_polls_every_second_and_an_evaluation_is_overdue_after_a_week():
    config = SchedulerConfig.from_settings(PathwaySettings())
    assert config == SchedulerConfig(poll_interval_seconds=1.0, batch_size=100, overdue_grace=timedelta(days=7))


def test_the_environment_sets_poll_interval_batch_size_and_grace(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TIMER_POLL_INTERVAL_SECONDS", "0.05")
    monkeypatch.setenv("TIMER_BATCH_SIZE", "7")
    monkeypatch.setenv("EVALUATION_OVERDUE_GRACE_DAYS", "3.5")
    config = SchedulerConfig.from_settings(PathwaySettings())
    assert config == SchedulerConfig(poll_interval_seconds=0.05, batch_size=7, overdue_grace=timedelta(hours=84))


@pytest.mark.parametrize(
    ("name", "value"),
    [("TIMER_POLL_INTERVAL_SECONDS", "0"), ("TIMER_BATCH_SIZE", "0"), ("EVALUATION_OVERDUE_GRACE_DAYS", "-1")],
)
def test_settings_that_would_stall_or_reverse_the_scheduler_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        PathwaySettings()
