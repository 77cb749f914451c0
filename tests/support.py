"""Small helpers the tests share: callers' headers, test data, a pool that logs the statements sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import asyncpg

from deploy.local import dev_headers

PRACTICE_AGB = "04123456"
OTHER_PRACTICE_AGB = "04999999"
REFERRER_AGB = "01234567"
OTHER_REFERRER_AGB = "01999999"


def practice(agb: str = PRACTICE_AGB) -> dict[str, str]:
    return dev_headers("practice", agb, user="fysio-test")


def referrer(agb: str = REFERRER_AGB) -> dict[str, str]:
    return dev_headers("referrer", agb, user="gp-test")


def subscriber(subscriber_id: str = "gp-his", scope: str | None = f"referrer:{REFERRER_AGB}") -> dict[str, str]:
    return dev_headers("subscriber", subscriber_id, scope=scope)


def valid_bsn(seed: int) -> str:
    """A BSN that passes the elfproef, different per seed (test data only)."""
    for k in range(1000):
        prefix = f"{10_000_000 + (seed % 80_000) * 1000 + k:08d}"
        total = sum(int(d) * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
        check = total % 11
        if check < 10 and total != check:
            return prefix + str(check)
    raise AssertionError("unreachable: one in eleven prefixes has a check digit")


def patient(seed: int = 0, name: str | None = None) -> dict[str, str]:
    return {
        "name": name or f"Testpatiënt {seed}",
        "bsn": valid_bsn(seed),
        "birth_date": f"19{50 + seed % 50:02d}-0{1 + seed % 9}-1{seed % 10}",
    }


def gp_referral(referral_id: str, seed: int, request_for_help: str = "Weer kunnen fietsen") -> dict[str, Any]:
    """A GP's referral as `POST /v1/referrals` takes it, to the test practice from the test verwijzer."""
    return {
        "referral_id": referral_id,
        "route": "gp_referral",
        "practice_agb": PRACTICE_AGB,
        "referrer_agb": REFERRER_AGB,
        "referred_on": "2026-11-20",
        "patient": patient(seed),
        "request_for_help": request_for_help,
        "reason": "Aspecifieke lage rugpijn",
    }


class LoggedPool:
    """Stands in for a pool: hands out its connections with a query logger, so a test can count the round trips
    a piece of code makes. `statements` holds every statement sent (whitespace collapsed), in order."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements: list[str] = []
        self.acquired = 0

    def _log(self, record) -> None:
        self.statements.append(" ".join(record.query.split()))

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        self.acquired += 1
        async with self.pool.acquire() as conn:
            conn.add_query_logger(self._log)
            try:
                yield conn
            finally:
                conn.remove_query_logger(self._log)

    def reset(self) -> None:
        self.statements.clear()
        self.acquired = 0

    async def sent_by(self, work: Awaitable[Any]) -> tuple[Any, list[str]]:
        """What `work` returned and the statements it sent, in order."""
        self.reset()
        result = await work
        await asyncio.sleep(0)  # the query logger reports through call_soon
        return result, list(self.statements)
