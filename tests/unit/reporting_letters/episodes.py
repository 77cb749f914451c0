"""One episode's events as the letters follow them, with everything a letter can say: a chronic deviating
course, a hindering factor, screening, QBPDS/NPRS/PSK at intake and three evaluations, graded activity, and
a recovery to QBPDS 0; and the register's parties and intake's personal data for showing it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from services.reporting.domain.letters.content import LetterFacts, fold
from shared.events import clinical
from shared.events.intake import (
    ActivityLogged,
    AssessmentCompleted,
    EpisodeClosed,
    HistoryTaken,
    MeasurementRecorded,
    SessionRecorded,
    TreatmentPlanAgreed,
    sample_referral,
)
from shared.events.pathway import (
    BeloopClassified,
    EscalatedToReferrer,
    EscalationReason,
    EvaluationCompleted,
    EvaluationScheduled,
    GuidelineReason,
    TreatmentPlanProposed,
)
from shared.practice_register import Address, LetterParties, Physiotherapist, PracticeEntry, ReferrerEntry

DAY = date(2026, 11, 23)
ONSET = date(2026, 9, 20)  # 64 days before: subacute at intake, chronic (> 84 days) three weeks later
DEVIATING = GuidelineReason(
    code="course.deviating",
    reason_nl="Binnen 3 weken geen toename van activiteiten en participatie: afwijkend beloop.",
    reason_en="-",
    section="I.IV Beloop",
)
INCREASED = GuidelineReason(code="evaluation.increased", reason_nl="Toename.", reason_en="-", section="II.III")
PERSONAL = {
    "patient": {"name": "Johanna de Vries", "birth_date": "1968-04-12", "bsn": "999990019"},
    "request_for_help": "Weer kunnen fietsen naar het werk zonder pijn.",
    "goals": "Weer een uur wandelen; weer 10 km fietsen.",
}
THERAPIST = Physiotherapist(agb="04999001", big="19012345601", name="M. de Boer")
PARTIES = LetterParties(
    practice_agb="04123456",
    practice=PracticeEntry(
        name="Fysiotherapie De Linde",
        address=Address(street="Lindelaan", house_number="12", postcode="3511AB", city="Utrecht"),
        phone="030-1234567",
        email="info@delinde.example.nl",
        physiotherapists=[THERAPIST],
    ),
    therapist_agb=THERAPIST.agb,
    therapist=THERAPIST,
    referrer_agb="01234567",
    referrer=ReferrerEntry(
        name="A. Jansen",
        practice_name="Huisartsenpraktijk Oudwijk",
        address=Address(street="Oudwijk", house_number="3", postcode="3581 TA", city="Utrecht"),
    ),
)
UNREGISTERED = LetterParties(
    practice_agb="04123456", practice=None, therapist_agb=None, therapist=None, referrer_agb="01234567", referrer=None
)


def measured(level: int, on: date, number: int | None = None, psk: int = 7) -> MeasurementRecorded:
    return MeasurementRecorded(
        occasion="intake" if number is None else "evaluation",
        evaluation_number=number,
        measurement=clinical.Measurement(
            taken_on=on,
            qbpds=clinical.QbpdsAnswers(items=(level,) * 20),
            nprs=2 * level,
            psk=clinical.PskAnswers(
                scale="0-10",
                activities=(
                    clinical.PskActivityScore(activity="fietsen", score=psk),
                    clinical.PskActivityScore(activity="wandelen", score=psk),
                ),
            ),
        ),
    )


def classified(on: date, duration: str, beloop: str | None = "afwijkend") -> BeloopClassified:
    return BeloopClassified(
        beloop=beloop,
        classifiable_on=on,
        duration_class=duration,
        recurrent=False,
        indications=(),
        decided_on=on,
        reason=DEVIATING,
    )


def evaluation(number: int, increased: bool = True, escalate: bool = False) -> EvaluationCompleted:
    return EvaluationCompleted(
        evaluation_number=number,
        activities_participation_increased=increased,
        treatment_days=21 * number,
        escalate_to_verwijzer=escalate,
        next_evaluation_due=DAY + timedelta(days=21 * (number + 1)),
        decided_on=DAY + timedelta(days=21 * number),
        reason=INCREASED,
    )


def course() -> clinical.CourseObservations:
    return clinical.CourseObservations(
        complaints="same",
        rest_moments_per_day="same",
        analgesic_use="continuing",
        activities_or_participation_resumed=False,
        asks_for_specialist_care=False,
        activities_participation_increased=False,
    )


def intake_events() -> list:
    """Referral, history, examination, classification and measurements: no plan yet."""
    return [
        sample_referral(referred_on=DAY - timedelta(days=3), symptom_onset=ONSET),
        HistoryTaken(
            taken_on=DAY,
            onset_date=ONSET,
            course=course(),
            hindering_factors=(
                clinical.HinderingFactor(kind="fear_of_movement", influence="yes"),
                clinical.HinderingFactor(kind="work_situation", influence="no"),
            ),
            coping="inadequate",
            care_context=clinical.CareContext(
                weight_or_nutrition_concern=False, pain_medication_questions=False, work_problems=True
            ),
        ),
        AssessmentCompleted(
            assessed_on=DAY,
            scope=clinical.ScopeFindings(
                general_illness_signs=(),
                radicular_signs_suspected=False,
                neurological_exam=None,
                specific_cause_suspected=False,
            ),
        ),
        classified(DAY, "subacute"),
        measured(3, DAY),
    ]


def plan_events() -> list:
    programme = clinical.GradedActivityProgramme(
        start_date=DAY,
        days_to_goal=42,
        activities=(
            clinical.GradedActivity(
                activity="wandelen",
                intensity_unit="km/u",
                baseline=(clinical.ActivityLevel(duration_minutes=10, frequency_per_day=1, intensity=3),),
                goal=clinical.ActivityLevel(duration_minutes=40, frequency_per_day=2, intensity=5),
            ),
        ),
    )
    return [
        TreatmentPlanAgreed(
            agreed_on=DAY,
            start_date=DAY,
            planned_sessions=9,
            graded_activity=programme,
            interventions=(
                clinical.PlannedIntervention(modality="graded_activity", main_component=True),
                clinical.PlannedIntervention(modality="information_advice", main_component=False),
            ),
        ),
        TreatmentPlanProposed(
            physiotherapy_indicated=True,
            fits_guideline=True,
            components=("information_advice", "advice_stay_active", "time_contingent_activity_buildup"),
            not_advised=(),
            max_sessions=None,
            check_up_on=None,
            flagged_modalities=(),
            decided_on=DAY,
            reason=DEVIATING,
        ),
        EvaluationScheduled(
            timer_id="00000000-0000-4000-8000-0000000000aa",
            evaluation_number=1,
            due_at=datetime.combine(DAY + timedelta(days=21), time(9), tzinfo=UTC),
        ),
    ]


def treatment_events() -> list:
    """Sessions, logged activity, three evaluations and a recovery to QBPDS 0; closed with goals met."""
    events: list = [SessionRecorded(session_on=DAY, session_number=1)]
    events += [
        ActivityLogged(
            day=clinical.LoggedDay(
                activity="wandelen",
                on=DAY + timedelta(days=n),
                duration_minutes=10 + n // 2,
                frequency_per_day=1,
                intensity=3,
            )
        )
        for n in (2, 9, 16, 23, 30, 37)
    ]
    events += [
        measured(2, DAY + timedelta(days=21), 1, psk=5),
        evaluation(1),
        classified(DAY + timedelta(days=21), "chronic", "normaal"),
        measured(1, DAY + timedelta(days=42), 2, psk=3),
        evaluation(2),
        SessionRecorded(session_on=DAY + timedelta(days=56), session_number=8),
        measured(0, DAY + timedelta(days=63), 3, psk=1),  # its EvaluationCompleted may come after closing
        EpisodeClosed(closed_on=DAY + timedelta(days=63), reason="goals_met"),
    ]
    return events


def whole_episode() -> list:
    return [*intake_events(), *plan_events(), *treatment_events()]


def escalation(reason: EscalationReason = EscalationReason.NO_PROGRESS_AFTER_THREE_WEEKS) -> EscalatedToReferrer:
    return EscalatedToReferrer(
        reason=reason,
        decision_code="evaluation.no_progress",
        explanation_nl="Na drie weken behandeling zijn activiteiten en participatie niet toegenomen.",
        explanation_en="-",
        guideline_section="II.III Evaluatie",
        referrer_agb="01234567",
    )


def folded(events: list) -> LetterFacts:
    facts = LetterFacts()
    for event in events:
        facts = fold(facts, event)
    return facts
