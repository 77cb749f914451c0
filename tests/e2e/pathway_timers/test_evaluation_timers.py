"""Durable evaluation timers across the four service processes, with a shared moved clock and a SIGKILL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.clock import OffsetFileClock
from shared.events.pathway import EvaluationDue, EvaluationOverdue, EvaluationScheduled
from shared.events.topics import PATHWAY_EVENTS
from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.integration.kafka_support import read_topic
from tests.support import PRACTICE_AGB, REFERRER_AGB, patient, practice, referrer

pytestmark = pytest.mark.e2e

SCHEDULED, DUE, OVERDUE = EvaluationScheduled.event_type, EvaluationDue.event_type, EvaluationOverdue.event_type
GRACE = timedelta(days=7)
POLL = "0.2"


def referral(seed: int) -> dict:
    return {
        "referral_id": f"HIS-2026-{uuid.uuid4().int % 10**6:06d}",
        "route": "gp_referral",
        "practice_agb": PRACTICE_AGB,
        "referrer_agb": REFERRER_AGB,
        "referred_on": "2026-11-20",
        "symptom_onset": "2026-11-02",
        "patient": patient(seed),
        "request_for_help": "Weer kunnen fietsen",
        "reason": "Aspecifieke lage rugpijn",
    }


async def refer(intake_url: str, seed: int) -> str:
    async with httpx.AsyncClient() as client:
        posted = await client.post(f"{intake_url}/v1/referrals", json=referral(seed), headers=referrer())
    assert posted.status_code == 201, posted.text
    return posted.json()["episode_id"]


async def pathway_events(conn: asyncpg.Connection, episode: str, event_type: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT stream_version, data::text FROM pathway.events WHERE stream_id = $1 AND event_type = $2",
        episode,
        event_type,
    )
    return [{"version": r["stream_version"], **json.loads(r["data"])} for r in rows]


async def planned_due_at(conn: asyncpg.Connection, episode: str) -> datetime:
    async def scheduled():
        return await pathway_events(conn, episode, SCHEDULED)

    [event] = await eventually(scheduled)
    return datetime.fromisoformat(event["due_at"])


def move_clock_past(clock_file: Path, moment: datetime, by: timedelta = timedelta(minutes=1)) -> None:
    """Set the shared offset so that every service's clock reads just after `moment`."""
    OffsetFileClock.write_offset(clock_file, moment + by - datetime.now(UTC))


async def exactly_once_each(conn: asyncpg.Connection, wanted: list[tuple[str, str]]) -> list[dict]:
    """Each (episode, event type) appears, and five scheduler polls later it is still the only one."""

    async def all_appeared():
        return all([await pathway_events(conn, episode, event_type) for episode, event_type in wanted])

    await eventually(all_appeared)
    await asyncio.sleep(5 * float(POLL))
    found = [await pathway_events(conn, episode, event_type) for episode, event_type in wanted]
    assert [len(events) for events in found] == [1] * len(wanted), found
    return [events[0] for events in found]


async def planned_evaluations(pathway_url: str, episode: str) -> list[dict]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{pathway_url}/v1/episodes/{episode}", headers=practice())
    assert response.status_code == 200, response.text
    return response.json()["evaluations"]


async def test_an_evaluation_falls_due_once_when_the_shared_clock_passes_it_and_is_overdue_a_week_later(
    fresh_database, infrastructure, tmp_path
):
    clock_file = tmp_path / "clock-offset"
    with running_system(
        fresh_database,
        infrastructure.bootstrap,
        tmp_path,
        CLOCK_OFFSET_FILE=str(clock_file),
        TIMER_POLL_INTERVAL_SECONDS=POLL,
    ) as system:
        episode = await refer(system.url("intake"), 11)
        conn = await asyncpg.connect(fresh_database)
        try:
            due_at = await planned_due_at(conn, episode)
            assert await pathway_events(conn, episode, DUE) == []

            move_clock_past(clock_file, due_at)
            [due] = await exactly_once_each(conn, [(episode, DUE)])
            assert due["evaluation_number"] == 1 and datetime.fromisoformat(due["due_at"]) == due_at
            assert datetime.fromisoformat(due["overdue_after"]) == due_at + GRACE
            [evaluation] = await planned_evaluations(system.url("pathway"), episode)
            assert (evaluation["fired"], evaluation["overdue"]) == (True, False)
            assert await pathway_events(conn, episode, OVERDUE) == []

            move_clock_past(clock_file, due_at + GRACE)
            [overdue] = await exactly_once_each(conn, [(episode, OVERDUE)])
            assert overdue["timer_id"] == due["timer_id"] and overdue["version"] == due["version"] + 1
            [evaluation] = await planned_evaluations(system.url("pathway"), episode)
            assert (evaluation["fired"], evaluation["overdue"]) == (True, True)
        finally:
            await conn.close()

        # The network sees it: both travelled on the pathway topic, keyed by the episode.
        prefix = system.extra_env["KAFKA_TOPIC_PREFIX"]
        records = await asyncio.to_thread(read_topic, infrastructure.bootstrap, prefix + PATHWAY_EVENTS, 3)
        mine = [json.loads(r.value)["type"] for r in records if r.key == episode.encode()]
        assert sorted(mine) == sorted([SCHEDULED, DUE, OVERDUE])
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"{system.url('pathway')}/metrics")).text
        assert 'ruggengraat_timers_fired_total{kind="evaluation_due"} 1.0' in metrics
        assert 'ruggengraat_timers_fired_total{kind="evaluation_overdue"} 1.0' in metrics


async def _pathway_waits_on_a_lock(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'ruggengraat-pathway' AND wait_event_type = 'Lock'"
        )
    )


async def test_a_pathway_killed_while_firing_and_restarted_later_fires_each_evaluation_exactly_once(
    fresh_database, infrastructure, tmp_path
):
    clock_file = tmp_path / "clock-offset"
    with running_system(
        fresh_database,
        infrastructure.bootstrap,
        tmp_path,
        CLOCK_OFFSET_FILE=str(clock_file),
        TIMER_POLL_INTERVAL_SECONDS=POLL,
    ) as system:
        conn = await asyncpg.connect(fresh_database)
        try:
            firing = await refer(system.url("intake"), 21)
            firing_due_at = await planned_due_at(conn, firing)
            # A day later another referral, so its evaluation falls due a day after the first one.
            OffsetFileClock.write_offset(clock_file, timedelta(days=1))
            down = await refer(system.url("intake"), 22)
            down_due_at = await planned_due_at(conn, down)
            assert down_due_at - firing_due_at > timedelta(hours=23)

            # SIGKILL inside the firing transaction: this test holds the stream's next version in an open
            # transaction, so the scheduler blocks after marking the timer fired and before its event is in.
            blocker = await asyncpg.connect(fresh_database)
            try:
                async with blocker.transaction():
                    await blocker.execute(
                        "INSERT INTO pathway.events (stream_id, stream_version, event_id, event_type, data_version,"
                        " occurred_at, correlation_id, data) VALUES ($1, 2, $2, 'blocker', 1, now(), $2, '{}')",
                        firing,
                        uuid.uuid4(),
                    )
                    move_clock_past(clock_file, firing_due_at)
                    await eventually(lambda: _pathway_waits_on_a_lock(conn), timeout=15, interval=0.05)
                    system.services["pathway"].kill()
                    raise _RollBack
            except _RollBack:
                pass
            finally:
                await blocker.close()

            async def killed_transaction_gone():
                fired_at = await conn.fetchval(
                    "SELECT fired_at FROM pathway.timers WHERE episode_id = $1 AND kind = 'evaluation_due'", firing
                )
                sessions = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ruggengraat-pathway'"
                )
                return fired_at is None and sessions == 0

            await eventually(killed_transaction_gone, timeout=15)
            assert await pathway_events(conn, firing, DUE) == []

            # While the pathway is down, the second evaluation falls due as well.
            move_clock_past(clock_file, down_due_at)
            system.restart("pathway")
            [firing_due, down_due] = await exactly_once_each(conn, [(firing, DUE), (down, DUE)])
        finally:
            await conn.close()
    assert firing_due["version"] == 2 and datetime.fromisoformat(firing_due["due_at"]) == firing_due_at
    assert datetime.fromisoformat(down_due["due_at"]) == down_due_at
    assert datetime.fromisoformat(down_due["fired_at"]) > down_due_at


class _RollBack(Exception):
    """Leaves the blocking transaction without committing it."""
