"""Command line for the network's protocol: try a draft on the network's history (`./ruggengraat protocol what-if`),
with a progress bar, against the installation's database, and print what it would change."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.pathway.domain.protocol import Protocol, check_guideline
from services.pathway.domain.what_if import FIGURES, figures_by_practice
from services.pathway.handlers import WhatIf, what_if
from services.pathway.settings import PathwaySettings
from services.pathway.store import PathwayStore
from shared.auth import Caller, Role
from shared.clock import SystemClock
from shared.db import create_pool
from shared.events import REGISTRY
from shared.store.event_store import EventStore

app = typer.Typer(help="The regional network's protocol.", no_args_is_help=True)
console = Console()

#: What each published figure is called on screen (Dutch, as the network reads it), short, with its legend.
HEADINGS = {
    "episodes": ("episodes", "episodes verwezen in de periode, opnieuw beslist"),
    "episodes_changed": ("anders", "waarvan het concept iets verandert"),
    "escalations_added": ("esc+", "escalaties naar de verwijzer erbij"),
    "escalations_removed": ("esc−", "escalaties die vervallen"),
    "episodes_with_evaluations_moved": ("eval→", "episodes met een verschoven evaluatie"),
    "plans_changed": ("plan", "episodes met een ander behandelplan"),
    "overdue_before": ("laat", "episodes met een evaluatie te laat, zoals beslist"),
    "overdue_after": ("laat*", "hetzelfde onder het concept"),
}


def read_draft(path: Path) -> Protocol:
    """The draft protocol in a JSON file; a clear error naming the field for one the rules refuse."""
    try:
        draft = Protocol.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise typer.BadParameter(f"cannot read {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"{path} is no JSON: {error}") from None
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise typer.BadParameter(problems) from None
    reason = check_guideline(draft)
    if reason is not None:
        raise typer.BadParameter(f"guideline_version: {reason}")
    return draft


def first_of_month(value: str) -> date:
    day = date.fromisoformat(value)
    if day.day != 1:
        raise typer.BadParameter("must be the first day of a month: the network's figures are per practice per month")
    return day


def what_if_command(
    database_url: Callable[[], str],
    run_against_database: Callable[[Callable[[], Coroutine[Any, Any, WhatIf]]], WhatIf],
) -> Callable[..., None]:
    """The `protocol what-if` command, given how the project's CLI finds and reaches the database."""

    def command(
        draft_file: Annotated[Path, typer.Argument(help="JSON: the draft protocol (version, values, …).")],
        period_from: Annotated[str, typer.Option("--from", help="First month, e.g. 2026-01-01.")],
        period_to: Annotated[str, typer.Option("--to", help="First day of the month after the last one.")],
        practice: Annotated[
            str | None, typer.Option(help="Only this practice (AGB), with its own episodes that would differ.")
        ] = None,
    ) -> None:
        """What a draft protocol would have changed for the episodes referred in the period, re-decided from the
        facts as recorded. Counts are published as on the network's dashboard (multiples of 5)."""
        draft = read_draft(draft_file)
        start, end = first_of_month(period_from), first_of_month(period_to)
        if end <= start:
            raise typer.BadParameter("--to must lie after --from")
        caller = Caller(user="cli", role=Role.PRACTICE if practice else Role.NETWORK, org=practice or "network")
        url = database_url()

        async def work() -> WhatIf:
            pool = await create_pool(url, "pathway", min_size=1, max_size=2)
            try:
                with Progress(
                    TextColumn("[bold]re-deciding[/]"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                ) as progress:
                    task = progress.add_task("episodes", total=None)
                    return await what_if(
                        PathwayStore(pool, EventStore("pathway", REGISTRY)),
                        caller,
                        draft,
                        datetime.combine(start, time(), tzinfo=UTC),
                        datetime.combine(end, time(), tzinfo=UTC),
                        SystemClock(),
                        PathwaySettings().evaluation_overdue_grace,
                        lambda done, total: progress.update(task, completed=done, total=total),
                    )
            finally:
                await pool.close()

        result = run_against_database(work)
        print_result(draft, start, end, result, practice)

    return command


def print_result(draft: Protocol, start: date, end: date, result: WhatIf, practice: str | None) -> None:
    by_practice = figures_by_practice(result.counts)
    table = Table(
        title=f"Concept {draft.version}: verwezen {start.isoformat()} tot {end.isoformat()}", box=box.SIMPLE_HEAD
    )
    table.add_column("praktijk", no_wrap=True)
    for name in FIGURES:
        table.add_column(HEADINGS[name][0], justify="right", no_wrap=True)
    for agb, figures in by_practice.items():
        table.add_row(agb, *(str(figures[n]) for n in FIGURES))
    table.add_row(
        "[bold]netwerk[/]" if practice is None else "[bold]totaal[/]",
        *(f"[bold]{sum(f[n] for f in by_practice.values())}[/]" for n in FIGURES),
    )
    console.print(table)
    for short, legend in HEADINGS.values():
        console.print(f"  [bold]{short:>8}[/]  {legend}", highlight=False)
    if practice is None:
        console.print("Aantallen per praktijk per maand afgerond op vijftallen, zoals op het netwerkdashboard.")
        return
    count = len(result.differences)
    console.print(f"{count} eigen episode{'s zouden' if count != 1 else ' zou'} anders lopen:")
    for difference in result.differences:
        parts = []
        if difference.escalations_added:
            parts.append("escalatie erbij: " + ", ".join(e.reason for e in difference.escalations_added))
        if difference.escalations_removed:
            parts.append("escalatie vervalt: " + ", ".join(e.reason for e in difference.escalations_removed))
        for moved in difference.evaluations_moved:
            before = moved.due_before.date().isoformat() if moved.due_before else "—"
            after = moved.due_after.date().isoformat() if moved.due_after else "—"
            parts.append(f"evaluatie {moved.number}: {before} → {after}")
        if difference.plan_changed:
            parts.append("behandelplan anders")
        if difference.overdue_before != difference.overdue_after:
            parts.append(f"te laat: {sorted(difference.overdue_before)} → {sorted(difference.overdue_after)}")
        console.print(f"  {difference.episode_id}  " + "; ".join(parts))
