"""The circuit breaker of one subscriber's endpoint: closed, open (parked) and half open (one probe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"  # parked: nothing is sent until `open_until`
    HALF_OPEN = "half_open"  # `open_until` has passed: the next attempt is the probe


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 5
    probe_interval: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Breaker:
    """What is stored per subscription: consecutive failures, and until when the endpoint is parked."""

    failures: int = 0
    open_until: datetime | None = None

    def state(self, now: datetime) -> BreakerState:
        if self.open_until is None:
            return BreakerState.CLOSED
        return BreakerState.OPEN if now < self.open_until else BreakerState.HALF_OPEN

    def allows_attempt(self, now: datetime) -> bool:
        return self.state(now) is not BreakerState.OPEN

    def after_success(self) -> Breaker:
        return Breaker()

    def after_failure(self, now: datetime, policy: BreakerPolicy) -> Breaker:
        """A failed probe parks the endpoint again; so does reaching the threshold while closed."""
        failures = self.failures + 1
        if self.open_until is not None or failures >= policy.failure_threshold:
            return Breaker(failures, now + policy.probe_interval)
        return Breaker(failures, None)
