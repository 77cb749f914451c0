"""The campaign's load: episodes started at a steady rate (open loop), each a GP system's referral followed by
the practice's history, assessment, measurements, treatment plan and first session.

Every request is retried, as a real GP or practice system would, with its Idempotency-Key (and the referral
with its referral_id) on a 5xx, a refused connection or a timeout, honouring Retry-After, until it is
accepted or the load ends. What was accepted is what the system promised: the checks look for it in the store.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

from deploy.cohort import CARE, DEVIATING, NORMAL, WITHIN, qbpds
from deploy.faults.checks import Accepted
from deploy.local import dev_headers
from shared.clock import OffsetFileClock

PRACTICE_AGB = "04123456"
REFERRER_AGB = "01234567"
STEPS = ("referral", "history", "assessment", "measurements", "treatment-plan", "sessions")
REFERRER = dev_headers("referrer", REFERRER_AGB, user="his-campaign")
PRACTICE = dev_headers("practice", PRACTICE_AGB, user="fysio-campaign")

# What each step appends once per episode (the checks count a second one in an episode as a duplicate effect).
APPENDED_ONCE = (
    "nl.ruggengraat.intake.ReferralReceived",
    "nl.ruggengraat.intake.HistoryTaken",
    "nl.ruggengraat.intake.AssessmentCompleted",
    "nl.ruggengraat.intake.MeasurementRecorded",
    "nl.ruggengraat.intake.TreatmentPlanAgreed",
    "nl.ruggengraat.intake.SessionRecorded",
)


def valid_bsn(n: int) -> str:
    """A BSN passing the elfproef, different for every n (test data)."""
    for k in range(10):
        prefix = f"{20_000_000 + n * 10 + k:08d}"
        total = sum(int(d) * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
        if total % 11 < 10 and total != total % 11:
            return prefix + str(total % 11)
    raise AssertionError("unreachable: one in eleven prefixes has a check digit")


def bodies(n: int, today: date) -> dict[str, dict]:
    """The requests of episode n, dated by the shared clock's day. Odd episodes run a deviating course."""
    normal = n % 2 == 0
    onset = today - timedelta(days=25 if normal else 100)
    day = today.isoformat()
    return {
        "referral": {
            "referral_id": f"FAULTS-{n:06d}-{uuid.uuid4().hex[:8]}",
            "route": "gp_referral",
            "practice_agb": PRACTICE_AGB,
            "referrer_agb": REFERRER_AGB,
            "referred_on": day,
            "symptom_onset": onset.isoformat(),
            "patient": {"name": f"Campagne {n}", "bsn": valid_bsn(n), "birth_date": "1970-01-01"},
            "request_for_help": "Weer kunnen werken zonder rugpijn.",
            "reason": "Lage rugpijn zonder rode vlaggen.",
        },
        "history": {
            "taken_on": day,
            "onset_date": onset.isoformat(),
            "course": NORMAL if normal else DEVIATING,
            "care_context": CARE,
        },
        "assessment": {"assessed_on": day, "scope": WITHIN},
        "measurements": {"occasion": "intake", "measurement": {"taken_on": day, "qbpds": qbpds(3), "nprs": 6}},
        "treatment-plan": {
            "agreed_on": day,
            "start_date": day,
            "planned_sessions": 2 if normal else 12,
            "interventions": [
                {"modality": "information_advice" if normal else "exercise_therapy", "main_component": True}
            ],
        },
        "sessions": {"session_on": day},
    }


@dataclass
class LoadStats:
    episodes_started: int = 0
    episodes_completed: int = 0
    accepted: list[Accepted] = field(default_factory=list)
    accepted_at: list[float] = field(default_factory=list)  # seconds since the load started
    refused: Counter[str] = field(default_factory=Counter)  # attempts answered 5xx, refused, timed out; by cause
    rejected: list[str] = field(default_factory=list)  # 4xx answers to valid requests: never retried
    given_up: int = 0  # requests tried but not accepted when the load ended
    retried_requests: int = 0  # requests accepted only after at least one refused attempt
    seconds: float = 0.0
    answered: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, latency) per 2xx

    def latency(self, window: float = 5.0) -> dict[str, float]:
        """Latency of accepted attempts in seconds: median, p99 and max over the whole load, and the worst
        median of any `window`-second stretch (a spike that the whole-load median hides)."""
        if not self.answered:
            return {}
        latencies = sorted(seconds for _, seconds in self.answered)
        windows: dict[int, list[float]] = {}
        for at, seconds in self.answered:
            windows.setdefault(int(at // window), []).append(seconds)
        worst_at, worst = max(
            ((index * window, statistics.median(values)) for index, values in windows.items()), key=lambda w: w[1]
        )
        return {
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "max": latencies[-1],
            "worst_window_p50": worst,
            "worst_window_at": worst_at,
        }

    @property
    def accepted_count(self) -> int:
        return len(self.accepted)

    @property
    def refused_count(self) -> int:
        return sum(self.refused.values())


class Load:
    def __init__(self, intake_urls: list[str], clock_file: Path, rate: float, seconds: float) -> None:
        self.urls = itertools.cycle(intake_urls)  # round-robin over intake's workers; a retry goes to the next
        self.clock = OffsetFileClock(clock_file)
        self.rate = rate
        self.seconds = seconds
        self.stats = LoadStats()
        self.started = 0.0
        self.deadline = 0.0

    async def run(self) -> LoadStats:
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0), limits=limits) as client:
            self.started = time.monotonic()
            self.deadline = self.started + self.seconds
            tasks: set[asyncio.Task] = set()
            n = 0
            try:
                while time.monotonic() < self.deadline:
                    task = asyncio.create_task(self.episode(client, n))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    n += 1
                    await asyncio.sleep(max(0.0, self.started + n / self.rate - time.monotonic()))
                if tasks:
                    await asyncio.gather(*tasks)
            finally:  # cancelled (the campaign stopped) or failed: no episode outlives the client
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        self.stats.seconds = time.monotonic() - self.started
        return self.stats

    async def episode(self, client: httpx.AsyncClient, n: int) -> None:
        self.stats.episodes_started += 1
        referral = bodies(n, self.clock.now().date())["referral"]
        created = await self.send(client, "referral", "/v1/referrals", referral, REFERRER)
        if created is None:
            return
        episode = created["episode_id"]
        for step in STEPS[1:]:
            if time.monotonic() >= self.deadline:
                return
            body = bodies(n, self.clock.now().date())[step]
            if await self.send(client, step, f"/v1/episodes/{episode}/{step}", body, PRACTICE) is None:
                return
        self.stats.episodes_completed += 1

    async def send(self, client: httpx.AsyncClient, step: str, path: str, body: dict, headers: dict) -> dict | None:
        """POST until accepted (its answer) or the load ends (None); a 4xx is final (None)."""
        headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        delay = 0.2
        refused = False
        while True:
            if time.monotonic() >= self.deadline and refused:
                self.stats.given_up += 1
                return None
            wait = delay
            sent_at = time.monotonic()
            try:
                response = await client.post(next(self.urls) + path, json=body, headers=headers)
            except httpx.TimeoutException:
                self.stats.refused["timeout"] += 1
            except httpx.TransportError:
                self.stats.refused["connection"] += 1
            else:
                if response.status_code < 300:
                    answer = response.json()
                    self.stats.accepted.append(Accepted(step, str(answer["episode_id"]), int(answer["version"])))
                    self.stats.accepted_at.append(time.monotonic() - self.started)
                    self.stats.answered.append((sent_at - self.started, time.monotonic() - sent_at))
                    self.stats.retried_requests += refused
                    return answer
                if response.status_code < 500 and response.status_code != 429:
                    self.stats.rejected.append(f"{step} {response.status_code} {response.text[:200]}")
                    return None
                self.stats.refused[str(response.status_code)] += 1
                wait = _retry_after(response) or delay
            refused = True
            await asyncio.sleep(min(wait, 5.0))
            delay = min(delay * 2, 2.0)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
