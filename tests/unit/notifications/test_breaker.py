"""The circuit breaker parks an endpoint after repeated failures and lets one probe through later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.domain.breaker import Breaker, BreakerPolicy, BreakerState

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
POLICY = BreakerPolicy(failure_threshold=3, probe_interval=timedelta(seconds=60))


def test_it_stays_closed_below_the_threshold():
    breaker = Breaker().after_failure(NOW, POLICY).after_failure(NOW, POLICY)
    assert breaker.state(NOW) is BreakerState.CLOSED and breaker.allows_attempt(NOW)


def test_the_threshold_opens_it_and_parks_the_endpoint_until_the_probe():
    breaker = Breaker()
    for _ in range(3):
        breaker = breaker.after_failure(NOW, POLICY)
    assert breaker.state(NOW) is BreakerState.OPEN and not breaker.allows_attempt(NOW + timedelta(seconds=59))
    assert breaker.state(NOW + timedelta(seconds=60)) is BreakerState.HALF_OPEN
    assert breaker.allows_attempt(NOW + timedelta(seconds=60))


def test_a_failed_probe_parks_it_again_and_a_successful_one_closes_it():
    opened = Breaker(3, NOW)
    probe_time = NOW + timedelta(seconds=1)
    again = opened.after_failure(probe_time, POLICY)
    assert again.state(probe_time) is BreakerState.OPEN and again.open_until == probe_time + POLICY.probe_interval
    assert opened.after_success() == Breaker()


def test_an_endpoint_that_says_when_to_come_back_is_parked_until_exactly_then():
    come_back = NOW + timedelta(seconds=10)
    opening = Breaker(2, None).after_failure(NOW, POLICY, come_back)  # the third failure would park it for 60 s
    assert opening == Breaker(3, come_back)
    assert not opening.allows_attempt(come_back - timedelta(microseconds=1)) and opening.allows_attempt(come_back)
    probe = Breaker(3, NOW).after_failure(NOW, POLICY, NOW + timedelta(hours=2))  # longer than the probe, too
    assert probe.open_until == NOW + timedelta(hours=2)
    assert Breaker().after_failure(NOW, POLICY, come_back) == Breaker(1, None)  # below the threshold: closed
