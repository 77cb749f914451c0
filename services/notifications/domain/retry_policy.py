"""When a failed delivery is tried again: exponential backoff with jitter, spread over more than a day.

Pure: the jitter comes from the `random.Random` the policy is given (seeded by its maker), never from the
module-level generator, so a test or a replay of decisions draws the same delays again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

# Production defaults. Base delays after attempt 1, 2, …: 5 s doubling to a cap of 4 h; 18 attempts span ~29 h.
BASE = timedelta(seconds=5)
CAP = timedelta(hours=4)
MAX_ATTEMPTS = 18
RETRY_AFTER_CAP = timedelta(hours=24)
JITTER = 0.2  # each backoff delay is its base delay times a uniform draw from [1 - JITTER, 1 + JITTER]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    #: Draws the jitter; the policy's maker seeds it (settings: RETRY_JITTER_SEED, else from the OS).
    rng: random.Random = field(compare=False, repr=False)
    base: timedelta = BASE
    cap: timedelta = CAP
    max_attempts: int = MAX_ATTEMPTS
    #: A receiver's Retry-After is honoured up to this long, so one header cannot park a delivery for ever.
    retry_after_cap: timedelta = RETRY_AFTER_CAP

    def base_delay(self, attempt: int) -> timedelta:
        return min(self.base * (2 ** min(attempt - 1, 62)), self.cap)

    def delay_after(self, attempt: int, retry_after: timedelta | None = None) -> timedelta:
        """Delay before the attempt after `attempt` (1-based); a receiver's Retry-After wins when longer."""
        delay = self.base_delay(attempt) * self.rng.uniform(1 - JITTER, 1 + JITTER)
        if retry_after is not None:
            retry_after = min(retry_after, self.retry_after_cap)
            if retry_after > delay:
                return retry_after
        return delay

    def exhausted(self, attempts: int) -> bool:
        """True when `attempts` failed attempts are all this delivery gets before the dead-letter list."""
        return attempts >= self.max_attempts

    def total_span(self) -> timedelta:
        """The shortest time from the first attempt to the last, before jitter."""
        return sum((self.base_delay(a) for a in range(1, self.max_attempts)), timedelta(0))
