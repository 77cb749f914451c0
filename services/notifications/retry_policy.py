"""When a failed delivery is tried again: exponential backoff with jitter, spread over more than a day."""

from __future__ import annotations

import random
from datetime import timedelta

# Base delays after attempt 1, 2, …: 5 s doubling to a cap of 4 h; 18 attempts span ~29 h.
BASE = timedelta(seconds=5)
CAP = timedelta(hours=4)
MAX_ATTEMPTS = 18


def delay_after(attempt: int, retry_after: timedelta | None = None, rng: random.Random | None = None) -> timedelta:
    """Delay before the attempt after `attempt` (1-based); a receiver's Retry-After wins when longer."""
    base = min(BASE * (2 ** (attempt - 1)), CAP)
    jitter = (rng or random).uniform(0.8, 1.2)
    delay = base * jitter
    if retry_after is not None and retry_after > delay:
        return retry_after
    return delay


def total_span() -> timedelta:
    return sum((min(BASE * (2 ** (a - 1)), CAP) for a in range(1, MAX_ATTEMPTS)), timedelta(0))
