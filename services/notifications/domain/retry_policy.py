"""When a failed delivery is tried again: when the receiver said (Retry-After), within bounds; otherwise after
an exponential backoff with jitter, spread over more than a day.

Pure: the jitter comes from the `random.Random` the policy is given (seeded by its maker), never from the
module-level generator, so a test or a replay of decisions draws the same delays again.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Production defaults. Base delays after attempt 1, 2, …: 5 s doubling to a cap of 4 h; 18 attempts span 25.7 h
# before jitter, 20.6-30.8 h with it (under 24 h for about 6 % of the deliveries that use them all).
BASE = timedelta(seconds=5)
CAP = timedelta(hours=4)
MAX_ATTEMPTS = 18
RETRY_AFTER_MIN = timedelta(seconds=1)
RETRY_AFTER_CAP = timedelta(hours=24)
JITTER = 0.2  # each backoff delay is its base delay times a uniform draw from [1 - JITTER, 1 + JITTER]
# What a Retry-After reads as at most (ten years, beyond any policy's cap), so that it stays representable.
_LONGEST_RETRY_AFTER = timedelta(days=3650)
_DELAY_SECONDS = re.compile(r"[0-9]+")


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    #: Draws the jitter; the policy's maker seeds it (settings: RETRY_JITTER_SEED, else from the OS).
    rng: random.Random = field(compare=False, repr=False)
    base: timedelta = BASE
    cap: timedelta = CAP
    max_attempts: int = MAX_ATTEMPTS
    #: A receiver's Retry-After is honoured from this long, so `Retry-After: 0` does not make us hammer it,
    retry_after_min: timedelta = RETRY_AFTER_MIN
    #: and up to this long, so one header cannot park a delivery for ever.
    retry_after_cap: timedelta = RETRY_AFTER_CAP

    def base_delay(self, attempt: int) -> timedelta:
        factor: float = 2 ** min(attempt - 1, 62)  # an int from attempt 1 on
        return min(self.base * factor, self.cap)

    def backoff(self, attempt: int) -> timedelta:
        """The delay after failed attempt `attempt` (1-based) of a receiver that did not say when: its base
        delay, give or take JITTER."""
        return self.base_delay(attempt) * self.rng.uniform(1 - JITTER, 1 + JITTER)

    def honoured(self, retry_after: timedelta) -> timedelta:
        """The delay a receiver's Retry-After gets: what it asked, within [retry_after_min, retry_after_cap]."""
        return max(self.retry_after_min, min(retry_after, self.retry_after_cap))

    def delay_after(self, attempt: int, retry_after: timedelta | None = None) -> timedelta:
        """Delay before the attempt after `attempt` (1-based): the receiver's Retry-After when it gave one,
        shorter or longer than the backoff (within its bounds, without jitter), else the backoff."""
        return self.backoff(attempt) if retry_after is None else self.honoured(retry_after)

    def exhausted(self, attempts: int) -> bool:
        """True when `attempts` failed attempts are all this delivery gets before the dead-letter list."""
        return attempts >= self.max_attempts

    def total_span(self) -> timedelta:
        """The shortest time from the first attempt to the last, before jitter."""
        return sum((self.base_delay(a) for a in range(1, self.max_attempts)), timedelta(0))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (RFC 9110 §10.2.3) as a delay from `now` (an aware datetime on the receiver's
    clock, i.e. real time); None when absent or unreadable. Either form: delay-seconds (`120`) or an
    HTTP-date in any of the three forms a recipient must accept (IMF-fixdate `Sun, 06 Nov 1994 08:49:37
    GMT`, the obsolete RFC 850 and asctime forms); an HTTP-date is always UTC, and one in the past means
    now. Not bounded here beyond keeping it representable: the policy bounds it."""
    value = (value or "").strip()
    if not value:
        return None
    if _DELAY_SECONDS.fullmatch(value):
        # More digits than 12 (over 30,000 years) would overflow timedelta, or even int() past 4300 digits.
        return _LONGEST_RETRY_AFTER if len(value) > 12 else min(timedelta(seconds=int(value)), _LONGEST_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime carries no zone, and `-0000` reads as none: HTTP-dates are UTC
        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), _LONGEST_RETRY_AFTER)
