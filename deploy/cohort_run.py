"""Walks a generated cohort through twelve simulated weeks against the running services, moving the shared
clock a week at a time, and summarises what the pathway decided."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deploy.cohort import REFERRER_ENTRY, DemoPatient, generate, practice_entry, therapist_agb, week_actions
from deploy.local import dev_headers
from shared.clock import OffsetFileClock

WEEKS = 12


class CohortRun:
    def __init__(
        self,
        console: Console,
        intake: str,
        pathway: str,
        clock_file: Path,
        practices: list[str],
        referrer: str,
        settle: Callable[[], None],
    ) -> None:
        """`settle` returns once the pathway caught up with what was recorded and with the clock (demo.Settle)."""
        self.console = console
        self.settle = settle
        self.intake = httpx.Client(base_url=intake, timeout=30)
        self.pathway = httpx.Client(base_url=pathway, timeout=30)
        self.clock_file = clock_file
        self.practices = practices
        self.referrer = referrer
        self.offset = timedelta(0)
        self.refused: Counter[str] = Counter()

    def today(self):
        return (datetime.now(UTC) + self.offset).date()

    def advance(self, days: int) -> None:
        """Move the shared clock once the pathway handled this week, and return once its timers caught up."""
        self.settle()
        self.offset += timedelta(days=days)
        OffsetFileClock.write_offset(self.clock_file, self.offset)
        self.settle()

    def register(self) -> None:
        """The practices with their physiotherapists and the verwijzer, as letters name them (intake's register)."""
        for index, agb in enumerate(self.practices):
            headers = dev_headers("practice", agb, user="demo-fysio")
            self.intake.put(f"/v1/practices/{agb}", json=practice_entry(agb, index), headers=headers).raise_for_status()
        headers = dev_headers("referrer", self.referrer, user="demo-gp")
        self.intake.put(f"/v1/referrers/{self.referrer}", json=REFERRER_ENTRY, headers=headers).raise_for_status()

    def run(self, seed: int, size: int) -> list[DemoPatient]:
        self.register()
        patients = generate(seed, size, self.practices, self.referrer)
        with Progress(
            TextColumn("[bold]week {task.fields[week]:>2}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        ) as progress:
            task = progress.add_task("cohort", total=(WEEKS + 1) * len(patients), week=0)
            for week in range(WEEKS + 1):
                progress.update(task, week=week)
                for patient in patients:
                    self.act(patient, week)
                    progress.advance(task)
                self.advance(7)
        return patients

    def act(self, patient: DemoPatient, week: int) -> None:
        practice = dev_headers("practice", patient.referral["practice_agb"], user="demo-fysio")
        if week == 0:
            body = {**patient.referral, "referred_on": self.today().isoformat()}
            response = self.intake.post("/v1/referrals", json=body, headers=dev_headers("referrer", self.referrer))
            response.raise_for_status()
            patient.episode_id = response.json()["episode_id"]
            therapist = {"therapist_agb": therapist_agb(patient.referral["practice_agb"], patient.index % 2)}
            self.intake.put(
                f"/v1/episodes/{patient.episode_id}/therapist", json=therapist, headers=practice
            ).raise_for_status()
        for command, body in week_actions(patient, week, self.today(), letters=True):
            response = self.intake.post(f"/v1/episodes/{patient.episode_id}/{command}", json=body, headers=practice)
            if response.status_code >= 400:
                self.refused[f"{command}: {response.status_code}"] += 1
            if command == "closing" and response.status_code < 300:
                patient.closed = True

    def summary(self, patients: list[DemoPatient]) -> None:
        self.settle()
        decided: Counter[str] = Counter()
        beloop: Counter[str] = Counter()
        escalations: Counter[str] = Counter()
        consults: Counter[str] = Counter()
        for patient in patients:
            headers = dev_headers("practice", patient.referral["practice_agb"])
            response = self.pathway.get(f"/v1/episodes/{patient.episode_id}", headers=headers)
            if response.status_code != 200:
                continue
            for entry in response.json()["timeline"]:
                if entry["source"] != "pathway":
                    continue  # the facts recorded at intake; the summary is about the guideline's decisions
                kind = entry["type"].rsplit(".", 1)[1]
                decided[kind] += 1
                if kind == "BeloopClassified":
                    beloop[
                        f"{entry['data']['beloop'] or 'not yet classifiable'} ({entry['data']['duration_class']})"
                    ] += 1
                elif kind == "EscalatedToReferrer":
                    escalations[entry["data"]["reason"]] += 1
                elif kind == "ConsultRequested":
                    consults[entry["data"]["discipline"]] += 1
        profiles = Counter(p.profile for p in patients)
        self._table("The cohort (generated from the seed)", "profile", profiles)
        self._table("What the pathway recorded", "event", decided)
        self._table("Course classifications (beloop)", "beloop (duration class)", beloop)
        self._table("Escalations to the verwijzer", "reason", escalations)
        if consults:
            self._table("Consults proposed", "discipline", consults)
        if self.refused:
            self._table("Commands the intake refused (the episode's state did not allow them)", "command", self.refused)

    def _table(self, title: str, column: str, counts: Counter[str]) -> None:
        table = Table(title=title, title_justify="left")
        table.add_column(column)
        table.add_column("count", justify="right")
        for key, value in sorted(counts.items()):
            table.add_row(key, str(value))
        self.console.print(table)
