"""Notifications settings, read from the environment.

Every delay that decides when something is tried again is a setting, so that tests run the whole retry,
breaker and lease machinery in seconds while production keeps a retry span of more than a day.
"""

from __future__ import annotations

import random
from datetime import timedelta

from pydantic import Field, model_validator

from services.notifications.domain.breaker import BreakerPolicy
from services.notifications.domain.retry_policy import RetryPolicy
from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    # Short batches, short transactions: the relays publish only what committed before the oldest transaction
    # still running (see reporting's settings for what 100 ms batches cost).
    consumer_batch_wait_ms: int = 30
    # Off the decisions' path: a longer fetch wait costs tansu and this consumer less CPU per event (see
    # reporting's settings); a subscriber hears of an event up to ~150 ms later.
    consumer_fetch_max_wait_ms: int = 200
    http_port: int = 8004
    delivery_timeout_seconds: float = Field(default=10.0, gt=0, description="Whole-request timeout per attempt.")
    delivery_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1, le=1000, description="Deliveries a lane plans at once.")
    delivery_max_concurrency: int = Field(
        default=200, ge=1, le=5000, description="Requests in flight at once over all subscribers."
    )
    dispatch_idle_seconds: float = Field(default=0.05, gt=0, description="How often due lanes are looked for.")
    retry_base_seconds: float = Field(default=5.0, gt=0, description="Delay after the first failed attempt.")
    retry_cap_seconds: float = Field(default=4 * 3600.0, gt=0, description="Longest delay between attempts.")
    retry_max_attempts: int = Field(default=18, ge=1, le=1000, description="Attempts before the dead-letter list.")
    retry_after_min_seconds: float = Field(
        default=1.0, ge=0, description="Shortest Retry-After honoured: `Retry-After: 0` waits this long."
    )
    retry_after_cap_seconds: float = Field(default=24 * 3600.0, gt=0, description="Longest Retry-After honoured.")
    retry_jitter_seed: int | None = Field(
        default=None, description="Seeds the jitter's random source (tests, benchmarks); none: seeded from the OS."
    )
    breaker_failure_threshold: int = Field(default=5, ge=1, description="Consecutive failures that open it.")
    breaker_probe_seconds: float = Field(default=60.0, gt=0, description="How long an open breaker parks.")
    lane_lease_seconds: float = Field(
        default=30.0, gt=0, description="How long a process owns a subscriber's lane without renewing it."
    )
    causal_hold_seconds: float = Field(
        default=300.0, gt=0, description="Longest an event waits for its cause before it is delivered anyway."
    )
    secret_overlap_seconds: float = Field(
        default=24 * 3600.0, ge=0, description="How long the old secret still signs after a rotation."
    )

    @model_validator(mode="after")
    def _retries_span_a_day_in_production(self) -> NotificationsSettings:
        if self.environment == "production" and self.retry_policy().total_span() <= timedelta(hours=24):
            raise ValueError("retry_base_seconds: in production the retries must span more than 24 hours")
        if self.retry_after_min_seconds > self.retry_after_cap_seconds:
            raise ValueError("retry_after_min_seconds: must not be longer than retry_after_cap_seconds")
        if self.lane_lease_seconds <= self.delivery_timeout_seconds:
            raise ValueError("lane_lease_seconds: must be longer than delivery_timeout_seconds")
        return self

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            rng=random.Random(self.retry_jitter_seed),
            base=timedelta(seconds=self.retry_base_seconds),
            cap=timedelta(seconds=self.retry_cap_seconds),
            max_attempts=self.retry_max_attempts,
            retry_after_min=timedelta(seconds=self.retry_after_min_seconds),
            retry_after_cap=timedelta(seconds=self.retry_after_cap_seconds),
        )

    def breaker_policy(self) -> BreakerPolicy:
        return BreakerPolicy(self.breaker_failure_threshold, timedelta(seconds=self.breaker_probe_seconds))
