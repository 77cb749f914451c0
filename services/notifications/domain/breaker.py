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

    def after_failure(self, now: datetime, policy: BreakerPolicy, come_back_at: datetime | None = None) -> Breaker:
        """A failed probe parks the endpoint again; so does reaching the threshold while closed. The park
        lasts the probe interval, unless the endpoint said when to come back (`come_back_at`, from its
        Retry-After): then until exactly that time, shorter or longer. An endpoint that says when (typically
        a 429 or 503 with Retry-After) is managing its load, and is asked again when it asked; the breaker's
        own interval is for endpoints that fail without saying when."""
        failures = self.failures + 1
        if self.open_until is not None or failures >= policy.failure_threshold:
            return Breaker(failures, come_back_at if come_back_at is not None else now + policy.probe_interval)
        return Breaker(failures, None)
