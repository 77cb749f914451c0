"""The command line's pieces for the network's protocol (`./ruggengraat protocol what-if`, wired in `deploy/cli.py`
where the installation's database is found): reading a draft, and printing what it would change — also for the
demo, which prints the same figures as the API answers them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.table import Table

from services.pathway.domain.protocol import Protocol
from services.pathway.domain.what_if import FIGURES, figures_by_practice, network_total
from services.pathway.handlers import WhatIf

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
    return draft


def first_of_month(value: str) -> date:
    day = date.fromisoformat(value)
    if day.day != 1:
        raise typer.BadParameter("must be the first day of a month: the network's figures are per practice per month")
    return day


def figures_table(rows: Iterable[tuple[str, Mapping[str, int]]], total: str, title: str | None = None) -> Table:
    """The published figures per practice (AGB, figures) and their sum on a last row named `total`."""
    rows = list(rows)
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("praktijk", no_wrap=True)
    for name in FIGURES:
        table.add_column(HEADINGS[name][0], justify="right", no_wrap=True)
    for agb, figures in rows:
        table.add_row(agb, *(str(figures[n]) for n in FIGURES))
    sums = network_total(dict(rows))
    table.add_row(f"[bold]{total}[/]", *(f"[bold]{sums[n]}[/]" for n in FIGURES))
    return table


def print_legend(console: Console) -> None:
    for short, legend in HEADINGS.values():
        console.print(f"  [bold]{short:>8}[/]  {legend}", highlight=False)


def print_result(draft: Protocol, start: date, end: date, result: WhatIf, practice: str | None) -> None:
    title = f"Concept {draft.version}: verwezen {start.isoformat()} tot {end.isoformat()}"
    by_practice = figures_by_practice(result.counts).items()
    console.print(figures_table(by_practice, "netwerk" if practice is None else "totaal", title))
    print_legend(console)
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
