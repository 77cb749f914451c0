"""Episode-flow benchmark, all four services running as processes on embedded Postgres and tansu:
episodes per second through intake (referral, history, assessment) → pathway (BeloopClassified,
EvaluationScheduled), and the latency from AssessmentCompleted appended to BeloopClassified appended.

    .venv/bin/python -m bench.episode_flow [--seconds 60] [--clients 16]

Prints figures; never part of the tests' pass/fail. Target on 2 cores: ≥ 200 episodes/s for a minute,
p99 < 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from deploy.cohort import bsn
from deploy.local import LocalSystem, dev_headers, embedded_infrastructure

CARE = {"weight_or_nutrition_concern": False, "pain_medication_questions": False, "work_problems": False}
COURSE = {
    "complaints": "same",
    "rest_moments_per_day": "increasing",
    "analgesic_use": "continuing",
    "activities_or_participation_resumed": False,
    "asks_for_specialist_care": False,
    "activities_participation_increased": False,
}
SCOPE = {
    "general_illness_signs": [],
    "radicular_signs_suspected": False,
    "neurological_exam": None,
    "specific_cause_suspected": False,
}


async def one_episode(client: httpx.AsyncClient, n: int, today: str, rng) -> None:
    referral = {
        "referral_id": f"BENCH-{uuid.uuid4().hex}",
        "route": "gp_referral",
        "practice_agb": "04123456",
        "referrer_agb": "01234567",
        "referred_on": today,
        "patient": {"name": f"Bench {n}", "bsn": bsn(rng), "birth_date": "1970-01-01"},
        "request_for_help": "x",
        "reason": "y",
    }
    created = await client.post("/v1/referrals", json=referral, headers=REFERRER)
    episode = created.raise_for_status().json()["episode_id"]
    history = {"taken_on": today, "onset_date": "2026-06-01", "course": COURSE, "care_context": CARE}
    (await client.post(f"/v1/episodes/{episode}/history", json=history, headers=PRACTICE)).raise_for_status()
    assessment = {"assessed_on": today, "scope": SCOPE}
    (await client.post(f"/v1/episodes/{episode}/assessment", json=assessment, headers=PRACTICE)).raise_for_status()


REFERRER = dev_headers("referrer", "01234567")
PRACTICE = dev_headers("practice", "04123456")


async def drive(intake_url: str, seconds: float, clients: int) -> tuple[int, float]:
    import random

    rng = random.Random(1)
    today = time.strftime("%Y-%m-%d")
    stop = time.monotonic() + seconds
    counter = 0

    async def worker() -> None:
        nonlocal counter
        async with httpx.AsyncClient(base_url=intake_url, timeout=60) as client:
            while time.monotonic() < stop:
                counter += 1
                await one_episode(client, counter, today, rng)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return counter, time.monotonic() - started


async def measure(database_url: str, episodes: int, timeout: float = 300) -> tuple[float, list[float], float]:
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = await conn.fetchval(
                "SELECT count(DISTINCT stream_id) FROM pathway.events WHERE event_type LIKE '%BeloopClassified'"
            )
            if done >= episodes:
                break
            await asyncio.sleep(0.5)
        rows = await conn.fetch(
            """
            SELECT extract(epoch FROM b.at - a.at) * 1000 AS ms, a.at AS assessed, b.at AS classified
            FROM (SELECT stream_id, min(occurred_at) AS at FROM intake.events
                  WHERE event_type LIKE '%AssessmentCompleted' GROUP BY stream_id) a
            JOIN (SELECT stream_id, min(occurred_at) AS at FROM pathway.events
                  WHERE event_type LIKE '%BeloopClassified' GROUP BY stream_id) b USING (stream_id)
            """
        )
        first = await conn.fetchval("SELECT min(occurred_at) FROM intake.events")
        last = await conn.fetchval(
            "SELECT max(occurred_at) FROM pathway.events WHERE event_type LIKE '%EvaluationScheduled'"
            " OR event_type LIKE '%BeloopClassified'"
        )
        span = (last - first).total_seconds()
        return len(rows) / span, sorted(r["ms"] for r in rows), span
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="rg-bench-flow-"))
    with embedded_infrastructure(run_dir) as (database_url, broker):
        system = LocalSystem(database_url, broker.bootstrap, run_dir, extra_env={"LOG_LEVEL": "WARNING"})
        try:
            system.start()
            episodes, driven = asyncio.run(drive(system.url("intake"), args.seconds, args.clients))
            rate, latencies, span = asyncio.run(measure(database_url, episodes))
        finally:
            system.stop()
    print(f"Episode flow, {args.clients} clients for {args.seconds:.0f} s, four services as processes, 2 cores")
    accepted = episodes / driven
    print(f"  intake accepted                      {accepted:8.1f} episodes/s ({episodes} episodes, 3 commands each)")
    print(f"  end to end (to BeloopClassified)     {rate:8.1f} episodes/s over {span:.1f} s   (target ≥ 200)")
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"  AssessmentCompleted → BeloopClassified  p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   (target p99 < 250)")


if __name__ == "__main__":
    main()
