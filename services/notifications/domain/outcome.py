"""What one attempt means for the delivery and for the subscriber's endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.notifications.domain.breaker import Breaker, BreakerPolicy
from services.notifications.domain.retry_policy import RetryPolicy


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # on the dead-letter list, until re-driven


@dataclass(frozen=True)
class Attempt:
    status_code: int | None  # None: no answer (refused, timed out, refused address)
    latency_ms: float
    error: str | None
    retry_after: timedelta | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks to be unsubscribed."""
        return self.status_code == 410


@dataclass(frozen=True)
class Decision:
    status: DeliveryStatus
    next_attempt_at: datetime
    breaker: Breaker
    deactivate: bool


def decide(
    attempt: Attempt,
    round_attempts_before: int,
    breaker: Breaker,
    now: datetime,
    retry: RetryPolicy,
    breaker_policy: BreakerPolicy,
) -> Decision:
    """`round_attempts_before`: attempts since the delivery was (re)queued, not counting this one."""
    if attempt.delivered:
        return Decision(DeliveryStatus.DELIVERED, now, breaker.after_success(), False)
    if attempt.gone:
        # The subscription stops; the delivery stays pending so a resumed subscription still gets it.
        return Decision(DeliveryStatus.PENDING, now, breaker.after_success(), True)
    attempts = round_attempts_before + 1
    # A receiver that says when to come back is asked again then (within the policy's bounds), and the
    # breaker parks its endpoint until then, not longer; one that fails without saying when waits for the
    # jittered backoff and, once it has failed often enough in a row, for the breaker's probe.
    come_back_at = None if attempt.retry_after is None else now + retry.honoured(attempt.retry_after)
    after = breaker.after_failure(now, breaker_policy, come_back_at)
    if retry.exhausted(attempts):
        return Decision(DeliveryStatus.DEAD, now, after, False)
    if come_back_at is not None:
        return Decision(DeliveryStatus.PENDING, come_back_at, after, False)
    next_at = now + retry.backoff(attempts)
    if after.open_until is not None:
        next_at = max(next_at, after.open_until)
    return Decision(DeliveryStatus.PENDING, next_at, after, False)
