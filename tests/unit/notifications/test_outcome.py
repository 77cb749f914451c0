"""What an attempt's answer means: delivered, retried later (Retry-After, breaker), dead-lettered, unsubscribed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain.breaker import Breaker, BreakerPolicy
from services.notifications.domain.outcome import Attempt, DeliveryStatus, decide
from services.notifications.domain.retry_policy import RetryPolicy
from services.notifications.settings import NotificationsSettings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def policy(seed: int = 4, **bounds) -> RetryPolicy:
    """Short delays (1 s doubling to 8 s, 4 attempts) and a jitter seeded with `seed`."""
    short = {"base": timedelta(seconds=1), "cap": timedelta(seconds=8), "max_attempts": 4}
    return RetryPolicy(rng=random.Random(seed), **(short | bounds))


RETRY = policy()
BREAKER = BreakerPolicy(failure_threshold=100, probe_interval=timedelta(seconds=30))


def failed(status: int | None = 500, retry_after: timedelta | None = None) -> Attempt:
    return Attempt(status, 12.0, "boom", retry_after)


def test_a_2xx_answer_delivers_and_closes_the_breaker():
    decision = decide(Attempt(204, 3.0, None), 2, Breaker(2, None), NOW, RETRY, BREAKER)
    assert decision.status is DeliveryStatus.DELIVERED and decision.breaker == Breaker() and not decision.deactivate


def test_a_failure_is_retried_after_a_jittered_exponential_delay():
    retry = policy(seed=4)
    first = decide(failed(), 0, Breaker(), NOW, retry, BREAKER)
    third = decide(failed(), 2, Breaker(), NOW, retry, BREAKER)
    assert first.status is DeliveryStatus.PENDING
    assert timedelta(seconds=0.8) <= first.next_attempt_at - NOW <= timedelta(seconds=1.2)
    assert timedelta(seconds=3.2) <= third.next_attempt_at - NOW <= timedelta(seconds=4.8)


def test_the_last_attempt_sends_the_delivery_to_the_dead_letter_list():
    assert decide(failed(None), 3, Breaker(), NOW, RETRY, BREAKER).status is DeliveryStatus.DEAD


def test_a_longer_retry_after_is_honoured_up_to_its_cap():
    decision = decide(failed(503, timedelta(minutes=5)), 0, Breaker(), NOW, RETRY, BREAKER)
    assert decision.next_attempt_at == NOW + timedelta(minutes=5)
    capped = policy(retry_after_cap=timedelta(minutes=1))
    assert decide(
        failed(429, timedelta(days=9)), 0, Breaker(), NOW, capped, BREAKER
    ).next_attempt_at == NOW + timedelta(minutes=1)


def test_410_deactivates_the_subscription_and_keeps_the_delivery():
    decision = decide(failed(410), 0, Breaker(), NOW, RETRY, BREAKER)
    assert decision.deactivate and decision.status is DeliveryStatus.PENDING


def test_an_opening_breaker_pushes_the_retry_to_the_probe_time():
    breaker = BreakerPolicy(failure_threshold=1, probe_interval=timedelta(minutes=10))
    decision = decide(failed(), 0, Breaker(), NOW, RETRY, breaker)
    assert decision.breaker.open_until == NOW + timedelta(minutes=10)
    assert decision.next_attempt_at == NOW + timedelta(minutes=10)


def test_production_defaults_retry_for_more_than_a_day_and_short_spans_are_refused_there():
    settings = NotificationsSettings(jwt_secret="x" * 40, database_url="postgresql://x/y")
    assert settings.retry_policy().total_span() > timedelta(hours=24)
    with pytest.raises(ValueError, match="24 hours"):
        NotificationsSettings(
            RUGGENGRAAT_ENV="production",
            jwt_secret="x" * 40,
            database_url="postgresql://x/y",
            retry_base_seconds=0.1,
        )


def test_retry_timing_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RETRY_BASE_SECONDS", "0.25")
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("BREAKER_PROBE_SECONDS", "0.5")
    settings = NotificationsSettings()
    assert settings.retry_policy().base == timedelta(seconds=0.25) and settings.retry_policy().max_attempts == 3
    assert settings.breaker_policy().probe_interval == timedelta(seconds=0.5)


def test_the_jitter_comes_from_the_policys_own_seeded_source_not_the_global_one(monkeypatch):
    monkeypatch.setenv("RETRY_JITTER_SEED", "7")
    first, second = NotificationsSettings().retry_policy(), NotificationsSettings().retry_policy()
    before = random.getstate()
    drawn = [first.delay_after(a) for a in range(1, 6)]
    assert random.getstate() == before  # the module-level generator is not touched
    assert drawn == [second.delay_after(a) for a in range(1, 6)]  # one seed, one schedule
    assert len(set(drawn)) == 5 and all(d != first.base_delay(a) for a, d in enumerate(drawn, 1))
