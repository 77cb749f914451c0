"""The dashboard's figures equal figures computed independently from the raw events of a generated cohort
(intake's and pathway's own event logs, read with SQL and counted here in plain Python), for the network and
for a practice; and replaying the read model gives the same figures."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from deploy.local import dev_headers
from services.reporting.network.replay import rebuild
from shared.db import create_pool
from tests.e2e.reporting_network.conftest import PRACTICE_A, PRACTICE_B, SMALL_PRACTICE, Cohort

pytestmark = pytest.mark.e2e

PREFIX = "nl.ruggengraat."
NETWORK = dev_headers("network", "regio-test", user="coordinator")


@dataclass
class Episode:
    practice: str = ""
    month: str = ""
    course: tuple[int, str | None, str] | None = None
    reasons: set[str] = field(default_factory=set)
    due: set[int] = field(default_factory=set)
    completed: set[int] = field(default_factory=set)
    overdue: set[int] = field(default_factory=set)
    sessions: int = 0
    baseline: dict[str, tuple[int, int]] = field(default_factory=dict)  # instrument: (version, score)
    follow_up: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # (number, version, score)


async def raw_episodes(database_url: str) -> dict[str, Episode]:
    """Every episode, straight from the two event logs."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT stream_id, stream_version, event_type, data::text AS data FROM intake.events"
            " UNION ALL SELECT stream_id, stream_version, event_type, data::text FROM pathway.events"
        )
    finally:
        await conn.close()
    episodes: dict[str, Episode] = defaultdict(Episode)
    for row in rows:
        e, version, kind, data = episodes[row["stream_id"]], row["stream_version"], row["event_type"], None
        data = json.loads(row["data"])
        kind = kind.removeprefix(PREFIX)
        if kind == "intake.ReferralReceived":
            e.practice, e.month = data["practice_agb"], data["referred_on"][:7]
        elif kind == "intake.SessionRecorded":
            e.sessions += 1
        elif kind == "intake.MeasurementRecorded":
            m = data["measurement"]
            scores = {}
            if m.get("qbpds"):
                assert None not in m["qbpds"]["items"]  # the cohort answers every item
                scores["qbpds"] = sum(m["qbpds"]["items"])
            if m.get("nprs") is not None:
                scores["nprs"] = m["nprs"]
            assert not m.get("psk")  # the cohort does not use the PSK
            for name, score in scores.items():
                if data["occasion"] == "intake":
                    if name not in e.baseline or version > e.baseline[name][0]:
                        e.baseline[name] = (version, score)
                else:
                    key = (data["evaluation_number"], version, score)
                    if name not in e.follow_up or key[:2] > e.follow_up[name][:2]:
                        e.follow_up[name] = key
        elif kind == "pathway.BeloopClassified":
            if e.course is None or version > e.course[0]:
                e.course = (version, data["beloop"], data["duration_class"])
        elif kind == "pathway.EscalatedToReferrer":
            e.reasons.add(data["reason"])
        elif kind == "pathway.EvaluationDue":
            e.due.add(data["evaluation_number"])
        elif kind == "pathway.EvaluationCompleted":
            e.completed.add(data["evaluation_number"])
        elif kind == "pathway.EvaluationOverdue":
            e.overdue.add(data["evaluation_number"])
    return {k: v for k, v in episodes.items() if v.practice}


MCIC = {"qbpds": 20, "nprs": 2}


def expected_cells(episodes: dict[str, Episode]) -> dict[tuple[str, str], dict]:
    cells: dict[tuple[str, str], dict] = {}
    for e in episodes.values():
        c = cells.setdefault(
            (e.practice, e.month),
            defaultdict(int, improvement=defaultdict(int), paired=defaultdict(int), reached=defaultdict(int)),
        )
        c["episodes"] += 1
        c["duration:" + (e.course[2] if e.course else "unknown")] += 1
        c["course:" + ((e.course[1] or "not_classifiable") if e.course else "unknown")] += 1
        c["escalated"] += bool(e.reasons)
        for reason in e.reasons:
            c["reason:" + reason] += 1
        c["due"] += len(e.due | e.completed | e.overdue)
        c["on_time"] += len(e.completed - e.overdue)
        c["overdue"] += len(e.overdue)
        c["treated"] += e.sessions > 0
        c["sessions"] += e.sessions
        for name, points in MCIC.items():
            if name in e.baseline and name in e.follow_up:
                before, after = e.baseline[name][1], e.follow_up[name][2]
                gain = before - after
                c["paired"][name] += 1
                c["improvement"][name] += gain
                c["reached"][name] += gain > 0 and (gain >= points or (before > 0 and gain / before >= 0.3))
    return cells


class Compare:
    """Every published figure against the independent count: exact numbers equal, "<5" only for 1-4,
    ">=5" only for 5 or more, a missing share or mean only where something it needs is not shown."""

    def __init__(self) -> None:
        self.exact = 0
        self.small = 0

    def count(self, shown, raw: int, what: str) -> None:
        if shown == "<5":
            assert 1 <= raw <= 4, what
            self.small += 1
        elif shown == ">=5":
            assert raw >= 5, what
        else:
            assert shown == raw, f"{what}: shown {shown}, counted {raw}"
            self.exact += 1

    def share(self, shown, count_shown, of_shown, count: int, of: int, what: str) -> None:
        if isinstance(count_shown, int) and isinstance(of_shown, int) and of > 0:
            assert shown is not None and abs(shown - count * 100 / of) <= 0.05 + 1e-9, what
            self.exact += 1
        else:
            assert shown is None, what

    def mean(self, shown, total: int, n: int, what: str) -> None:
        if n >= 5:
            assert shown is not None and abs(shown - total / n) <= 0.05 + 1e-9, f"{what}: {shown} vs {total / n}"
            self.exact += 1
        else:
            assert shown is None, what


def compare_row(check: Compare, row: dict, c: dict) -> None:
    what = f"{row['practice_agb']} {row['month']}"
    check.count(row["episodes"], c["episodes"], what + " episodes")
    if row["suppressed"]:
        assert c["episodes"] < 5 and row["duration_class"] is None and row["outcomes"] is None
        return
    for name, shown in row["duration_class"].items():
        check.count(shown, c["duration:" + name], f"{what} duration {name}")
    for name, shown in row["course"].items():
        check.count(shown, c["course:" + name], f"{what} course {name}")
    check.count(row["escalated"], c["escalated"], what + " escalated")
    check.share(row["escalated_share"], row["escalated"], row["episodes"], c["escalated"], c["episodes"], what)
    for reason, shown in row["escalation_reasons"].items():
        check.count(shown, c["reason:" + reason], f"{what} reason {reason}")
    ev = row["evaluations"]
    for name in ("due", "on_time", "overdue"):
        check.count(ev[name], c[name], f"{what} evaluations {name}")
    check.share(ev["on_time_share"], ev["on_time"], ev["due"], c["on_time"], c["due"], what + " on time %")
    check.share(ev["overdue_share"], ev["overdue"], ev["due"], c["overdue"], c["due"], what + " overdue %")
    check.count(row["sessions"]["episodes_with_sessions"], c["treated"], what + " treated")
    check.mean(row["sessions"]["mean_per_episode"], c["sessions"], c["treated"], what + " sessions")
    for name in MCIC:
        o = row["outcomes"][name]
        paired, reached = c["paired"][name], c["reached"][name]
        check.count(o["paired"], paired, f"{what} {name} paired")
        check.count(o["mcic_reached"], reached, f"{what} {name} reached")
        check.mean(o["mean_change"], c["improvement"][name], paired, f"{what} {name} change")
        check.share(o["mcic_share"], o["mcic_reached"], o["paired"], reached, paired, f"{what} {name} mcic %")
    assert row["outcomes"]["psk"]["paired"] == 0


async def test_the_dashboard_figures_equal_figures_counted_from_the_raw_events(cohort: Cohort):
    episodes = await raw_episodes(cohort.database_url)
    assert len(episodes) == len(cohort.patients)
    assert any(e.overdue for e in episodes.values()), "the cohort should have overdue evaluations"
    cells = expected_cells(episodes)
    assert len({month for _, month in cells}) == 2

    async with httpx.AsyncClient(base_url=cohort.system.url("reporting"), timeout=30) as client:
        report = (await client.get("/v1/network/quality", headers=NETWORK)).json()
        assert report["scope"] == "network"
        assert {(r["practice_agb"], r["month"]) for r in report["rows"]} == set(cells)
        check = Compare()
        for row in report["rows"]:
            compare_row(check, row, cells[(row["practice_agb"], row["month"])])
        assert check.exact >= 60 and check.small >= 1, (check.exact, check.small)
        small = [r for r in report["rows"] if r["practice_agb"] == SMALL_PRACTICE]
        assert small and all(r["suppressed"] and r["episodes"] == "<5" for r in small)

        # a practice sees exactly its own rows, the same figures; another practice's are refused
        own = (await client.get("/v1/network/quality", headers=dev_headers("practice", PRACTICE_A))).json()
        assert own["rows"] == [r for r in report["rows"] if r["practice_agb"] == PRACTICE_A]
        refused = await client.get(
            f"/v1/network/quality?practice={PRACTICE_B}", headers=dev_headers("practice", PRACTICE_A)
        )
        assert refused.status_code == 403

        # the period filter selects whole months of referral
        first_month = min(month for _, month in cells)
        only_first = (await client.get(f"/v1/network/quality?to={first_month}", headers=NETWORK)).json()
        assert only_first["rows"] == [r for r in report["rows"] if r["month"] == first_month]

        # the read model is disposable: rebuilt by replay from reporting's copy, the figures are the same
        pool = await create_pool(cohort.database_url, "reporting", min_size=1, max_size=2)
        try:
            progress: list[tuple[int, int]] = []
            applied = await rebuild(pool, lambda done, total: progress.append((done, total)))
        finally:
            await pool.close()
        assert applied > 0 and progress[-1] == (applied, applied)
        again = (await client.get("/v1/network/quality", headers=NETWORK)).json()
        assert again == report
