"""The dashboard's figures against figures computed independently from the raw events of a generated cohort
(intake's and pathway's own event logs, read with SQL and counted here in plain Python): every published
count a multiple of 5 next to the true one, for the network and for a practice; the visitation report;
and replaying the read model gives the same figures."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from deploy.local import dev_headers
from services.reporting.rebuild import rebuild_network as rebuild
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


def adjacent(shown: int, raw: int, what: str) -> None:
    """A published count is a multiple of 5 next to the true count (the true count itself when it is one)."""
    assert shown % 5 == 0, f"{what}: {shown} is not rounded to fives"
    assert (shown == raw) if raw % 5 == 0 else abs(shown - raw) < 5, f"{what}: shown {shown}, counted {raw}"


def compare_row(row: dict, c: dict) -> int:
    """Every count of a published practice-month against the independent count; the figures computed
    from the published counts. Returns how many counts were compared."""
    what = f"{row['practice_agb']} {row['month']}"
    counts = row["counts"]
    compared = 0
    for name in ("episodes", "escalated", "treated", "on_time", "overdue"):
        adjacent(counts[name], c[name], f"{what} {name}")
        compared += 1
    adjacent(counts["evaluations_due"], c["due"], what + " evaluations due")
    for name, value in counts.items():
        if name.startswith(("duration:", "course:", "reason:")):
            adjacent(value, c[name], f"{what} {name}")
            compared += 1
    assert sum(counts[k] for k in counts if k.startswith("duration:")) == counts["episodes"]
    assert sum(counts[k] for k in counts if k.startswith("course:")) == counts["episodes"]
    assert counts["on_time"] + counts["overdue"] + counts["pending"] == counts["evaluations_due"]
    for name in MCIC:
        adjacent(counts[f"paired:{name}"], c["paired"][name], f"{what} {name} paired")
        adjacent(counts[f"mcic:{name}"], c["reached"][name], f"{what} {name} reached")
    share = row["figures"]["escalated"]
    assert share["denominator"] == counts["episodes"]
    if counts["episodes"] >= 10:
        assert share["value"] == round(counts["escalated"] * 100 / counts["episodes"], 1)
    else:
        assert share["value"] is None and share["suppressed"]
    return compared


async def test_the_dashboard_figures_equal_figures_counted_from_the_raw_events(cohort: Cohort):
    episodes = await raw_episodes(cohort.database_url)
    assert len(episodes) == len(cohort.patients)
    assert any(e.overdue for e in episodes.values()), "the cohort should have overdue evaluations"
    cells = expected_cells(episodes)
    assert len({month for _, month in cells}) == 2

    async with httpx.AsyncClient(base_url=cohort.system.url("reporting"), timeout=30) as client:
        report = (await client.get("/v1/network/quality", headers=NETWORK)).json()
        assert report["scope"] == "network" and report["method"]["base"] == 5
        published = {(r["practice_agb"], r["month"]) for r in report["rows"]}
        assert published <= set(cells)
        for key in set(cells) - published:  # left out only when it rounded to 0: 1 to 4 episodes
            assert 1 <= cells[key]["episodes"] <= 4, key
        compared = sum(compare_row(row, cells[(row["practice_agb"], row["month"])]) for row in report["rows"])
        assert compared >= 60
        assert all(r["practice_agb"] != SMALL_PRACTICE or r["counts"]["episodes"] == 5 for r in report["rows"])
        # the network is the sum of the published rows, never a count of its own
        for name, value in report["network"]["counts"].items():
            assert value == sum(r["counts"][name] for r in report["rows"]), name

        # a practice sees exactly its own rows, the same figures, and the same network; another's are refused
        own = (await client.get("/v1/network/quality", headers=dev_headers("practice", PRACTICE_A))).json()
        assert own["rows"] == [r for r in report["rows"] if r["practice_agb"] == PRACTICE_A]
        assert own["network"] == report["network"]
        assert {p["practice_agb"] for f in own["funnels"].values() for p in f["points"]} <= {PRACTICE_A, None}
        refused = await client.get(
            f"/v1/network/quality?practice={PRACTICE_B}", headers=dev_headers("practice", PRACTICE_A)
        )
        assert refused.status_code == 403

        # the period filter selects whole months of referral
        first_month = min(month for _, month in cells)
        only_first = (await client.get(f"/v1/network/quality?to={first_month}", headers=NETWORK)).json()
        assert only_first["rows"] == [r for r in report["rows"] if r["month"] == first_month]
        backwards = await client.get("/v1/network/quality?from=2026-05&to=2026-04", headers=NETWORK)
        assert backwards.status_code == 422 and "to" in backwards.text

        # the visitation report: the network and the practice itself, as data and as PDF
        year = int(first_month[:4])
        data = await client.get(f"/v1/network/practices/{PRACTICE_A}/visitation.json?year={year}", headers=NETWORK)
        assert data.status_code == 200 and data.json()["practice"]["counts"]["episodes"] > 0
        pdf = await client.get(
            f"/v1/network/practices/{PRACTICE_A}/visitation?year={year}", headers=dev_headers("practice", PRACTICE_A)
        )
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        other = await client.get(
            f"/v1/network/practices/{PRACTICE_B}/visitation?year={year}", headers=dev_headers("practice", PRACTICE_A)
        )
        assert other.status_code == 403
        for bad in (f"/v1/network/practices/{PRACTICE_A}/visitation?year=1999", "/v1/network/practices/x/visitation"):
            answer = await client.get(bad, headers=NETWORK)
            assert answer.status_code == 422, bad

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
