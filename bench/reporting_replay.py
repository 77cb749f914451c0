"""Reporting replay benchmark: 100,000 realistic consumed events in the network's copy table, rebuilt into
the network read model by `services.reporting.rebuild.rebuild_network`; prints events/s.

    .venv/bin/python -m bench.reporting_replay [--events 100000] [--seed 8]

Uses DATABASE_URL when set (in a schema of its own, dropped afterwards), otherwise embedded Postgres.
Prints figures; never part of the tests' pass/fail. Target on our 2-core machines: >= 20,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from bench.database import run_on_database, service_schema
from services.reporting.domain.network.facts import minimise
from services.reporting.rebuild import rebuild_network as rebuild
from shared.events import clinical, intake, pathway
from shared.events.payload import EventPayload

PRACTICES = [f"04{n:06d}" for n in range(1, 13)]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
COPY_COLUMNS = ["event_id", "episode_id", "event_type", "stream_version", "occurred_at", "data"]


def _measurement(occasion: str, number: int | None, on: date, qbpds: int, nprs: int, psk: int):
    return intake.MeasurementRecorded(
        occasion=occasion,
        evaluation_number=number,
        measurement=clinical.Measurement(
            taken_on=on,
            qbpds=clinical.QbpdsAnswers(items=tuple([max(0, min(5, qbpds))] * 20)),
            nprs=max(0, min(10, nprs)),
            psk=clinical.PskAnswers(
                scale="0-10",
                activities=(
                    clinical.PskActivityScore(activity="fietsen", score=max(0, min(10, psk))),
                    clinical.PskActivityScore(activity="tillen", score=max(0, min(10, psk + 1))),
                ),
            ),
        ),
    )


def _reason(code: str) -> pathway.GuidelineReason:
    return pathway.GuidelineReason(code=code, reason_nl="-", reason_en="-", section="II.III")


def synthetic_episode(rng: random.Random, practice: str, referred_on: date) -> list[tuple[str, int, EventPayload]]:
    """One episode's events as reporting consumes them: (source, stream version, payload), in a plausible
    order. Courses, escalations, overdue evaluations and outcomes vary with `rng`."""
    intake_events: list[EventPayload] = [intake.sample_referral(practice, referred_on=referred_on)]
    pathway_events: list[EventPayload] = []
    duration = rng.choices(["acute", "subacute", "chronic"], [5, 3, 12])[0]
    deviating = duration != "acute" or rng.random() < 0.2
    pathway_events.append(
        pathway.BeloopClassified(
            beloop="afwijkend" if deviating else "normaal",
            classifiable_on=referred_on,
            duration_class=duration,
            recurrent=rng.random() < 0.1,
            indications=(),
            decided_on=referred_on,
            reason=_reason("course"),
        )
    )
    level = rng.randint(2, 4)
    nprs = rng.randint(4, 8)
    intake_events.append(_measurement("intake", None, referred_on, level, nprs, nprs))
    if rng.random() < 0.06:
        pathway_events.append(
            pathway.EscalatedToReferrer(
                reason=rng.choice(["radicular_signs", "general_illness_signs", "suspected_specific_cause"]),
                decision_code="scope",
                explanation_nl="-",
                explanation_en="-",
                guideline_section="I.II",
            )
        )
        return _numbered(intake_events, pathway_events)
    sessions = 1 if not deviating else rng.randint(3, 12)
    intake_events += [
        intake.SessionRecorded(session_on=referred_on + timedelta(days=7 * i), session_number=i + 1)
        for i in range(sessions)
    ]
    evaluations = 0 if not deviating else rng.randint(1, 3)
    improving = rng.random() < 0.7
    for number in range(1, evaluations + 1):
        on = referred_on + timedelta(days=21 * number)
        due_at = datetime.combine(on, NOW.timetz())
        timer = uuid.uuid4()
        pathway_events.append(pathway.EvaluationScheduled(timer_id=timer, evaluation_number=number, due_at=due_at))
        pathway_events.append(
            pathway.EvaluationDue(
                timer_id=timer,
                evaluation_number=number,
                due_at=due_at,
                fired_at=due_at,
                overdue_after=due_at + timedelta(days=7),
            )
        )
        if rng.random() < 0.15:
            pathway_events.append(
                pathway.EvaluationOverdue(
                    timer_id=timer, evaluation_number=number, due_at=due_at, overdue_since=due_at + timedelta(days=7)
                )
            )
        step = number if improving else 0
        intake_events.append(_measurement("evaluation", number, on, level - step, nprs - 2 * step, nprs - 2 * step))
        pathway_events.append(
            pathway.EvaluationCompleted(
                evaluation_number=number,
                activities_participation_increased=improving,
                treatment_days=21 * number,
                escalate_to_verwijzer=not improving,
                next_evaluation_due=on + timedelta(days=21),
                decided_on=on,
                reason=_reason("evaluation"),
            )
        )
        if not improving:
            pathway_events.append(
                pathway.EscalatedToReferrer(
                    reason="no_progress_after_three_weeks",
                    decision_code="evaluation",
                    explanation_nl="-",
                    explanation_en="-",
                    guideline_section="II.III",
                )
            )
            break
    return _numbered(intake_events, pathway_events)


def _numbered(intake_events: list[EventPayload], pathway_events: list[EventPayload]):
    numbered = [("intake", v, p) for v, p in enumerate(intake_events, start=1)]
    numbered += [("pathway", v, p) for v, p in enumerate(pathway_events, start=1)]
    return numbered


def cohort(seed: int, events: int) -> Iterator[tuple[uuid.UUID, str, int, EventPayload]]:
    """At least `events` events of synthetic episodes over a year: (episode id, source, version, payload)."""
    rng = random.Random(seed)
    produced = 0
    while produced < events:
        episode_id = uuid.UUID(int=rng.getrandbits(128))
        referred_on = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        for source, version, payload in synthetic_episode(rng, rng.choice(PRACTICES), referred_on):
            yield episode_id, source, version, payload
            produced += 1


def copy_records(seed: int, events: int) -> list[tuple]:
    """Rows of `network_received_events` as the handler writes them; the kept types only, first `events`."""
    from services.reporting.domain.network.facts import KEPT_FIELDS

    records = []
    for episode_id, _, version, payload in cohort(seed, events * 2):
        if type(payload) not in KEPT_FIELDS:
            continue
        data = json.dumps(minimise(payload), separators=(",", ":"))
        records.append((uuid.uuid4(), episode_id, payload.event_type, version, NOW, data))
        if len(records) == events:
            break
    return records


async def run(database_url: str, events: int, seed: int) -> None:
    started = time.perf_counter()
    records = copy_records(seed, events)
    print(f"generated {len(records):,} consumed events in {time.perf_counter() - started:.1f} s")
    async with service_schema(database_url, "reporting") as pool:
        async with pool.acquire() as conn:
            await conn.copy_records_to_table("network_received_events", records=records, columns=COPY_COLUMNS)
        seen: list[tuple[int, int]] = []
        started = time.perf_counter()
        applied = await rebuild(pool, lambda done, total: seen.append((done, total)))
        seconds = time.perf_counter() - started
        async with pool.acquire() as conn:
            episodes = await conn.fetchval("SELECT count(*) FROM network_episodes")
        print(f"  replay into the network read model: {applied / seconds:>10,.0f} events/s")
        print(f"  ({applied:,} events, {episodes:,} episodes in {seconds:.2f} s; progress reported {len(seen)} times)")
        print("  target on 2 cores: >= 20,000 events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    run_on_database(lambda url: run(url, args.events, args.seed))


if __name__ == "__main__":
    main()
