"""What-if benchmark: a year of a large network's episodes (default 100,000, over 40 practices) as the pathway
keeps them (its copies of intake's events, the episodes' parties and the decisions it recorded, written with
COPY), and a draft protocol (evaluations every four weeks) tried on them by `services.pathway.handlers.what_if`:
every episode's facts and recorded decisions read, the episode re-decided under the draft and compared. Prints
episodes/s.

    .venv/bin/python -m bench.what_if [--episodes 100000] [--seed 5] [--runs 3]

Uses DATABASE_URL when set (in a schema of its own, dropped afterwards), otherwise embedded Postgres.
Prints figures; never part of the tests' pass/fail. The what-if runs `--runs` times on the same history and the median
counts: on a shared machine one run varies by a tenth. Goal on our 2-core machines: 100,000 episodes in under a
minute (1,700 episodes/s).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime

from bench.database import run_on_database, service_schema
from deploy.intake_history import episode_events
from services.pathway.domain.episode_decisions import IntakeFact, RulesCache
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL, Protocol, ProtocolValues
from services.pathway.domain.what_if import EpisodeHistory, replay
from services.pathway.handlers import what_if
from services.pathway.store import PathwayStore
from shared.auth import Caller, Role
from shared.clock import ManualClock
from shared.db import DatabaseAddress
from shared.events import REGISTRY
from shared.store.event_store import EventStore

YEAR = date(2026, 1, 1)
PRACTICES = [f"04{n:06d}" for n in range(1, 41)]
DRAFT = Protocol(version="vier-weken", values=ProtocolValues(evaluation_interval_days=28))
NOW = datetime(2027, 4, 1, 9, 0, tzinfo=UTC)
RULES = RulesCache()
CORRELATION = uuid.UUID(int=0)


def spec(rng: random.Random) -> dict:
    """One episode: referred some day of the year, with a course, up to three evaluations, maybe closed."""
    evaluations = [(21 * k + rng.randint(-3, 10), rng.randint(0, 5)) for k in range(1, rng.randint(1, 4))]
    return {
        "referred": rng.randint(0, 364),
        "minute": rng.randint(0, 480),
        "onset_days": rng.randint(1, 200),
        "deviating": rng.random() < 0.5,
        "radicular": rng.random() < 0.04,
        "start_after": rng.randint(1, 10),
        "evaluations": evaluations,
        "baseline": rng.randint(2, 5),
        "closed_after": rng.choice([None, 3, 10, 20]),
    }


def rows(first: int, episodes: int, seed: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Episodes `first` … `first + episodes - 1` as the pathway keeps them: its copies of intake's events, the
    parties, and the decisions it recorded (the replay under the guideline as written, which the zero-difference
    property shows to be what the consumer records)."""
    rng = random.Random(f"{seed}-{first}")
    facts, parties, recorded = [], [], []
    for n in range(first, first + episodes):
        episode = str(uuid.UUID(int=rng.getrandbits(128)))
        practice = PRACTICES[n % len(PRACTICES)]
        parties.append((episode, practice, "01234567"))
        intake_facts = []
        for version, (moment, payload) in enumerate(episode_events(spec(rng), n, YEAR), start=1):
            intake_facts.append(IntakeFact(version, moment, payload))
            facts.append(
                (
                    episode,
                    version,
                    uuid.uuid4(),
                    payload.event_type,
                    payload.event_version,
                    moment,
                    payload.model_dump_json(),
                )
            )
        history = EpisodeHistory(episode, practice, "01234567", intake_facts)
        decided = replay(history, lambda _: GUIDELINE_PROTOCOL, NOW, RULES)
        for version, d in enumerate(decided, start=1):
            recorded.append(
                (
                    episode,
                    version,
                    uuid.uuid4(),
                    d.payload.event_type,
                    d.payload.event_version,
                    d.at,
                    CORRELATION,
                    GUIDELINE_PROTOCOL.guideline_version,
                    d.payload.model_dump_json(),
                )
            )
    return facts, parties, recorded


def generate(episodes: int, seed: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Every episode's rows, generated on every core."""
    step = 2_000
    facts: list[tuple] = []
    parties: list[tuple] = []
    recorded: list[tuple] = []
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        firsts = range(0, episodes, step)
        sizes = [min(step, episodes - first) for first in firsts]
        for chunk in pool.map(rows, firsts, sizes, [seed] * len(sizes)):
            facts += chunk[0]
            parties += chunk[1]
            recorded += chunk[2]
    return facts, parties, recorded


async def run(database_url: str, episodes: int, seed: int, runs: int) -> None:
    started = time.perf_counter()
    facts, parties, recorded = generate(episodes, seed)
    print(
        f"generated {episodes:,} episodes ({len(facts):,} intake events, {len(recorded):,} decisions recorded)"
        f" in {time.perf_counter() - started:.1f} s"
    )
    async with service_schema(database_url, "pathway") as pool:
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(
                "intake_events",
                records=facts,
                columns=[
                    "episode_id",
                    "stream_version",
                    "event_id",
                    "event_type",
                    "data_version",
                    "occurred_at",
                    "data",
                ],
            )
            await conn.copy_records_to_table(
                "episode_parties", records=parties, columns=["episode_id", "practice_agb", "referrer_agb"]
            )
            await conn.copy_records_to_table(
                "events",
                records=recorded,
                columns=[
                    "stream_id",
                    "stream_version",
                    "event_id",
                    "event_type",
                    "data_version",
                    "occurred_at",
                    "correlation_id",
                    "guideline_version",
                    "data",
                ],
            )
            await conn.execute("ANALYZE")
            address = DatabaseAddress(database_url, await conn.fetchval("SELECT current_schema()"))
        store = PathwayStore(pool, EventStore("pathway", REGISTRY))
        clock = ManualClock(NOW)
        rates: list[float] = []
        for run_number in range(1, runs + 1):
            progress: list[tuple[int, int]] = []
            started = time.perf_counter()
            result = await what_if(
                store,
                address,
                Caller(user="bench", role=Role.NETWORK, org="regio"),
                DRAFT,
                datetime.combine(YEAR, datetime.min.time(), tzinfo=UTC),
                datetime.combine(YEAR.replace(year=YEAR.year + 1), datetime.min.time(), tzinfo=UTC),
                clock,
                lambda done, total, seen=progress: seen.append((done, total)),
            )
            seconds = time.perf_counter() - started
            rates.append(result.episodes / seconds)
            changed = sum(c.episodes_changed for c in result.counts.values())
            print(f"  run {run_number}: what-if over a year: {rates[-1]:>8,.0f} episodes/s")
            print(f"    ({result.episodes:,} episodes re-decided and compared in {seconds:.1f} s;", end=" ")
            print(f"{changed:,} would change;")
            print(f"     progress reported {len(progress)} times)")
        rate = statistics.median(rates)
        print(f"  median of {runs} runs: {rate:,.0f} episodes/s")
        print(f"  at this rate 100,000 episodes take {100_000 / rate:,.0f} s (goal: < 60 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="what-ifs on the same history; the median is the figure")
    args = parser.parse_args()
    run_on_database(lambda url: run(url, args.episodes, args.seed, args.runs))


if __name__ == "__main__":
    main()
