"""From the intake events of one episode to the guideline engine's facts. Pure: no I/O, no clock.

The pathway keeps its own copy of the intake events it consumed; the facts are rebuilt from that copy for
the day of the event being handled, so a replay decides exactly as the first run did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any, TypeVar, overload

from services.pathway.domain.guideline import EpisodeFacts, facts
from services.pathway.domain.guideline.memo import memoised_on_identity
from shared.events.clinical import Measurement
from shared.events.intake import (
    ActivityLogged,
    AssessmentCompleted,
    EpisodeClosed,
    HistoryTaken,
    MeasurementRecorded,
    ReferralReceived,
    ReportConsentGiven,
    ReportObjectionRecorded,
    TreatmentPlanAgreed,
)
from shared.events.payload import EventPayload

E = TypeVar("E", bound=EventPayload)

# The engine's rule set presupposes a verwijzer (2003: before direct access existed). A direct-access
# patient is screened by the physiotherapist, who contacts the GP when the guideline asks to contact "the
# verwijzer"; the screening itself stands in for the referral letter's contents.
DIRECT_ACCESS_VERWIJZER = "huisarts"
# The argument for a deviation is free text and travels sealed; the engine only needs to know it exists.
ARGUED_DEVIATION = "argued; the argument is kept sealed at intake"


def referral_facts(referral: ReferralReceived) -> dict[str, Any]:
    if referral.route == "direct_access":
        return {
            "verwijzer": DIRECT_ACCESS_VERWIJZER,
            "request_for_help_stated": True,
            "reason_for_referral_stated": True,
            "course_of_functioning_stated": True,
            "additional_examinations_stated": True,
            "prognosis_stated": True,
        }
    return {
        "verwijzer": "medisch_specialist" if referral.route == "specialist_referral" else "huisarts",
        "request_for_help_stated": referral.has_request_for_help,
        "reason_for_referral_stated": referral.has_reason,
        "course_of_functioning_stated": referral.has_course_of_functioning,
        "additional_examinations_stated": referral.has_earlier_examinations,
        "prognosis_stated": referral.has_prognosis,
    }


def measurements_by_day(measurements: Sequence[Measurement], decision_date: date) -> tuple[facts.Measurement, ...]:
    """The measurements as the guideline takes them: one per day, in the order recorded, an instrument recorded
    again that day replacing the earlier score (intake records a second measurement of a day, e.g. a correction
    or the PSK after the QBPDS); a measurement dated after the decision is no fact yet."""
    by_day: dict[date, list[Measurement]] = {}
    for measurement in measurements:
        if measurement.taken_on <= decision_date:
            by_day.setdefault(measurement.taken_on, []).append(measurement)
    return tuple(_day_measurement(*day) for day in by_day.values())


# Every decision of an episode makes these again from the same intake events: each is made once per event
# (`memoised_on_identity`).


@memoised_on_identity
def _day_measurement(*recorded: Measurement) -> facts.Measurement:
    merged: dict[str, Any] = {}
    for measurement in recorded:
        merged.update(measurement.model_dump(exclude_none=True))
    return facts.Measurement.model_validate(merged)


@memoised_on_identity
def _intake_facts(
    referral: ReferralReceived, history: HistoryTaken, assessment: AssessmentCompleted
) -> Mapping[str, Any]:
    """What the referral, the history and the assessment make of the facts, whatever the day."""
    return MappingProxyType(
        {
            "onset_date": history.onset_date,
            "referral": facts.Referral.model_validate(referral_facts(referral)),
            "previous_episodes": tuple(
                facts.PastEpisode.model_validate(p.model_dump()) for p in history.previous_episodes
            ),
            "scope": facts.ScopeFindings.model_validate(assessment.scope.model_dump()),
            "course": facts.CourseObservations.model_validate(history.course.model_dump()),
            "hindering_factors": tuple(
                facts.HinderingFactor.model_validate(f.model_dump()) for f in history.hindering_factors
            ),
            "coping": history.coping,
            "care_context": facts.CareContext.model_validate(history.care_context.model_dump()),
        }
    )


def build_facts(events: Sequence[EventPayload], decision_date: date) -> EpisodeFacts | None:
    """The facts on `decision_date`, or None while the referral, history or assessment is missing."""
    referral = next((e for e in events if isinstance(e, ReferralReceived)), None)
    history = _last(events, HistoryTaken)
    assessment = _last(events, AssessmentCompleted)
    if referral is None or history is None or assessment is None:
        return None
    plan = _last(events, TreatmentPlanAgreed)
    closed = _last(events, EpisodeClosed)
    consent = _last(events, (ReportConsentGiven, ReportObjectionRecorded))
    measurements = measurements_by_day(
        [e.measurement for e in events if isinstance(e, MeasurementRecorded)], decision_date
    )
    episode: dict[str, Any] = {
        **_intake_facts(referral, history, assessment),
        "decision_date": decision_date,
        "measurements": measurements,
    }
    # A plan whose first session lies ahead (agreed today, starting next week) is no treatment fact yet: the
    # guideline judges a treatment from its start, and a decision after that day weighs it.
    if plan is not None and plan.start_date <= decision_date:
        graded = None
        if plan.graded_activity is not None:
            graded = {
                **plan.graded_activity.model_dump(),
                # A day logged ahead (a planned day not come yet) is no fact at this decision; a later one weighs it.
                "logged_days": [
                    e.day.model_dump() for e in events if isinstance(e, ActivityLogged) and e.day.on <= decision_date
                ],
            }
        episode["treatment"] = {
            "start_date": plan.start_date,
            "planned_sessions": plan.planned_sessions,
            "interventions": [
                {
                    "modality": i.modality,
                    "main_component": i.main_component,
                    "deviation_rationale": ARGUED_DEVIATION if i.deviation_argued else None,
                }
                for i in plan.interventions
            ],
            "graded_activity": graded,
        }
    if closed is not None:
        episode["closing"] = {
            "reason": closed.reason,
            "closed_on": closed.closed_on,
            "gp_report_consent": "objected" if isinstance(consent, ReportObjectionRecorded) else "given",
        }
    return EpisodeFacts.model_validate(episode)


@overload
def _last(events: Sequence[EventPayload], kind: type[E]) -> E | None: ...
@overload
def _last(events: Sequence[EventPayload], kind: tuple[type[EventPayload], ...]) -> EventPayload | None: ...
def _last(events: Sequence[EventPayload], kind: type[E] | tuple[type[EventPayload], ...]) -> EventPayload | None:
    found: EventPayload | None = None
    for event in events:
        if isinstance(event, kind):
            found = event
    return found
