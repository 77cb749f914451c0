"""Rules on the indication for physiotherapy, the treatment plan by course and duration, and the plan check."""

from datetime import date

from pydantic import Field

from .course import CourseDecision
from .decisions import Decision
from .duration import DurationDecision
from .facts import EpisodeFacts, PlannedIntervention
from .reason_codes import ReasonCode
from .scope import HinderingFactorsDecision, ScopeDecision
from .versions import RuleSet
from .vocabulary import (
    Beloop,
    DurationClass,
    FactorKind,
    FindingSeverity,
    Modality,
    ModalityAdvice,
    PhysiotherapyInfluence,
    PlanComponent,
    ScopeStatus,
)


class IndicationDecision(Decision):
    """Is there an indication for physiotherapy, and does the patient fit the guideline (I.IV)?"""

    physiotherapy_indicated: bool | None = Field(
        description="true for a deviating course; false for a normal course (one guidance session only); "
        "null while scope or course is still open."
    )
    fits_guideline: bool | None = Field(description="null while the neurological exam is outstanding.")


class TreatmentPlanDecision(Decision):
    """What the treatment consists of, given course and duration."""

    components: tuple[PlanComponent, ...] = Field(description="What the plan contains.")
    not_advised: tuple[PlanComponent, ...] = Field(description="What the plan should leave out, and why.")
    max_sessions: int | None = Field(description="Upper bound on sessions, where the guideline sets one.")
    check_up_on: date | None = Field(description="Check-up date (controleafspraak), where one is planned.")
    bed_rest_max_days: int | None = Field(description="If bed rest is unavoidable, at most this many days.")
    targeted_factors: tuple[FactorKind, ...] = Field(
        description="Hindering factors within reach of physiotherapy that the plan addresses."
    )


class PlanFinding(Decision):
    """One remark of the plan check."""

    modality: Modality | None = Field(description="The intervention concerned; null for plan-wide remarks.")
    advice: ModalityAdvice | None = Field(description="What the guideline says about the intervention.")
    severity: FindingSeverity = Field(description="in_line, caution, not_advised or not_covered.")


def decide_indication(scope: ScopeDecision, course: CourseDecision, rules: RuleSet) -> IndicationDecision:
    s = rules.sections
    if scope.status is ScopeStatus.OUTSIDE:
        code, indicated, fits, ref = ReasonCode.INDICATION_NOT_APPLICABLE_OUTSIDE_GUIDELINE, None, False, s.analysis
        nl = "De patiënt past niet binnen de richtlijn; er wordt geen behandelplan volgens deze richtlijn opgesteld."
        en = "The patient does not fit the guideline; no treatment plan under this guideline is made."
    elif scope.status is ScopeStatus.UNDETERMINED:
        code, indicated, fits, ref = ReasonCode.INDICATION_PENDING_NEUROLOGICAL_EXAM, None, None, s.examination
        nl = "Of de patiënt binnen de richtlijn past, hangt af van het neurologisch onderzoek."
        en = "Whether the patient fits the guideline depends on the neurological exam."
    elif course.beloop is None:
        code, indicated, fits, ref = ReasonCode.INDICATION_PENDING_COURSE, None, True, s.treatment_normal_course
        nl = (
            "Het beloop is nog niet te beoordelen; tot dan geldt de begeleiding bij normaal beloop, met een "
            f"controleafspraak op {course.classifiable_on.isoformat()}."
        )
        en = (
            "The course cannot be classified yet; until then the guidance for a normal course applies, with a "
            f"check-up on {course.classifiable_on.isoformat()}."
        )
    elif course.beloop is Beloop.NORMAAL:
        code, indicated, fits, ref = ReasonCode.INDICATION_SINGLE_SESSION, False, True, s.role_of_physiotherapist
        nl = "Normaal beloop: fysiotherapeutische behandeling is niet geïndiceerd, alleen één zitting ter begeleiding."
        en = "Normal course: physiotherapy is not indicated beyond a single guidance session."
    else:
        code, indicated, fits, ref = ReasonCode.INDICATION_PHYSIOTHERAPY, True, True, s.role_of_physiotherapist
        nl = "Afwijkend beloop binnen de richtlijn: fysiotherapie is geïndiceerd."
        en = "Deviating course within the guideline: physiotherapy is indicated."
    return IndicationDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=ref,
        rule_version=rules.version,
        physiotherapy_indicated=indicated,
        fits_guideline=fits,
    )


_GUIDANCE = (
    PlanComponent.INFORMATION_ADVICE,
    PlanComponent.ADVICE_STAY_ACTIVE,
    PlanComponent.ADVICE_NO_BED_REST,
    PlanComponent.OPTIONAL_CHECK_UP,
    PlanComponent.INFORM_VERWIJZER_FINDINGS_AND_ADVICE,
)


def decide_treatment_plan(
    facts: EpisodeFacts,
    scope: ScopeDecision,
    duration: DurationDecision,
    course: CourseDecision,
    factors: HinderingFactorsDecision,
    rules: RuleSet,
) -> TreatmentPlanDecision | None:
    """The plan by course and duration; none while the patient is outside or not yet known to be inside."""
    if scope.status is not ScopeStatus.WITHIN:
        return None
    s = rules.sections
    # II.II: the plan addresses the factors "binnen het bereik van de fysiotherapie" (fully or partly); one
    # physiotherapy cannot influence at all goes to the verwijzer only (HinderingFactorsDecision.contact_verwijzer).
    within_reach = {f.kind for f in facts.hindering_factors if f.influence is not PhysiotherapyInfluence.NO}
    targeted = tuple(
        kind
        for kind in dict.fromkeys((*factors.influenceable, *factors.not_only_physiotherapy))
        if kind in within_reach
    )
    sessions: int | None = None
    check_up: date | None = None
    bed_rest: int | None = None
    not_advised: tuple[PlanComponent, ...] = ()
    components: tuple[PlanComponent, ...]
    if course.beloop is None:
        code, ref, components = ReasonCode.PLAN_INTERIM_UNTIL_COURSE_CLASSIFIABLE, s.treatment_normal_course, _GUIDANCE
        sessions, check_up, targeted = rules.normal_course_max_sessions, course.classifiable_on, ()
        nl = (
            "Voorlopig: één zitting informatie en advies (actief blijven, bedrust is niet zinvol) en een "
            f"controleafspraak op {check_up.isoformat()} om het beloop te beoordelen."
        )
        en = (
            "Interim: one session of information and advice (stay active, bed rest is not useful) and a "
            f"check-up on {check_up.isoformat()} to classify the course."
        )
    elif course.beloop is Beloop.NORMAAL:
        code, ref, components = ReasonCode.PLAN_NORMAL_SINGLE_SESSION, s.treatment_normal_course, _GUIDANCE
        sessions, targeted = rules.normal_course_max_sessions, ()
        nl = (
            "Eén zitting informatie en advies (actief blijven; bedrust is niet zinvol), eventueel met "
            "oefeningen ter ondersteuning en één controleafspraak; geen verdere afspraken. De verwijzer wordt "
            "geïnformeerd over de bevindingen en de adviezen."
        )
        en = (
            "One session of information and advice (stay active; bed rest is not useful), possibly supported "
            "by exercises, and at most one check-up; no further appointments. The referrer is informed of the "
            "findings and the advice."
        )
    elif duration.duration_class is DurationClass.CHRONIC:
        code, ref = ReasonCode.PLAN_DEVIATING_CHRONIC, s.treatment_deviating_course
        components = (
            PlanComponent.INFORMATION_ADVICE,
            PlanComponent.PRACTISING_FUNCTIONS_ACTIVITIES,
            PlanComponent.EXERCISE_THERAPY_VARIED_PROGRAMME,
            PlanComponent.TIME_CONTINGENT_ACTIVITY_BUILDUP,
        )
        nl = (
            "Afwijkend beloop, chronisch: informeren/adviseren en oefenen van functies en activiteiten; "
            "oefentherapie met een gevarieerd programma dient te worden toegepast, en tijdgebonden opbouw "
            "(graded activity) is zinvol."
        )
        en = (
            "Deviating course, chronic: information/advice and practising functions and activities; exercise "
            "therapy with a varied programme should be applied, and time-contingent graded activity is useful."
        )
    else:
        code, ref = ReasonCode.PLAN_DEVIATING_SUBACUTE, s.treatment_deviating_course
        acute = duration.duration_class is DurationClass.ACUTE
        components = (
            PlanComponent.INFORMATION_ADVICE,
            PlanComponent.PRACTISING_FUNCTIONS_ACTIVITIES,
            PlanComponent.TIME_CONTINGENT_ACTIVITY_BUILDUP,
            PlanComponent.ADVICE_STAY_ACTIVE,
        ) + ((PlanComponent.BED_REST_AT_MOST_TWO_DAYS,) if acute else ())
        not_advised = (PlanComponent.EXERCISE_THERAPY,)
        bed_rest = rules.bed_rest_max_days if acute else None
        rest_nl = f" Bedrust is niet zinvol; indien onvermijdelijk maximaal {bed_rest} dagen." if acute else ""
        rest_en = f" Bed rest is not useful; if unavoidable, at most {bed_rest} days." if acute else ""
        nl = (
            "Afwijkend beloop, (sub)acuut: informeren/adviseren (actief blijven) en oefenen en sturen van "
            "functies en activiteiten met tijdgebonden opbouw; oefentherapie als zodanig heeft geen "
            f"meerwaarde.{rest_nl}"
        )
        en = (
            "Deviating course, (sub)acute: information/advice (stay active) and practising functions and "
            "activities with a time-contingent build-up; exercise therapy as such adds nothing."
            f"{rest_en}"
        )
    return TreatmentPlanDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=ref,
        rule_version=rules.version,
        components=components,
        not_advised=not_advised,
        max_sessions=sessions,
        check_up_on=check_up,
        bed_rest_max_days=bed_rest,
        targeted_factors=targeted,
    )


def _check_intervention(item: PlannedIntervention, duration: DurationDecision, rules: RuleSet) -> PlanFinding:
    s = rules.sections
    advice = rules.modality_advice[item.modality]
    name = item.modality.value
    ref = s.treatment_deviating_course
    if advice is ModalityAdvice.RECOMMENDED:
        severity, code = FindingSeverity.IN_LINE, ReasonCode.MODALITY_IN_LINE
        nl, en = f"{name}: past binnen het activerend beleid.", f"{name}: fits the active policy."
    elif advice is ModalityAdvice.CHRONIC_ONLY and duration.duration_class is DurationClass.CHRONIC:
        severity, code = FindingSeverity.IN_LINE, ReasonCode.MODALITY_IN_LINE
        nl = f"{name}: oefentherapie dient bij chronische lage-rugpijn te worden toegepast."
        en = f"{name}: exercise therapy should be applied in chronic low back pain."
    elif advice is ModalityAdvice.CHRONIC_ONLY:
        severity, code = FindingSeverity.CAUTION, ReasonCode.EXERCISE_THERAPY_NO_ADDED_VALUE_SUBACUTE
        nl = f"{name}: oefentherapie heeft bij (sub)acute lage-rugpijn geen meerwaarde boven andere behandelvormen."
        en = f"{name}: exercise therapy adds nothing over other treatments in (sub)acute low back pain."
    elif advice is ModalityAdvice.NOT_ADVISED:
        severity, code = FindingSeverity.NOT_ADVISED, ReasonCode.MODALITY_NOT_ADVISED
        nl = f"{name}: niet geadviseerd, want niet effectief gebleken."
        en = f"{name}: not advised, as it has not proven effective."
    elif advice is ModalityAdvice.EFFECT_UNKNOWN and item.main_component:
        severity, code = FindingSeverity.NOT_ADVISED, ReasonCode.MODALITY_EFFECT_UNKNOWN_AS_MAIN_COMPONENT
        nl = f"{name}: effectiviteit onbekend en mag nooit hoofdbestanddeel van de behandeling zijn."
        en = f"{name}: effectiveness unknown; it may never be a main component of the treatment."
    elif advice is ModalityAdvice.EFFECT_UNKNOWN:
        severity, code = FindingSeverity.CAUTION, ReasonCode.MODALITY_EFFECT_UNKNOWN_SUPPORTIVE
        nl = f"{name}: effectiviteit onbekend; terughoudend, alleen kortdurend en ter ondersteuning."
        en = f"{name}: effectiveness unknown; be reticent, short and supportive of the active policy only."
    else:
        severity, code, ref = FindingSeverity.NOT_COVERED, ReasonCode.MODALITY_NOT_COVERED, s.scope_manual_therapy
        nl = f"{name}: valt buiten deze richtlijn (manuele therapie is buiten beschouwing gelaten)."
        en = f"{name}: outside this guideline (manual therapy is not covered)."
    if severity is FindingSeverity.NOT_ADVISED and item.deviation_rationale:
        # Section D: deviating is allowed when argued and documented; the finding stays visible.
        code, ref = ReasonCode.MODALITY_NOT_ADVISED_DEVIATION_DOCUMENTED, s.deviation_from_guideline
        nl += " Afwijking van de richtlijn is beargumenteerd en gedocumenteerd."
        en += " The deviation from the guideline is argued and documented."
    return PlanFinding(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=ref,
        rule_version=rules.version,
        modality=item.modality,
        advice=advice,
        severity=severity,
    )


def decide_plan_check(
    facts: EpisodeFacts, duration: DurationDecision, course: CourseDecision, rules: RuleSet
) -> tuple[PlanFinding, ...]:
    treatment = facts.treatment
    if treatment is None:
        return ()
    findings = [_check_intervention(item, duration, rules) for item in treatment.interventions]
    limit = rules.normal_course_max_sessions
    if course.beloop is Beloop.NORMAAL and treatment.planned_sessions and treatment.planned_sessions > limit:
        findings.append(
            PlanFinding(
                code=ReasonCode.SESSIONS_EXCEED_NORMAL_COURSE,
                reason_nl=(
                    f"{treatment.planned_sessions} zittingen gepland bij normaal beloop; de richtlijn geeft één "
                    "zitting en eventueel één controleafspraak."
                ),
                reason_en=(
                    f"{treatment.planned_sessions} sessions planned for a normal course; the guideline gives one "
                    "session and possibly one check-up."
                ),
                reference=rules.sections.treatment_normal_course,
                rule_version=rules.version,
                modality=None,
                advice=None,
                severity=FindingSeverity.CAUTION,
            )
        )
    return tuple(findings)
