"""The campaign's one table (a row per scenario run), printed with rich and written as JSON and Markdown."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deploy.faults.campaign import ScenarioResult
from deploy.faults.cpu import describe as describe_cpu

COLUMNS = (
    "scenario",
    "requests",
    "events per type",
    "consumed once/missing/dup",
    "deliveries once/missing/dup (re-sent: same webhook-id and sequence)",
    "seq gaps",
    "episode order",
    "timers",
    "dup effects",
    "recovery",
    "drain",
    "person acted",
    "verdict",
)


def abbreviation(event_type: str) -> str:
    """ReferralReceived → RR, TreatmentPlanAgreed → TPA."""
    return "".join(re.findall(r"[A-Z]", event_type)) or event_type


def cells(result: ScenarioResult) -> list[str]:
    load = result.load
    requests = [f"{load.get('accepted', 0)} accepted", f"{load.get('refused_total', 0)} refused attempts"]
    if latency := load.get("latency"):
        requests.append(
            f"latency p50 {latency['p50'] * 1000:.0f} ms, p99 {latency['p99'] * 1000:.0f} ms,"
            f" max {latency['max'] * 1000:.0f} ms; worst 5 s: p50 {latency['worst_window_p50'] * 1000:.0f} ms"
            f" at {latency['worst_window_at']:.0f} s"
        )
    if result.cpu:
        requests.append(f"CPU then: {describe_cpu(result.cpu)}")
    if load.get("given_up"):
        requests.append(f"{load['given_up']} given up at the end")
    if load.get("rejected_total"):
        requests.append(f"{load['rejected_total']} rejected (4xx)")
    if result.lost:
        requests.append(f"{len(result.lost)} LOST")
    events = []
    for store, per_type in result.events.items():
        total = sum(per_type.values())
        events.append(f"{store} {total}: " + " ".join(f"{abbreviation(t)} {n}" for t, n in per_type.items()))
    consumed = [
        f"{name} {c['once']}/{c['missing']}/{c['duplicated']}"
        + (f" ({c['dead_lettered']} dead)" if c["dead_lettered"] else "")
        for name, c in result.consumption.items()
    ]
    deliveries, gaps, episode_order = [], [], []
    for endpoint, d in result.deliveries.items():
        deliveries.append(f"{endpoint} {d['once']}/{d['missing']}/{d['duplicated']}")
        extra = [f"{d['resent']} re-sent", f"{d['retried']} refused"]
        if d.get("unexpected"):
            extra.append(f"{d['unexpected']} unexpected")
        if d.get("attempt_log_full"):
            extra.append("attempt log full!")
        deliveries.append("  " + ", ".join(extra))
        gaps.append(
            f"{endpoint} {len(d['gaps'])}" + (f", {d['out_of_order']} out of order" if d["out_of_order"] else "")
        )
    for endpoint, order in result.order.items():
        broken = order["violations"]
        episode_order.append(f"{endpoint} " + ("holds" if broken == 0 else f"{broken} episodes broken"))
    t = result.timers
    timers = f"{t['fired']} fired\n{t['fired_twice']} twice\n{t['due_not_fired']} stuck" if t else ""
    recovery = [
        f"flowing {_seconds(result.flowing_after)}",
        f"caught up {_seconds(result.caught_up_after)}",
    ]
    if result.orchestrator_restarts:
        recovery.append(f"{result.orchestrator_restarts} orchestrator restart(s)")
    drain = result.drain or "-"
    if result.drain == "drained":
        drain = f"drained in {_seconds(result.drain_seconds)}"
    elif result.stall:
        drain = f"{result.drain}\n({result.stall})"
    verdict = "OK" if result.ok else "FAIL\n" + "\n".join(result.problems[:3])
    name = result.scenario + (f" #{result.run}" if result.run > 1 else "")
    name += f"\n{result.seconds:.0f} s at {result.rate:g}/s"
    if result.workers > 1:
        name += f"\n{result.workers} workers"
    return [
        name,
        "\n".join(requests),
        "\n".join(events),
        "\n".join(consumed),
        "\n".join(deliveries),
        "\n".join(gaps),
        "\n".join(episode_order),
        timers,
        str(len(result.duplicates)) if result.load else "",
        "\n".join(recovery),
        drain,
        result.person_acted or "no",
        verdict,
    ]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def legend(results: Sequence[ScenarioResult]) -> str:
    types = sorted({t for r in results for per_type in r.events.values() for t in per_type})
    return ", ".join(f"{abbreviation(t)} {t}" for t in types)


def table(results: Sequence[ScenarioResult], title: str) -> Table:
    grid = Table(title=title, show_lines=True, caption=legend(results))
    for column in COLUMNS:
        grid.add_column(column, overflow="fold")
    for result in results:
        style = None if result.ok else "red"
        grid.add_row(*cells(result), style=style)
    return grid


def markdown(results: Sequence[ScenarioResult], title: str) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for result in results:
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", "<br>") for c in cells(result)) + " |")
    lines += ["", f"Types: {legend(results)}.", ""]
    for result in results:
        if result.problems:
            lines.append(f"- **{result.scenario}** (run {result.run}): " + "; ".join(result.problems))
    return "\n".join(lines) + "\n"


def write(results: Sequence[ScenarioResult], out: Path, title: str, console: Console) -> None:
    # Piped or captured, a console is 80 columns wide, which folds every cell into a column of letters.
    wide = console if console.is_terminal else Console(width=240)
    wide.print(table(results, title))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps([r.to_json() for r in results], indent=2, default=str))
    (out / "results.md").write_text(markdown(results, title))
    console.print(f"table written to {out / 'results.md'} and {out / 'results.json'}; logs per scenario in {out}")
