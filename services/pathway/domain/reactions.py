"""What the pathway records when the guideline's decisions for an episode change. Pure: the engine's
assessment and what the pathway already recorded go in, the new events come out.

The pathway's memory is its own event stream: a decision is recorded when it differs from the last one
recorded, so handling the same intake event twice, or replaying, records nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.pathway.domain.guideline import GuidelineAssessment
from services.pathway.domain.guideline.decisions import Decision
from services.pathway.domain.guideline.plan import PlanFinding
from services.pathway.domain.guideline.vocabulary import Modality
from shared.events.intake import MeasurementRecorded
from shared.events.pathway import (
    BeloopClassified,
    ConsultRequested,
    EscalatedToReferrer,
    EscalationReason,
    EvaluationCompleted,
    FlaggedModality,
    GuidelineReason,
    TreatmentPlanProposed,
)
from shared.events.payload import EventPayload

SCOPE_ESCALATIONS = {
    "scope.outside.general_illness_signs": EscalationReason.GENERAL_ILLNESS_SIGNS,
    "scope.outside.positive_neurological_exam": EscalationReason.RADICULAR_SIGNS,
    "scope.outside.specific_cause_suspected": EscalationReason.SUSPECTED_SPECIFIC_CAUSE,
}


def reason_of(decision: Decision) -> GuidelineReason:
    return GuidelineReason(
        code=decision.code.value,
        reason_nl=decision.reason_nl,
        reason_en=decision.reason_en,
        section=decision.reference.label,
    )


@dataclass
class PathwayMemory:
    """What the pathway recorded for one episode, rebuilt from its own events."""

    course: tuple[object, ...] | None = None
    plan: tuple[object, ...] | None = None
    escalations: set[EscalationReason] = field(default_factory=set)
    consults: set[str] = field(default_factory=set)
    evaluations: set[int] = field(default_factory=set)

    @classmethod
    def rebuild(cls, events: Iterable[EventPayload]) -> PathwayMemory:
        memory = cls()
        memory.see_all(events)
        return memory

    def see_all(self, events: Iterable[EventPayload]) -> None:
        """Take in the pathway's events that came after those already seen, in their order."""
        for event in events:
            match event:
                case BeloopClassified():
                    self.course = _course_key(event)
                case TreatmentPlanProposed():
                    self.plan = _plan_key(event)
                case EscalatedToReferrer():
                    self.escalations.add(event.reason)
                case ConsultRequested():
                    self.consults.add(event.discipline)
                case EvaluationCompleted():
                    self.evaluations.add(event.evaluation_number)


# What makes a course or a plan another one (not its wording or the day it was decided): `react` computes the same
# key from a new assessment, so an event is built only when it records a change.


def _course_key(event: BeloopClassified) -> tuple[object, ...]:
    return (event.beloop, event.duration_class, event.recurrent, event.indications)


def _assessed_course_key(assessment: GuidelineAssessment) -> tuple[object, ...]:
    course = assessment.course
    return (
        course.beloop.value if course.beloop else None,
        assessment.duration.duration_class.value,
        assessment.recurrence.recurrent,
        tuple(code.value for code in course.indications),
    )


def _plan_key(event: TreatmentPlanProposed) -> tuple[object, ...]:
    return (
        event.physiotherapy_indicated,
        event.fits_guideline,
        event.components,
        event.not_advised,
        event.max_sessions,
        tuple(f.modality for f in event.flagged_modalities),
    )


def _flagged(assessment: GuidelineAssessment) -> list[tuple[Modality, PlanFinding]]:
    """The planned interventions the guideline flags, with what it says of each."""
    return [(f.modality, f) for f in assessment.plan_check if f.modality is not None and f.severity.value != "in_line"]


def react(
    memory: PathwayMemory, assessment: GuidelineAssessment, trigger: EventPayload, referrer_agb: str | None
) -> list[EventPayload]:
    decided_on = assessment.decision_date
    out: list[EventPayload] = []

    course_key = _assessed_course_key(assessment)
    if course_key != memory.course:
        beloop, duration_class, recurrent, indications = course_key
        out.append(
            BeloopClassified(
                beloop=beloop,
                classifiable_on=assessment.course.classifiable_on,
                duration_class=duration_class,
                recurrent=recurrent,
                indications=indications,
                decided_on=decided_on,
                reason=reason_of(assessment.course),
            )
        )

    if isinstance(trigger, MeasurementRecorded) and trigger.evaluation_number is not None:
        evaluation = assessment.evaluation
        if evaluation is not None and trigger.evaluation_number not in memory.evaluations:
            out.append(
                EvaluationCompleted(
                    evaluation_number=trigger.evaluation_number,
                    activities_participation_increased=evaluation.activities_participation_increased,
                    treatment_days=evaluation.treatment_days,
                    escalate_to_verwijzer=evaluation.escalate_to_verwijzer,
                    next_evaluation_due=evaluation.next_evaluation_due,
                    decided_on=decided_on,
                    reason=reason_of(evaluation),
                )
            )

    for reason, decision in _escalations(assessment):
        if reason not in memory.escalations:
            out.append(
                EscalatedToReferrer(
                    reason=reason,
                    decision_code=decision.code.value,
                    explanation_nl=decision.reason_nl,
                    explanation_en=decision.reason_en,
                    guideline_section=decision.reference.label,
                    referrer_agb=referrer_agb,
                )
            )

    plan = assessment.treatment_plan
    if plan is not None:
        indication = assessment.indication
        components = tuple(c.value for c in plan.components)
        not_advised = tuple(c.value for c in plan.not_advised)
        flagged = _flagged(assessment)
        plan_key = (
            indication.physiotherapy_indicated,
            indication.fits_guideline,
            components,
            not_advised,
            plan.max_sessions,
            tuple(modality.value for modality, _ in flagged),
        )
        if plan_key != memory.plan:
            out.append(
                TreatmentPlanProposed(
                    physiotherapy_indicated=indication.physiotherapy_indicated,
                    fits_guideline=indication.fits_guideline,
                    components=components,
                    not_advised=not_advised,
                    max_sessions=plan.max_sessions,
                    check_up_on=plan.check_up_on,
                    flagged_modalities=tuple(
                        FlaggedModality(
                            modality=modality.value,
                            advice=f.advice.value if f.advice else "",
                            severity=f.severity.value,
                            reason=reason_of(f),
                        )
                        for modality, f in flagged
                    ),
                    decided_on=decided_on,
                    reason=reason_of(plan),
                )
            )

    for consult in assessment.consults:
        if consult.hulpverlener.value not in memory.consults:
            out.append(
                ConsultRequested(
                    discipline=consult.hulpverlener.value, decided_on=decided_on, reason=reason_of(consult)
                )
            )
    return out


def _escalations(assessment: GuidelineAssessment) -> list[tuple[EscalationReason, Decision]]:
    found: list[tuple[EscalationReason, Decision]] = []
    if assessment.scope.contact_verwijzer:
        reason = SCOPE_ESCALATIONS.get(assessment.scope.code.value)
        if reason is not None:
            found.append((reason, assessment.scope))
    if assessment.referral.contact_verwijzer:
        found.append((EscalationReason.INCOMPLETE_REFERRAL, assessment.referral))
    if assessment.hindering_factors.contact_verwijzer:
        found.append((EscalationReason.FACTORS_BEYOND_PHYSIOTHERAPY, assessment.hindering_factors))
    if assessment.evaluation is not None and assessment.evaluation.escalate_to_verwijzer:
        found.append((EscalationReason.NO_PROGRESS_AFTER_THREE_WEEKS, assessment.evaluation))
    return found
