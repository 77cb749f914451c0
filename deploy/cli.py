"""The project's command line: run the system, the demo, the tests, and regenerate the event contracts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from deploy.local import ROOT, SERVICES
from services.pathway.guideline_cli import app as guideline_app
from services.pathway.protocol_cli import app as protocol_app

T = TypeVar("T")
app = typer.Typer(help="Ruggengraat: the event backbone of the low-back-pain care pathway.", no_args_is_help=True)
app.add_typer(guideline_app, name="guideline", help="KNGF guideline decision support.")
app.add_typer(protocol_app, name="protocol", help="The regional network's protocol: try a draft on history.")
console = Console()


@app.command()
def demo(
    stay: bool = typer.Option(True, "--stay/--exit", help="Keep the system running after the walk-through."),
    seed: Annotated[int, typer.Option(help="Seed of the generated cohort")] = 2026,
    patients: Annotated[int, typer.Option(help="Patients in the cohort, referred over a year", min=1, max=500)] = 200,
) -> None:
    """Start PostgreSQL, the broker and the four services, and walk a referral through them."""
    from deploy.demo import Demo
    from deploy.local import AlreadyRunning, run_root

    try:
        Demo(console, run_root() / "demo").run(stay=stay, seed=seed, patients=patients)
    except AlreadyRunning as error:
        fail(str(error))


@app.command()
def up() -> None:
    """Start the system on embedded defaults and keep it running until Ctrl-C.

    PostgreSQL, the broker and the four services, as the demo runs them, without the walk-through; prints the URLs,
    DATABASE_URL, the broker's address and a development token per role."""
    import time

    from deploy.local import DEV_CALLERS, AlreadyRunning, interrupt_on_signals, launched, run_root
    from shared.auth import DEVELOPMENT_SECRET, Role, issue_token

    interrupt_on_signals()
    run_dir = run_root() / "up"
    try:
        with launched("up", run_dir) as system:
            lines = ["Ruggengraat is up. Ctrl-C stops every process it started.", ""]
            lines += [f"{name:<14} {system.url(name)}   ({system.url(name)}/docs)" for name in SERVICES]
            lines += [
                f"{'dashboard':<14} {system.url('reporting')}/network",
                "",
                f"export DATABASE_URL='{system.database_url}'",
                f"export KAFKA_BOOTSTRAP_SERVERS={system.bootstrap}",
                "",
                "# development tokens, valid 8 hours (./ruggengraat token makes others)",
            ]
            for role, (org, scope) in DEV_CALLERS.items():
                token = issue_token(DEVELOPMENT_SECRET, Role(role), org, "developer", scope=scope)
                lines.append(f"export {role.upper()}_TOKEN={token}   # {role} {org}{f' {scope}' if scope else ''}")
            lines += ["", f"logs: {run_dir}"]
            print("\n".join(lines), flush=True)  # plain, so no URL or token is ever cut or wrapped
            while True:
                time.sleep(3600)
    except AlreadyRunning as error:
        fail(str(error))
    except KeyboardInterrupt:
        print("stopped every process", flush=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit with `code` (no traceback)."""
    Console(stderr=True, soft_wrap=True).print(f"[red]{message}[/]", highlight=False)
    raise typer.Exit(code)


def database_url() -> str:
    """DATABASE_URL when set, else the database of the system a running `up` or `demo` started."""
    from deploy.local import find_running

    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    running = find_running()
    if running is None:
        fail("no running system found: start one with `./ruggengraat up` (or set DATABASE_URL)")
    return running["database_url"]


def run_against_database(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `work`; a database that cannot be reached or lacks the service's tables is one line, not a traceback."""
    import asyncio

    import asyncpg

    try:
        return asyncio.run(work())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        fail(f"the database cannot answer: {error}")


CHROMIUM = Path("/usr/bin/chromium")
#: Debian packages the tests drive: chromium for the dashboard's browser test, poppler-utils (pdftoppm, pdftotext,
#: pdffonts) to look at the letters' PDF pages as a GP sees them.
TEST_PROGRAMS = {
    CHROMIUM: "chromium",
    Path("/usr/bin/pdftoppm"): "poppler-utils",
    Path("/usr/bin/prometheus"): "prometheus",  # the alert rules' end-to-end test (and its promtool)
}


def ensure_test_programs() -> None:
    """Install the Debian packages the tests drive that are missing, once, where we may (root + apt): only those,
    without their recommended packages, and nothing already installed is upgraded."""
    missing = sorted({package for program, package in TEST_PROGRAMS.items() if not program.exists()})
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        console.print(
            f"installing with apt-get, for the browser, PDF and alerting tests (once): {' '.join(missing)}"
            " (--no-install-recommends, no upgrade of anything else)",
            soft_wrap=True,
        )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "--no-upgrade", *missing],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    else:
        console.print(
            f"[yellow]{', '.join(missing)} missing: install them with apt for the browser, PDF and alerting tests[/]"
        )


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(ctx: typer.Context) -> None:
    """Run every test: unit, integration (real Postgres + broker) and end-to-end (service processes).

    Every argument goes to pytest as given, e.g. `./ruggengraat test -k relay -x` or `./ruggengraat test tests/unit`.
    """
    ensure_test_programs()
    command = [sys.executable, "-m", "pytest", *ctx.args]
    raise typer.Exit(subprocess.call(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}))


@app.command()
def token(
    role: Annotated[str, typer.Option(help="practice, referrer, network, subscriber, operator or service")],
    org: Annotated[str, typer.Option(help="AGB code, network id or subscriber id the caller acts for")],
    user: Annotated[str, typer.Option(help="Who the caller is (a user id, never a name)")] = "developer",
    scope: Annotated[str | None, typer.Option(help='Subscribers: "practice:<AGB>" or "referrer:<AGB>"')] = None,
    hours: Annotated[int, typer.Option(help="Validity")] = 8,
) -> None:
    """Issue a development token (refused in production: there a real identity provider signs tokens)."""
    from datetime import timedelta

    from shared.auth import Role
    from shared.settings import ServiceSettings

    settings = ServiceSettings()
    if settings.environment == "production":
        console.print("[red]tokens are not issued by this command in production[/]")
        raise typer.Exit(2)
    from shared.auth import issue_token

    try:
        chosen = Role(role)
    except ValueError as error:
        console.print(f"[red]role: {role!r} is not one of {[r.value for r in Role]}[/]")
        raise typer.Exit(2) from error
    print(issue_token(settings.jwt_secret, chosen, org, user, scope=scope, ttl=timedelta(hours=hours)))


@app.command("retention-due")
def retention_due(
    as_of: Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD); defaults to today")] = None,
) -> None:
    """List the patient records due for destruction (20 years after the last treatment, WGBO).

    Reads DATABASE_URL, or else the system that `./ruggengraat up` or `demo` runs."""
    from datetime import date

    from rich.table import Table

    from services.intake.handlers import list_retention_due
    from shared.db import create_pool

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        fail(f"as-of: {as_of!r} is not a date (YYYY-MM-DD)", 2)
    url = database_url()

    async def listing():
        pool = await create_pool(url, "intake", min_size=1, max_size=2)
        try:
            return await list_retention_due(pool, day)
        finally:
            await pool.close()

    due = run_against_database(listing)
    table = Table(title=f"Due for destruction on {day.isoformat()}: {len(due)}")
    table.add_column("patient (pseudonym)", no_wrap=True, min_width=36)
    for column in ("practice", "last treatment", "due since"):
        table.add_column(column, no_wrap=True)
    for row in due:
        table.add_row(str(row.patient_id), row.practice_agb, str(row.last_treatment_on), str(row.destruction_due_on))
    console.print(table)


PROJECTIONS: dict[str, tuple[str, str] | None] = {
    "pathway": ("services.pathway.projection", "EpisodeView"),
    "reporting": None,
}


@app.command()
def replay(service: Annotated[str, typer.Argument(help=f"One of: {', '.join(PROJECTIONS)}")]) -> None:
    """Rebuild a service's read model from its event store, with a progress bar.

    Reads DATABASE_URL, or else the system that `./ruggengraat up` or `demo` runs."""
    import importlib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from shared.db import create_pool
    from shared.events import REGISTRY
    from shared.store.event_store import EventStore
    from shared.store.projection import ProjectionRunner

    if service not in PROJECTIONS:
        fail(f"service: {service!r} has no read model to replay; known: {', '.join(PROJECTIONS)}", 2)
    url = database_url()

    async def rebuild() -> int:
        pool = await create_pool(url, service, min_size=1, max_size=2)
        try:
            with Progress(
                TextColumn(f"[bold]{service}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("replay", total=None)

                def report(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                projection_class = PROJECTIONS[service]
                if projection_class is None:  # reporting's network model replays from its copy of events
                    from services.reporting.rebuild import rebuild_network

                    return await rebuild_network(pool, report)
                module, name = projection_class
                projection = getattr(importlib.import_module(module), name)()
                return await ProjectionRunner(pool, EventStore(service, REGISTRY), projection).rebuild(report)
        finally:
            await pool.close()

    console.print(f"replayed {run_against_database(rebuild)} events into the {service} read model")


@app.command()
def faults(
    only: Annotated[
        list[str] | None, typer.Option("--only", help="A scenario to run (repeatable); default: every one")
    ] = None,
    repeat: Annotated[int, typer.Option(help="Run the chosen scenarios this many times", min=1)] = 1,
    workers: Annotated[int, typer.Option(help="Processes per service (more than one: 6 partitions)", min=1, max=6)] = 1,
    rate: Annotated[float, typer.Option(help="Episodes started per second", min=0.1)] = 10.0,
    seconds: Annotated[
        float, typer.Option(help="How long the load runs; the fault comes a third of the way in")
    ] = 40.0,
    drain_timeout: Annotated[float, typer.Option(help="Longest wait for the flow to drain after the load")] = 120.0,
    stall_after: Annotated[float, typer.Option(help="Nothing moved for this long with work left: a stall")] = 45.0,
    rescue: bool = typer.Option(True, "--rescue/--no-rescue", help="After a stall, restart every service."),
    out: Annotated[Path | None, typer.Option(help="Where logs, results.json and results.md go")] = None,
) -> None:
    """The fault campaign: each scenario on a fresh system under a steady load; one table; non-zero on any loss,
    duplicate effect or stall."""
    import asyncio
    import time

    from deploy.faults import SCENARIOS, Options, default_scenarios, run_campaign
    from deploy.faults.report import write

    names = only or default_scenarios(workers)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        console.print(f"[red]unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}[/]")
        raise typer.Exit(2)
    if workers == 1 and any(SCENARIOS[name].needs_workers for name in names):
        console.print("[red]kill-workers needs --workers 2 or more[/]")
        raise typer.Exit(2)
    out = out or ROOT / ".run" / "faults" / time.strftime("%Y%m%d-%H%M%S")
    options = Options(
        out=out,
        rate=rate,
        seconds=seconds,
        drain_timeout=drain_timeout,
        stall_after=stall_after,
        workers=workers,
        rescue=rescue,
        echo=console.print,
    )
    try:
        results = asyncio.run(run_campaign(names, options, repeat))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print(f"[yellow]interrupted: every process the campaign started is stopped; logs in {out}[/]")
        raise typer.Exit(130) from None
    title = (
        f"Fault campaign: {rate:g} episodes/s for {seconds:g} s (longer when the fault outlasts it), fault at"
        f" {options.fault_moment:.0f} s, {workers} worker(s) per service"
    )
    write(results, out, title, console)
    failed = [r for r in results if not r.ok]
    if failed:
        console.print(f"[red]{len(failed)} of {len(results)} runs lost, duplicated or stalled[/]")
        raise typer.Exit(1)
    console.print(f"[green]{len(results)} runs: nothing lost, nothing twice, no stall[/]")


@app.command()
def schemas(check: bool = typer.Option(False, help="Fail when the checked-in files are stale.")) -> None:
    """Regenerate the JSON Schemas and the AsyncAPI document from the payload models."""
    from shared.events.contracts import stale_files, write_contracts

    if check:
        stale = stale_files()
        if stale:
            console.print(f"[red]stale:[/] {', '.join(stale)} — run `./ruggengraat schemas`")
            raise typer.Exit(1)
        console.print("contracts are up to date")
        return
    for path in write_contracts():
        console.print(f"wrote {path}")


@protocol_app.command("what-if")
def what_if(
    draft_file: Annotated[Path, typer.Argument(help="JSON: the draft protocol (version, values, …).")],
    period_from: Annotated[str, typer.Option("--from", help="First month, e.g. 2026-01-01.")],
    period_to: Annotated[str, typer.Option("--to", help="First day of the month after the last one.")],
    practice: Annotated[
        str | None, typer.Option(help="Only this practice (AGB), with its own episodes that would differ.")
    ] = None,
) -> None:
    """What a draft protocol would have changed for the episodes referred in the period, re-decided from the facts
    as recorded, with a progress bar. Counts are published as on the network's dashboard (multiples of 5).

    Reads DATABASE_URL, or else the system that `./ruggengraat up` or `demo` runs."""
    from datetime import UTC, datetime, time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from services.pathway.domain.protocol import Refused
    from services.pathway.handlers import WhatIf
    from services.pathway.handlers import what_if as try_draft
    from services.pathway.protocol_cli import first_of_month, print_result, read_draft
    from services.pathway.store import PathwayStore
    from shared.auth import Caller, Role
    from shared.clock import SystemClock
    from shared.db import DatabaseAddress, create_pool
    from shared.events import REGISTRY
    from shared.store.event_store import EventStore

    draft = read_draft(draft_file)
    start, end = first_of_month(period_from), first_of_month(period_to)
    if end <= start:
        raise typer.BadParameter("--to must lie after --from")
    caller = Caller(user="cli", role=Role.PRACTICE if practice else Role.NETWORK, org=practice or "network")
    url = database_url()

    async def work() -> WhatIf:
        pool = await create_pool(url, "pathway", min_size=1, max_size=2)
        try:
            columns = (TextColumn("[bold]re-deciding[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=console) as progress:
                task = progress.add_task("episodes", total=None)
                return await try_draft(
                    PathwayStore(pool, EventStore("pathway", REGISTRY)),
                    DatabaseAddress(url, "pathway"),
                    caller,
                    draft,
                    datetime.combine(start, time(), tzinfo=UTC),
                    datetime.combine(end, time(), tzinfo=UTC),
                    SystemClock(),
                    lambda done, total: progress.update(task, completed=done, total=total),
                )
        finally:
            await pool.close()

    try:
        result = run_against_database(work)
    except Refused as refused:
        raise typer.BadParameter(f"{refused.field}: {refused.reason}") from None
    print_result(draft, start, end, result, practice)


if __name__ == "__main__":
    app(prog_name="./ruggengraat")
