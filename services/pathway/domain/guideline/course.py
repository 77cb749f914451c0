"""The course (beloop) rule: normaal, afwijkend, or not yet classifiable before three weeks.

"Not yet classifiable" is represented as ``beloop=None`` with code ``COURSE_NOT_YET_CLASSIFIABLE`` and the
date from which the course can be classified, not as a third ``Beloop`` member. The guideline knows exactly
two courses; "not yet" is the absence of a classification, not a kind of course. Keeping it out of the enum
means code that branches on ``Beloop`` stays two-armed and cannot store "unknown" as if it were a course,
while ``None`` forces every caller to handle the missing classification explicitly.
"""

from datetime import date, timedelta

from pydantic import Field

from .decisions import Decision
from .facts import CourseObservations, EpisodeFacts
from .reason_codes import ReasonCode
from .versions import RuleSet
from .vocabulary import AnalgesicUse, Beloop, Trend

_INDICATION_TEXT: dict[ReasonCode, tuple[str, str]] = {
    ReasonCode.INDICATION_COMPLAINTS_SAME_OR_INCREASING: (
        "de klachten blijven gelijk of nemen toe",
        "complaints stay the same or increase",
    ),
    ReasonCode.INDICATION_REST_MOMENTS_INCREASING: (
        "het aantal rustmomenten op een dag neemt toe",
        "the number of rest moments per day increases",
    ),
    ReasonCode.INDICATION_ANALGESICS_CONTINUING_OR_INCREASING: (
        "het gebruik van analgetica houdt aan of neemt toe",
        "use of analgesics continues or increases",
    ),
    ReasonCode.INDICATION_ACTIVITIES_NOT_RESUMED: (
        "activiteiten en/of participatie worden helemaal niet hervat",
        "activities and/or participation are not resumed at all",
    ),
    ReasonCode.INDICATION_ASKS_FOR_SPECIALIST: (
        "patiënt vraagt nadrukkelijk om medisch-specialistisch onderzoek en behandeling",
        "the patient explicitly asks for medical-specialist examination and treatment",
    ),
}


class CourseDecision(Decision):
    """The course of limitations and participation problems."""

    beloop: Beloop | None = Field(
        description="normaal or afwijkend; null while the course is not yet classifiable.", examples=["normaal"]
    )
    indications: tuple[ReasonCode, ...] = Field(
        description="Indications of a deviating course that are present (I.IV Analyse)."
    )
    observed_days: int = Field(ge=0, description="Length of the complaint period observed, in days.")
    classifiable_on: date = Field(description="First day on which the course can be classified.")


def deviating_indications(observed: CourseObservations) -> tuple[ReasonCode, ...]:
    """The five indications of I.IV that are present, in the guideline's order."""
    present = {
        ReasonCode.INDICATION_COMPLAINTS_SAME_OR_INCREASING: observed.complaints in (Trend.SAME, Trend.INCREASING),
        ReasonCode.INDICATION_REST_MOMENTS_INCREASING: observed.rest_moments_per_day is Trend.INCREASING,
        ReasonCode.INDICATION_ANALGESICS_CONTINUING_OR_INCREASING: observed.analgesic_use
        in (AnalgesicUse.CONTINUING, AnalgesicUse.INCREASING),
        ReasonCode.INDICATION_ACTIVITIES_NOT_RESUMED: not observed.activities_or_participation_resumed,
        ReasonCode.INDICATION_ASKS_FOR_SPECIALIST: observed.asks_for_specialist_care,
    }
    return tuple(code for code, yes in present.items() if yes)


def _listing(codes: tuple[ReasonCode, ...], language: int) -> str:
    return "; ".join(_INDICATION_TEXT[code][language] for code in codes)


def decide_course(facts: EpisodeFacts, rules: RuleSet) -> CourseDecision:
    observed_days = (facts.decision_date - facts.onset_date).days
    classifiable_on = facts.onset_date + timedelta(days=rules.course_observation_days)
    indications = deviating_indications(facts.course)
    weeks = rules.course_observation_days // 7
    sections = rules.sections

    # The consensus rule calls a course deviating when *within* three weeks there was no increase of activities
    # and participation (I.IV): an increase already seen is the normal course, whatever day it is. The
    # indications are tied to a complaint period of three weeks, so before that neither a present indication
    # nor the absence of an increase so far can classify the course; they are reported for the check-up.
    early = observed_days < rules.course_observation_days
    if early and facts.course.activities_participation_increased and not indications:
        beloop, code, ref = (
            Beloop.NORMAAL,
            ReasonCode.COURSE_NORMAL_EARLY_INCREASE,
            sections.normal_and_deviating_course,
        )
        nl = (
            f"Activiteiten en participatie nemen na {observed_days} dagen al toe, binnen {weeks} weken, en er zijn "
            "geen aanwijzingen voor afwijkend beloop: normaal beloop."
        )
        en = (
            f"Activities and participation already increase after {observed_days} days, within {weeks} weeks, "
            "and there are no indications of a deviating course: normal course."
        )
    elif early:
        seen_nl = f" Nu al aanwezig: {_listing(indications, 0)}." if indications else ""
        seen_en = f" Already present: {_listing(indications, 1)}." if indications else ""
        beloop, code, ref = None, ReasonCode.COURSE_NOT_YET_CLASSIFIABLE, sections.normal_and_deviating_course
        nl = (
            f"Klachtenperiode van {observed_days} dagen is korter dan {weeks} weken: het beloop is nog niet "
            f"te beoordelen, wel vanaf {classifiable_on.isoformat()}.{seen_nl}"
        )
        en = (
            f"Complaint period of {observed_days} days is shorter than {weeks} weeks: the course cannot be "
            f"classified yet, only from {classifiable_on.isoformat()}.{seen_en}"
        )
    elif not facts.course.activities_participation_increased:
        beloop, code, ref = (
            Beloop.AFWIJKEND,
            ReasonCode.COURSE_DEVIATING_NO_INCREASE,
            (sections.normal_and_deviating_course),
        )
        nl = f"Binnen {weeks} weken geen toename van activiteiten en participatie: afwijkend beloop."
        en = f"No increase in activities and participation within {weeks} weeks: deviating course."
    elif indications:
        beloop, code, ref = Beloop.AFWIJKEND, ReasonCode.COURSE_DEVIATING_INDICATIONS, sections.analysis
        nl = f"Aanwijzingen voor een afwijkend beloop: {_listing(indications, 0)}."
        en = f"Indications of a deviating course: {_listing(indications, 1)}."
    else:
        beloop, code, ref = Beloop.NORMAAL, ReasonCode.COURSE_NORMAL, sections.normal_and_deviating_course
        nl = "Activiteiten en participatie nemen toe en er zijn geen aanwijzingen voor afwijkend beloop: normaal."
        en = "Activities and participation increase and there are no indications of a deviating course: normal."
    return CourseDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=ref,
        rule_version=rules.version,
        beloop=beloop,
        indications=indications,
        observed_days=observed_days,
        classifiable_on=classifiable_on,
    )
