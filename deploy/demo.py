"""The demo: starts the whole system on embedded defaults and walks a referral through it, step by step."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console

from deploy.cohort_run import WEEKS
from deploy.cohort_year import SPREAD_WEEKS, YearCohortRun
from deploy.local import (
    DEV_CALLERS,
    SERVICES,
    LocalSystem,
    dev_headers,
    free_port,
    interrupt_on_signals,
    launched,
    stop_process,
    wait_for_port,
)
from services.pathway.protocol_cli import figures_table, print_legend
from shared.clock import OffsetFileClock

PRACTICE_AGB = DEV_CALLERS["practice"][0]
REFERRER_AGB = DEV_CALLERS["referrer"][0]


def wait_until(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


class Settle:
    """Waits until the pathway has handled every intake event it handles and fired every timer due by the
    shared clock. The cohort waits for it before and after each move of the clock, so an evaluation recorded
    in the week it falls due always comes after its `EvaluationDue`, and what the pathway records is a
    function of the seed, not of how fast the machine is."""

    def __init__(self, database_url: str, clock_file: Path, timeout: float = 120.0) -> None:
        from deploy.faults.observe import flow

        self.clock = OffsetFileClock(clock_file)
        self.timeout = timeout
        self.types = sorted({t for types in flow()[1]["pathway"].values() for t in types})
        self.runner = asyncio.Runner()
        self.conn = self.runner.run(asyncpg.connect(database_url))

    def __call__(self) -> None:
        deadline = time.monotonic() + self.timeout
        while (left := self.runner.run(self._outstanding())) != (0, 0):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the pathway did not settle: {left[0]} intake events, {left[1]} timers due")
            time.sleep(0.05)

    async def _outstanding(self) -> tuple[int, int]:
        row = await self.conn.fetchrow(
            "SELECT (SELECT count(*) FROM intake.events e WHERE e.event_type = ANY($1::text[])"
            "   AND NOT EXISTS (SELECT 1 FROM pathway.inbox i WHERE i.event_id = e.event_id)"
            "   AND NOT EXISTS (SELECT 1 FROM pathway.dead_letters d WHERE d.event_id = e.event_id)) AS unhandled,"
            " (SELECT count(*) FROM pathway.timers"
            "   WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $2) AS due",
            self.types,
            self.clock.now(),
        )
        return row["unhandled"], row["due"]

    def close(self) -> None:
        self.runner.run(self.conn.close())
        self.runner.close()


class Demo:
    def __init__(self, console: Console, run_dir: Path) -> None:
        self.console = console
        self.run_dir = run_dir

    def step(self, text: str) -> None:
        self.console.print(f"[bold green]✔[/] {text}", soft_wrap=True)  # URLs whole, never cut or folded

    def run(self, *, stay: bool, seed: int = 2026, patients: int = 200) -> None:
        interrupt_on_signals()
        clock_file = self.run_dir / "clock-offset"
        env = {"CLOCK_OFFSET_FILE": str(clock_file), "TIMER_POLL_INTERVAL_SECONDS": "0.2"}
        try:
            with launched("demo", self.run_dir, env) as system:
                self.step(f"PostgreSQL ready ([dim]{system.database_url}[/])")
                self.step(f"Kafka-protocol broker (tansu) ready at [cyan]{system.bootstrap}[/]")
                for name in SERVICES:
                    self.step(f"{name:<13} ready at [cyan]{system.url(name)}[/]")
                OffsetFileClock.write_offset(clock_file, timedelta(0))
                self.show(system, clock_file, stay=stay, seed=seed, patients=patients)
        except KeyboardInterrupt:
            self.console.print("\nStopped.")
        self.step("every process stopped")

    def show(self, system: LocalSystem, clock_file: Path, *, stay: bool, seed: int, patients: int) -> None:
        receiver_port = free_port()
        receiver = None
        settle = Settle(system.database_url, clock_file)
        try:
            receiver = subprocess.Popen(
                [sys.executable, "-m", "deploy.receiver", "--port", str(receiver_port)],
                stdout=open(self.run_dir / "receiver.log", "ab"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.walk(system, f"http://127.0.0.1:{receiver_port}")
            self.console.rule(f"A cohort of {patients} patients referred over a year, twelve weeks each (seed {seed})")
            cohort = YearCohortRun(
                self.console,
                system.url("intake"),
                system.url("pathway"),
                clock_file,
                practices=[PRACTICE_AGB, "04222222", "04333333", "04444444"],
                referrer=REFERRER_AGB,
                settle=settle,
            )
            cohort_patients = cohort.run(seed, patients)
            cohort.summary(cohort_patients)
            self.show_letters(system, cohort_patients)
            self.show_protocol(system, clock_file)
            self.where_to_look(system)
            if stay:
                self.console.print("\n[bold]The system keeps running. Press Ctrl-C to stop every process.[/]")
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            self.console.print("\nStopping …")
        finally:
            settle.close()
            if receiver is not None:
                stop_process(receiver)

    def walk(self, system: LocalSystem, receiver_url: str) -> None:
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

    def show_protocol(self, system: LocalSystem, clock_file: Path) -> None:
        """The network adopts its first protocol (the guideline's own values, from tomorrow), then tries a draft
        with evaluations every four weeks on the year's referrals."""
        self.console.rule("The network's protocol: adopt the first, try a draft on the year's history")
        pathway = system.url("pathway")
        network = dev_headers("network", "network", user="coordinator")
        today = OffsetFileClock(clock_file).now().date()
        first = {
            "protocol": {"version": "rug-1", "title": "Rugnetwerk, eerste protocol", "values": {}},
            "effective_from": (today + timedelta(days=1)).isoformat(),
        }
        adopted = httpx.post(f"{pathway}/v1/network/protocols", json=first, headers=network, timeout=30)
        if adopted.status_code != 201:
            raise RuntimeError(f"adopting the first protocol: {adopted.status_code} {adopted.text}")
        self.step(
            f"the network adopted protocol rug-1 (the guideline's values), in force from {first['effective_from']}"
        )
        start = (today - timedelta(weeks=SPREAD_WEEKS + WEEKS + 1)).replace(day=1)
        end = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        draft = {"version": "vier-weken", "values": {"evaluation_interval_days": 28}}
        asked = httpx.post(
            f"{pathway}/v1/network/protocols/what-if",
            json={"draft": draft, "from": start.isoformat(), "to": end.isoformat()},
            headers=network,
            timeout=300,
        )
        if asked.status_code != 200:
            raise RuntimeError(f"what if: {asked.status_code} {asked.text}")
        answer = asked.json()
        self.step(f"what if the network evaluated every four weeks? referrals {start} to {end}, re-decided:")
        self.console.print(figures_table(((p["practice_agb"], p) for p in answer["practices"]), "netwerk"))
        print_legend(self.console)
        self.console.print(
            "  Counts per practice and month rounded to fives, as on the network dashboard. The same on the page"
            f" {pathway}/network/protocol and with ./ruggengraat protocol what-if.",
            soft_wrap=True,
        )

    def where_to_look(self, system: LocalSystem) -> None:
        reporting = system.url("reporting")
        visitation = f"{reporting}/v1/network/practices/{PRACTICE_AGB}/visitation?year={datetime.now(UTC).year}"
        network_token = "$(./ruggengraat token --role network --org network)"
        rows = [(f"{name} API (OpenAPI)", f"{system.url(name)}/docs") for name in SERVICES]
        rows += [(f"{name} metrics", f"{system.url(name)}/metrics") for name in SERVICES]
        rows += [
            ("intake episode", f"{system.url('intake')}/v1/episodes/{self.episode}"),
            ("pathway timeline", f"{system.url('pathway')}/v1/episodes/{self.episode}"),
            ("reporting overview", f"{reporting}/v1/episodes/{self.episode}"),
            ("network dashboard", f"{reporting}/network"),
            ("  its token", "./ruggengraat token --role network --org network"),
            ("network protocol, what-if", f"{system.url('pathway')}/network/protocol"),
            ("  its token", "./ruggengraat token --role network --org network"),
            ("operator's page", f"{system.url('notifications')}/operations"),
            ("  its token", "./ruggengraat token --role operator --org ops"),
            ("visitation report (PDF)", visitation),
            ("  fetch it", f"curl -H \"authorization: Bearer {network_token}\" -o visitatie.pdf '{visitation}'"),
            ("logs", str(self.run_dir)),
        ]
        self.console.rule("Where to look")
        for what, where in rows:  # one line each, printed whole (soft wrap) so that they can be copied
            self.console.print(f"{what:<28} {where}", soft_wrap=True, highlight=False, markup=False)


def _json_if_ok(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 200 else None
