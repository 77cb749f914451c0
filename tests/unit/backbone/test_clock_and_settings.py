"""The injectable clock and the settings' production guards."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.clock import ManualClock, OffsetFileClock
from shared.settings import ServiceSettings


def test_a_manual_clock_moves_only_when_told():
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(weeks=12))
    assert clock.now() == datetime(2026, 3, 26, tzinfo=UTC)


def test_a_manual_clock_refuses_a_naive_start():
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 1, 1))


def test_an_offset_file_moves_every_reader_of_it(tmp_path: Path):
    path = tmp_path / "clock"
    clock = OffsetFileClock(path)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    OffsetFileClock.write_offset(path, timedelta(weeks=12))
    os.utime(path, (1, 1))  # a distinct mtime even on coarse-grained file systems
    moved = clock.now() - datetime.now(UTC)
    assert timedelta(weeks=12) - timedelta(seconds=5) < moved < timedelta(weeks=12) + timedelta(seconds=5)


def test_production_refuses_a_moved_clock_and_a_missing_database(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RUGGENGRAAT_ENV", "production")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="database_url"):
        ServiceSettings()
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/ruggengraat")
    monkeypatch.setenv("CLOCK_OFFSET_FILE", "/tmp/clock")
    with pytest.raises(ValidationError, match="clock_offset_file"):
        ServiceSettings()


def test_topic_prefix_applies_to_topics_and_groups(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "run42.")
    settings = ServiceSettings(service_name="pathway")
    assert settings.topic("intake.events") == "run42.intake.events"
    assert settings.group("pathway") == "run42.pathway"


def test_without_database_url_the_error_says_how_to_start(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="ruggengraat up|DATABASE_URL"):
        ServiceSettings().require_database_url()


def test_consumers_off_the_decisions_path_fetch_with_a_longer_wait(monkeypatch: pytest.MonkeyPatch):
    """The pathway decides, so it fetches with the short shared wait; reporting and notifications take 200 ms
    (less CPU per event); the environment still overrides each."""
    from services.notifications.settings import NotificationsSettings
    from services.pathway.settings import PathwaySettings
    from services.reporting.settings import ReportingSettings

    monkeypatch.delenv("CONSUMER_FETCH_MAX_WAIT_MS", raising=False)
    assert PathwaySettings().consumer_fetch_max_wait_ms == ServiceSettings().consumer_fetch_max_wait_ms == 50
    assert ReportingSettings().consumer_fetch_max_wait_ms == NotificationsSettings().consumer_fetch_max_wait_ms == 200
    monkeypatch.setenv("CONSUMER_FETCH_MAX_WAIT_MS", "75")
    assert ReportingSettings().consumer_fetch_max_wait_ms == NotificationsSettings().consumer_fetch_max_wait_ms == 75
