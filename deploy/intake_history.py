"""Episodes as a practice records them, generated: each one's intake events at their moments, from a small spec
(when referred, onset, course, scope, evaluations and their QBPDS, closing). The what-if's tests put them through
the real consumer or straight into a replay; its benchmark writes a large network's year of them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from deploy.cohort import CARE as CARE_ANSWERS
from deploy.cohort import DEVIATING, NORMAL
from deploy.cohort import WITHIN as WITHIN_FINDINGS
from shared.events import clinical
from shared.events.intake import (
    AssessmentCompleted,
    EpisodeClosed,
    HistoryTaken,
    MeasurementRecorded,
    TreatmentPlanAgreed,
    sample_referral,
)
from shared.events.payload import EventPayload

FIRST_DAY = date(2026, 3, 2)
NORMAL_COURSE = clinical.CourseObservations(**NORMAL)
DEVIATING_COURSE = clinical.CourseObservations(**DEVIATING)
CARE = clinical.CareContext(**CARE_ANSWERS)
WITHIN = clinical.ScopeFindings(**WITHIN_FINDINGS)
RADICULAR = clinical.ScopeFindings(
    general_illness_signs=(),
    radicular_signs_suspected=True,
    neurological_exam=clinical.NeurologicalExam(
        lasegue_positive=True,
        muscle_strength_reduced=False,
        sensibility_disturbed=False,
        tendon_reflexes_abnormal=False,
    ),
    specific_cause_suspected=False,
)


def at(day: date, minute: int = 0) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC) + timedelta(minutes=minute)


def qbpds(level: int, on: date) -> clinical.Measurement:
    return clinical.Measurement(taken_on=on, qbpds=clinical.QbpdsAnswers(items=(level,) * 20), nprs=5)


def episode_events(spec: dict, n: int, first_day: date = FIRST_DAY) -> list[tuple[datetime, EventPayload]]:
    """One episode's intake events at their moments, as a practice records them (referred `spec["referred"]` days
    after `first_day`)."""
    referred = first_day + timedelta(days=spec["referred"])
    intake_day = referred + timedelta(days=1)
    start = intake_day + timedelta(days=spec["start_after"])
    minute = spec["minute"]
    events: list[tuple[datetime, EventPayload]] = [
        (at(referred, minute), sample_referral(f"0412{n % 3:04d}")),
        (
            at(intake_day, minute),
            HistoryTaken(
                taken_on=intake_day,
                onset_date=referred - timedelta(days=spec["onset_days"]),
                course=DEVIATING_COURSE if spec["deviating"] else NORMAL_COURSE,
                care_context=CARE,
            ),
        ),
        (
            at(intake_day, minute + 1),
            AssessmentCompleted(assessed_on=intake_day, scope=RADICULAR if spec["radicular"] else WITHIN),
        ),
        (
            at(intake_day, minute + 2),
            MeasurementRecorded(occasion="intake", measurement=qbpds(spec["baseline"], intake_day)),
        ),
        (at(intake_day, minute + 3), TreatmentPlanAgreed(agreed_on=intake_day, start_date=start)),
    ]
    last = start
    for number, (offset, level) in enumerate(sorted(spec["evaluations"], key=lambda e: e[0]), start=1):
        on = start + timedelta(days=offset)
        last = on
        events.append(
            (
                at(on, minute + 10),
                MeasurementRecorded(occasion="evaluation", evaluation_number=number, measurement=qbpds(level, on)),
            )
        )
    if spec["closed_after"] is not None:
        closed = last + timedelta(days=spec["closed_after"])
        events.append((at(closed, minute + 20), EpisodeClosed(closed_on=closed, reason="goals_met")))
    return events
