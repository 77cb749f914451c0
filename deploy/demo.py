"""The demo: starts the whole system on embedded defaults and walks a referral through it, step by step."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from deploy.cohort_year import YearCohortRun
from deploy.local import (
    SERVICES,
    LocalSystem,
    dev_headers,
    embedded_infrastructure,
    free_port,
    stop_process,
)
from shared.clock import OffsetFileClock

PRACTICE_AGB = "04123456"
REFERRER_AGB = "01234567"

DEFAULT_PORTS = {"intake": 8001, "pathway": 8002, "reporting": 8003, "notifications": 8004}


def _port(preferred: int) -> int:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def wait_until(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


class Demo:
    def __init__(self, console: Console, run_dir: Path) -> None:
        self.console = console
        self.run_dir = run_dir

    def step(self, text: str) -> None:
        self.console.print(f"[bold green]✔[/] {text}")

    def run(self, *, stay: bool, seed: int = 2026, patients: int = 200) -> None:
        # Ctrl-C and `kill` both end in the cleanup below, even when started from a shell that ignores SIGINT.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with embedded_infrastructure(self.run_dir) as (database_url, broker):
            self.step(f"PostgreSQL ready ([dim]{database_url}[/])")
            self.step(f"Kafka-protocol broker (tansu) ready at [cyan]{broker.bootstrap}[/]")
            clock_file = self.run_dir / "clock-offset"
            OffsetFileClock.write_offset(clock_file, timedelta(0))
            system = LocalSystem(
                database_url,
                broker.bootstrap,
                self.run_dir,
                extra_env={"CLOCK_OFFSET_FILE": str(clock_file), "TIMER_POLL_INTERVAL_SECONDS": "0.2"},
            )
            receiver = None
            try:
                system.start(ports={name: _port(port) for name, port in DEFAULT_PORTS.items()})
                for name in SERVICES:
                    self.step(f"{name:<13} ready at [cyan]{system.url(name)}[/]")
                receiver_port = free_port()
                receiver = subprocess.Popen(
                    [sys.executable, "-m", "deploy.receiver", "--port", str(receiver_port)],
                    stdout=open(self.run_dir / "receiver.log", "ab"),  # noqa: SIM115
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                self.walk(system, f"http://127.0.0.1:{receiver_port}")
                self.console.rule(
                    f"A cohort of {patients} patients referred over a year, twelve weeks each (seed {seed})"
                )
                cohort = YearCohortRun(
                    self.console,
                    system.url("intake"),
                    system.url("pathway"),
                    clock_file,
                    practices=[PRACTICE_AGB, "04222222", "04333333", "04444444"],
                    referrer=REFERRER_AGB,
                )
                cohort_patients = cohort.run(seed, patients)
                cohort.summary(cohort_patients)
                self.show_letters(system, cohort_patients)
                self.where_to_look(system)
                if stay:
                    self.console.print("\n[bold]The system keeps running. Press Ctrl-C to stop every process.[/]")
                    while True:
                        time.sleep(3600)
            except KeyboardInterrupt:
                self.console.print("\nStopping …")
            finally:
                if receiver is not None:
                    stop_process(receiver)
                system.stop()
                self.step("every process stopped")

    def walk(self, system: LocalSystem, receiver_url: str) -> None:
        from deploy.local import wait_for_port

        port = int(receiver_url.rsplit(":", 1)[1])
        wait_for_port("127.0.0.1", port, 15)
        gp_system = dev_headers("referrer", REFERRER_AGB, user="his-gp-1")
        practice = dev_headers("practice", PRACTICE_AGB, user="fysio-1")
        subscriber = dev_headers("subscriber", "gp-his-demo", scope=f"referrer:{REFERRER_AGB}")
        subscription = (
            httpx.post(
                f"{system.url('notifications')}/v1/subscriptions",
                headers=subscriber,
                json={
                    "endpoint_url": f"{receiver_url}/hook",
                    "event_types": [
                        "nl.ruggengraat.intake.ReferralReceived",
                        "nl.ruggengraat.pathway.EvaluationScheduled",
                    ],
                },
            )
            .raise_for_status()
            .json()
        )
        httpx.put(f"{receiver_url}/_config", json={"secret": subscription["secret"]}).raise_for_status()
        self.step(
            f"a GP system subscribed to referrals and evaluations (subscription {subscription['subscription_id']})"
        )

        referral = {
            "referral_id": f"DEMO-{int(time.time())}",
            "route": "gp_referral",
            "practice_agb": PRACTICE_AGB,
            "referrer_agb": REFERRER_AGB,
            "referred_on": time.strftime("%Y-%m-%d"),
            "symptom_onset": time.strftime("%Y-%m-%d", time.localtime(time.time() - 10 * 86400)),
            "patient": {"name": "J. de Vries", "bsn": "999990019", "birth_date": "1968-04-12"},
            "request_for_help": "Weer zonder pijn naar het werk kunnen fietsen.",
            "reason": "Aspecifieke lage rugpijn sinds tien dagen, geen rode vlaggen.",
        }
        created = (
            httpx.post(f"{system.url('intake')}/v1/referrals", json=referral, headers=gp_system)
            .raise_for_status()
            .json()
        )
        episode = created["episode_id"]
        self.step(f"intake received the referral: episode [bold]{episode}[/] (ReferralReceived, version 1)")

        pathway = wait_until(
            "the pathway to plan the first evaluation",
            lambda: _json_if_ok(httpx.get(f"{system.url('pathway')}/v1/episodes/{episode}", headers=practice)),
        )
        first = pathway["evaluations"][0]
        self.step(f"pathway consumed it and planned evaluation {first['evaluation_number']} due {first['due_at']}")

        received = wait_until(
            "the GP system to receive both events",
            lambda: (r := httpx.get(f"{receiver_url}/_received").json())["events"][1:] and r,
        )
        for event in received["events"]:
            self.step(
                f"GP system received [magenta]{event['type'].rsplit('.', 1)[1]}[/] #{event['sequence']} "
                "(Standard Webhooks signature verified, parsed with the CloudEvents SDK)"
            )
        overview = wait_until(
            "reporting to show the episode",
            lambda: (
                (o := _json_if_ok(httpx.get(f"{system.url('reporting')}/v1/episodes/{episode}", headers=practice)))
                and o["evaluations_scheduled"] >= 1
                and o["route"]
                and o
            ),
        )
        self.step(
            f"reporting's read model: practice {overview['practice_agb']}, next evaluation "
            f"{overview['next_evaluation_due']}"
        )
        self.episode = episode

    def show_letters(self, system: LocalSystem, patients: list) -> None:
        """One episode's letters to the GP (start, interim, final): where to fetch them, and copies to open."""
        escalated = [p for p in patients if p.profile == "chronic_deviating_no_progress"]
        improved = [p for p in patients if p.profile in ("chronic_deviating_progress", "fear_of_movement")]
        chosen = (escalated or improved or patients)[0]
        practice = dev_headers("practice", chosen.referral["practice_agb"], user="demo-fysio")
        reporting = system.url("reporting")
        listed = wait_until(
            "reporting to compose the episode's final letter",
            lambda: (
                (
                    body := _json_if_ok(
                        httpx.get(f"{reporting}/v1/episodes/{chosen.episode_id}/letters", headers=practice)
                    )
                )
                and any(letter["kind"] == "final" for letter in body["letters"])
                and body
            ),
            timeout=60,
        )
        self.console.rule(f"Letters to the GP of one episode ({chosen.profile})")
        folder = self.run_dir / "letters"
        folder.mkdir(parents=True, exist_ok=True)
        # printed whole (soft wrap), never cut to the terminal's width: they are to be copied
        self.console.print(f"{reporting}/v1/episodes/{chosen.episode_id}/letters", soft_wrap=True)
        for n, letter in enumerate(listed["letters"], start=1):
            url = f"{reporting}/v1/letters/{letter['letter_id']}"
            self.console.print(f"[bold]{n}. {letter['title']}[/] ({letter['kind']})", soft_wrap=True)
            for form, suffix in (("HTML", ""), ("PDF/A", "/pdf"), ("FHIR document", "/fhir"), ("MEDVRI", "/medvri")):
                self.console.print(f"   {form:<14} {url}{suffix}", soft_wrap=True, highlight=False)
            for suffix, extension in (("", "html"), ("/pdf", "pdf")):
                response = httpx.get(f"{url}{suffix}", headers=practice, timeout=30)
                if response.status_code == 200:
                    (folder / f"{n}-{letter['kind']}.{extension}").write_bytes(response.content)
        self.console.print(
            f'With a token: curl -H "authorization: Bearer $(./ruggengraat token --role practice --org '
            f'{chosen.referral["practice_agb"]})" URL   ·   copies to open: {folder}',
            soft_wrap=True,
            highlight=False,
        )

    def where_to_look(self, system: LocalSystem) -> None:
        table = Table(title="Where to look", show_lines=False)
        table.add_column("what")
        table.add_column("URL", overflow="fold")  # whole URLs, folded, never cut with …
        for name in SERVICES:
            table.add_row(f"{name} API (OpenAPI)", f"{system.url(name)}/docs")
            table.add_row(f"{name} metrics", f"{system.url(name)}/metrics")
        table.add_row("intake episode", f"{system.url('intake')}/v1/episodes/{self.episode}")
        table.add_row("pathway timeline", f"{system.url('pathway')}/v1/episodes/{self.episode}")
        table.add_row("reporting overview", f"{system.url('reporting')}/v1/episodes/{self.episode}")
        table.add_row("network dashboard", f"{system.url('reporting')}/network")
        table.add_row("  its token", "./ruggengraat token --role network --org network")
        year = datetime.now(UTC).year
        table.add_row(
            "visitation report (PDF)",
            f"{system.url('reporting')}/v1/network/practices/{PRACTICE_AGB}/visitation?year={year}",
        )
        table.add_row(
            "  fetch it",
            f'curl -H "authorization: Bearer $(./ruggengraat token --role network --org network)"'
            f" -o visitatie.pdf '{system.url('reporting')}/v1/network/practices/{PRACTICE_AGB}/visitation?year={year}'",
        )
        table.add_row("logs", str(self.run_dir))
        self.console.print(table)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _json_if_ok(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 200 else None
