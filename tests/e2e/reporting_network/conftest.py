"""One system (intake, pathway, reporting as processes) shared by this folder's tests, and a generated cohort
driven through it once with a moved clock: two practices with patients referred in two different months,
some evaluations recorded late enough to become overdue, and a third practice too small to be shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from deploy.cohort import DemoPatient, generate, week_actions
from deploy.local import LocalSystem, dev_headers
from services.reporting.domain.network.facts import KEPT_TYPES
from shared.clock import OffsetFileClock
from tests.conftest import created_database, eventually
from tests.e2e.conftest import running_system

PRACTICE_A, PRACTICE_B, SMALL_PRACTICE = "04310001", "04310002", "04310003"
REFERRER = "01310001"
SECOND_START_WEEK = 5  # 35 days later: always another month of referral
LAST_RELATIVE_WEEK = 9  # week_actions closes every improving episode at its third evaluation (week 9)


@dataclass
class Cohort:
    system: LocalSystem
    database_url: str
    patients: list[DemoPatient]
    refused: list[str]


def start_week(patient: DemoPatient) -> int:
    if patient.referral["practice_agb"] == SMALL_PRACTICE:
        return 0
    return 0 if patient.index % 4 < 2 else SECOND_START_WEEK


def late(patient: DemoPatient) -> bool:
    """Records its second evaluation two weeks late: past the seven-day grace, so it becomes overdue."""
    return patient.index % 3 == 0


def actions(patient: DemoPatient, week: int, today) -> list[tuple[str, dict]]:
    relative = week - start_week(patient)
    if relative < 0 or relative > LAST_RELATIVE_WEEK:
        return []
    planned = week_actions(patient, relative, today)
    if late(patient) and relative == 6:
        return [a for a in planned if a[0] != "measurements"]
    if late(patient) and relative == 8:
        return planned + [a for a in week_actions(patient, 6, today) if a[0] == "measurements"]
    return planned


class Driver:
    def __init__(self, system: LocalSystem, clock_file: Path, database_url: str) -> None:
        self.intake = httpx.AsyncClient(base_url=system.url("intake"), timeout=30)
        self.database_url = database_url
        self.clock_file = clock_file
        self.offset = timedelta(0)
        self.refused: list[str] = []
        self.lanes = asyncio.Semaphore(8)

    def today(self):
        return (datetime.now(UTC) + self.offset).date()

    def advance(self, days: int) -> None:
        self.offset += timedelta(days=days)
        OffsetFileClock.write_offset(self.clock_file, self.offset)

    async def act(self, patient: DemoPatient, week: int) -> None:
        async with self.lanes:
            if week == start_week(patient):
                body = {**patient.referral, "referred_on": self.today().isoformat()}
                response = await self.intake.post("/v1/referrals", json=body, headers=dev_headers("referrer", REFERRER))
                assert response.status_code == 201, response.text
                patient.episode_id = response.json()["episode_id"]
            headers = dev_headers("practice", patient.referral["practice_agb"], user="fysio")
            for command, body in actions(patient, week, self.today()):
                response = await self.intake.post(
                    f"/v1/episodes/{patient.episode_id}/{command}", json=body, headers=headers
                )
                if response.status_code >= 400:
                    self.refused.append(f"{command}: {response.status_code} {response.text[:200]}")
                elif command == "closing":
                    patient.closed = True

    async def run(self, patients: list[DemoPatient]) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:

            async def pathway_caught_up() -> bool:
                return await conn.fetchval(
                    "SELECT (SELECT count(*) FROM intake.events) = (SELECT count(*) FROM pathway.intake_events)"
                )

            for week in range(SECOND_START_WEEK + LAST_RELATIVE_WEEK + 1):
                await asyncio.gather(*(self.act(p, week) for p in patients))
                # a practice week takes days, not milliseconds: let the pathway decide before time moves on
                await eventually(pathway_caught_up, timeout=60)
                self.advance(7)
                await asyncio.sleep(0.5)  # the timer scheduler (polling every 0.2 s) fires what fell due
        finally:
            await conn.close()


async def settled(database_url: str) -> None:
    """Wait until pathway has taken in every intake event and reporting holds a copy of every event it
    keeps, twice in a row one second apart (timers may still be firing)."""
    conn = await asyncpg.connect(database_url)
    try:

        async def counts():
            intake = await conn.fetchval("SELECT count(*) FROM intake.events")
            seen_by_pathway = await conn.fetchval("SELECT count(*) FROM pathway.intake_events")
            kept = await conn.fetchval(
                "SELECT (SELECT count(*) FROM intake.events WHERE event_type = ANY($1))"
                " + (SELECT count(*) FROM pathway.events WHERE event_type = ANY($1))",
                list(KEPT_TYPES),
            )
            copied = await conn.fetchval("SELECT count(*) FROM reporting.network_received_events")
            return (intake, kept) if intake == seen_by_pathway and kept == copied else None

        previous = None

        async def stable():
            nonlocal previous
            now = await counts()
            done = now is not None and now == previous
            previous = now
            if not done:
                await asyncio.sleep(1.0)
            return done

        await eventually(stable, timeout=60)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def module_database(infrastructure) -> AsyncIterator[str]:
    async with created_database(infrastructure.database_url, "rgnet") as url:
        yield url


@pytest.fixture(scope="module")
def system(module_database, infrastructure, tmp_path_factory) -> Iterator[tuple[LocalSystem, Path]]:
    run_dir = tmp_path_factory.mktemp("network-e2e")
    clock_file = run_dir / "clock-offset"
    OffsetFileClock.write_offset(clock_file, timedelta(0))
    with running_system(
        module_database,
        infrastructure.bootstrap,
        run_dir,
        ("intake", "pathway", "reporting"),
        CLOCK_OFFSET_FILE=str(clock_file),
        TIMER_POLL_INTERVAL_SECONDS="0.2",
    ) as started:
        yield started, clock_file


@pytest.fixture(scope="module")
async def cohort(system, module_database) -> AsyncIterator[Cohort]:
    started, clock_file = system
    patients = generate(8031, 48, [PRACTICE_A, PRACTICE_B], REFERRER)
    patients += [
        DemoPatient(p.index + 100, p.profile, p.referral, p.onset_days)
        for p in generate(8032, 3, [SMALL_PRACTICE], REFERRER)
    ]
    driver = Driver(started, clock_file, module_database)
    try:
        await driver.run(patients)
    finally:
        await driver.intake.aclose()
    await settled(module_database)
    yield Cohort(started, module_database, patients, driver.refused)
