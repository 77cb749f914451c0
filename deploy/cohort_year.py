"""The demo's cohort referred over a whole year: each patient starts in a week of its own, spread over 52
weeks and over practices of different sizes, and follows the same twelve weeks of care as `CohortRun`'s.
The shared clock starts that year (plus the twelve weeks) in the past, so the last referrals are recent
and the network's dashboard shows trends over months and funnel plots with something in them."""

from __future__ import annotations

import random
from datetime import timedelta

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from deploy.cohort import DemoPatient, generate
from deploy.cohort_run import WEEKS, CohortRun
from shared.clock import OffsetFileClock

SPREAD_WEEKS = 52
#: the practices' shares of the referrals: a large practice, two middling ones and a small one
PRACTICE_WEIGHTS = (5, 3, 3, 1)
#: per practice, the share of patients whose second evaluation is recorded two weeks late (past the seven
#: days' grace, so overdue): practices differ, so the funnel plots and trends have something to show
LATE_SHARES = (0.1, 0.45, 0.2, 0.6)
SECOND_EVALUATION_WEEK = 6


def spread(patients: list[DemoPatient], practices: list[str], seed: int) -> tuple[dict[int, int], set[int]]:
    """Assign each patient a practice (weighted) and a start week in [0, SPREAD_WEEKS); the start weeks, and
    the patients whose second evaluation comes late."""
    rng = random.Random(f"year-{seed}")
    weights = [PRACTICE_WEIGHTS[i % len(PRACTICE_WEIGHTS)] for i in range(len(practices))]
    starts, late = {}, set()
    for patient in patients:
        practice = rng.choices(range(len(practices)), weights)[0]
        patient.referral["practice_agb"] = practices[practice]
        starts[patient.index] = rng.randrange(SPREAD_WEEKS)
        if rng.random() < LATE_SHARES[practice % len(LATE_SHARES)]:
            late.add(patient.index)
    return starts, late


class YearCohortRun(CohortRun):
    def run(self, seed: int, size: int) -> list[DemoPatient]:
        register = getattr(self, "register", None)
        if register is not None:
            register()
        patients = generate(seed, size, self.practices, self.referrer)
        starts, late = spread(patients, self.practices, seed)
        total = SPREAD_WEEKS + WEEKS
        self.settle()
        self.offset = -timedelta(weeks=total)
        OffsetFileClock.write_offset(self.clock_file, self.offset)
        with Progress(
            TextColumn("[bold]week {task.fields[week]:>2}[/] {task.fields[day]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        ) as progress:
            task = progress.add_task("cohort", total=total + 1, week=0, day="")
            for week in range(total + 1):
                progress.update(task, week=week, day=self.today().isoformat())
                for patient in patients:
                    relative = week - starts[patient.index]
                    if not 0 <= relative <= WEEKS:
                        continue
                    if patient.index in late and relative == SECOND_EVALUATION_WEEK:
                        continue  # the practice does not get round to it this week …
                    self.act(patient, relative)
                    if patient.index in late and relative == SECOND_EVALUATION_WEEK + 2:
                        self.act(patient, SECOND_EVALUATION_WEEK)  # … and records it two weeks late
                progress.advance(task)
                self.advance(7)
        return patients
