"""The closed vocabularies (enumerations) the guideline engine speaks in.

Naming convention for the whole package: identifiers are English. Where the users in the practice speak
a Dutch term, that term is kept as-is, both as the enum name and as its values: ``Beloop`` (normaal /
afwijkend), ``Verwijzer`` (huisarts / medisch specialist) and ``Hulpverlener`` (the disciplines of the
multidisciplinary care programme). Every other enum is English with English values.
"""

from enum import StrEnum


class Beloop(StrEnum):
    """Course of limitations and participation problems (Inleiding, 'Normaal en afwijkend beloop')."""

    NORMAAL = "normaal"
    AFWIJKEND = "afwijkend"


class Verwijzer(StrEnum):
    """Who referred the patient; the guideline presupposes one of these two (I.I)."""

    HUISARTS = "huisarts"
    MEDISCH_SPECIALIST = "medisch_specialist"


class Hulpverlener(StrEnum):
    """Disciplines that may be proposed for involvement (seed 000; bedrijfsarts from the guideline)."""

    HUISARTS = "huisarts"
    APOTHEKER = "apotheker"
    DIETIST = "dietist"
    POH_GGZ = "poh_ggz"
    BEDRIJFSARTS = "bedrijfsarts"


class DurationClass(StrEnum):
    """Duration class of the current episode (acuut / subacuut / chronisch)."""

    ACUTE = "acute"
    SUBACUTE = "subacute"
    CHRONIC = "chronic"


class Trend(StrEnum):
    """Direction of a quantity over the observed complaint period."""

    DECREASING = "decreasing"
    SAME = "same"
    INCREASING = "increasing"


class AnalgesicUse(StrEnum):
    """Use of analgesics over the observed complaint period."""

    NONE = "none"
    STOPPED = "stopped"
    DECREASING = "decreasing"
    CONTINUING = "continuing"
    INCREASING = "increasing"


class GeneralIllnessSign(StrEnum):
    """General signs of illness; aspecific low back pain has none of them."""

    FEVER = "fever"
    WEIGHT_LOSS = "weight_loss"
    OTHER = "other"


class FactorDomain(StrEnum):
    """Domain of a biopsychosocial factor."""

    BIOLOGICAL = "biological"
    PSYCHOLOGICAL = "psychological"
    SOCIAL = "social"


class FactorKind(StrEnum):
    """Biopsychosocial factors that cause or maintain a deviating course (examples from the guideline)."""

    REDUCED_MOBILITY = "reduced_mobility"
    REDUCED_MUSCLE_STRENGTH = "reduced_muscle_strength"
    REDUCED_COORDINATION = "reduced_coordination"
    OTHER_BIOLOGICAL = "other_biological"
    FEAR_OF_MOVEMENT = "fear_of_movement"
    UNREALISTIC_BELIEFS = "unrealistic_beliefs"
    OTHER_PSYCHOLOGICAL = "other_psychological"
    WORK_SITUATION = "work_situation"
    SUPPORT_AT_HOME = "support_at_home"
    OTHER_SOCIAL = "other_social"

    @property
    def domain(self) -> FactorDomain:
        return _FACTOR_DOMAIN[self]


_FACTOR_DOMAIN = {
    FactorKind.REDUCED_MOBILITY: FactorDomain.BIOLOGICAL,
    FactorKind.REDUCED_MUSCLE_STRENGTH: FactorDomain.BIOLOGICAL,
    FactorKind.REDUCED_COORDINATION: FactorDomain.BIOLOGICAL,
    FactorKind.OTHER_BIOLOGICAL: FactorDomain.BIOLOGICAL,
    FactorKind.FEAR_OF_MOVEMENT: FactorDomain.PSYCHOLOGICAL,
    FactorKind.UNREALISTIC_BELIEFS: FactorDomain.PSYCHOLOGICAL,
    FactorKind.OTHER_PSYCHOLOGICAL: FactorDomain.PSYCHOLOGICAL,
    FactorKind.WORK_SITUATION: FactorDomain.SOCIAL,
    FactorKind.SUPPORT_AT_HOME: FactorDomain.SOCIAL,
    FactorKind.OTHER_SOCIAL: FactorDomain.SOCIAL,
}


class PhysiotherapyInfluence(StrEnum):
    """Whether physiotherapy can influence a hindering factor ('niet (alleen)' = partly or no)."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Coping(StrEnum):
    """How the patient copes with the complaints (wijze van omgaan)."""

    ADEQUATE = "adequate"
    INADEQUATE = "inadequate"


class Modality(StrEnum):
    """Interventions a treatment plan can contain; anything else is rejected as unknown."""

    INFORMATION_ADVICE = "information_advice"
    PRACTISING_FUNCTIONS_ACTIVITIES = "practising_functions_activities"
    EXERCISE_THERAPY = "exercise_therapy"
    EXERCISE_IN_WATER = "exercise_in_water"
    GRADED_ACTIVITY = "graded_activity"
    TRACTION = "traction"
    BIOFEEDBACK = "biofeedback"
    MASSAGE = "massage"
    ELECTROTHERAPY = "electrotherapy"
    TENS = "tens"
    ULTRASOUND = "ultrasound"
    LASER = "laser"
    MANUAL_THERAPY = "manual_therapy"


class ModalityAdvice(StrEnum):
    """What the guideline says about a modality."""

    RECOMMENDED = "recommended"
    CHRONIC_ONLY = "chronic_only"
    NOT_ADVISED = "not_advised"
    EFFECT_UNKNOWN = "effect_unknown"
    NOT_COVERED = "not_covered"


class FindingSeverity(StrEnum):
    """How strongly a plan finding should be brought to the physiotherapist's attention."""

    IN_LINE = "in_line"
    CAUTION = "caution"
    NOT_ADVISED = "not_advised"
    NOT_COVERED = "not_covered"


class ScopeStatus(StrEnum):
    """Whether the patient fits the guideline."""

    WITHIN = "within"
    OUTSIDE = "outside"
    UNDETERMINED = "undetermined"


class PlanComponent(StrEnum):
    """Building blocks of a treatment plan."""

    INFORMATION_ADVICE = "information_advice"
    ADVICE_STAY_ACTIVE = "advice_stay_active"
    ADVICE_NO_BED_REST = "advice_no_bed_rest"
    BED_REST_AT_MOST_TWO_DAYS = "bed_rest_at_most_two_days"
    PRACTISING_FUNCTIONS_ACTIVITIES = "practising_functions_activities"
    TIME_CONTINGENT_ACTIVITY_BUILDUP = "time_contingent_activity_buildup"
    EXERCISE_THERAPY_VARIED_PROGRAMME = "exercise_therapy_varied_programme"
    EXERCISE_THERAPY = "exercise_therapy"
    OPTIONAL_CHECK_UP = "optional_check_up"
    INFORM_VERWIJZER_FINDINGS_AND_ADVICE = "inform_verwijzer_findings_and_advice"


class PskScale(StrEnum):
    """Scale on which the PSK activities are scored (higher = more difficult)."""

    NRS_0_10 = "0-10"
    VAS_0_100 = "0-100"


class Bothersomeness(StrEnum):
    """Answer to STarT Back item 9 (how bothersome was the back pain in the last two weeks)."""

    NOT_AT_ALL = "not_at_all"
    SLIGHTLY = "slightly"
    MODERATELY = "moderately"
    VERY_MUCH = "very_much"
    EXTREMELY = "extremely"


class StartBackRisk(StrEnum):
    """STarT Back risk subgroup."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Instrument(StrEnum):
    """Measuring instruments the engine scores."""

    QBPDS = "qbpds"
    PSK = "psk"
    NPRS = "nprs"
    START_BACK = "start_back"


class ChangeDirection(StrEnum):
    """Direction of a change between two measurements, from the patient's point of view."""

    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    WORSENED = "worsened"


class AdherenceStatus(StrEnum):
    """How a logged graded-activity day compares with what was agreed for that day."""

    AS_AGREED = "as_agreed"
    LESS_THAN_AGREED = "less_than_agreed"
    MORE_THAN_AGREED = "more_than_agreed"
    LESS_AND_MORE_THAN_AGREED = "less_and_more_than_agreed"
    BEFORE_ACTIVITY_START = "before_activity_start"


class ClosingReason(StrEnum):
    """Why treatment ends."""

    GOALS_MET = "goals_met"
    PATIENT_STOPS = "patient_stops"
    ESCALATED_TO_VERWIJZER = "escalated_to_verwijzer"


class ReportConsent(StrEnum):
    """The patient's answer to writing a report to the GP (seed 002)."""

    GIVEN = "given"
    OBJECTED = "objected"


class ReportContent(StrEnum):
    """Items the final report to the referrer/GP must contain."""

    INDIVIDUAL_GOALS = "individual_goals"
    TREATMENT_PROCESS = "treatment_process"
    TREATMENT_RESULTS = "treatment_results"
    CLOSING_REASON = "closing_reason"
    DIAGNOSTIC_FINDINGS = "diagnostic_findings"
    ADVICE_GIVEN = "advice_given"
    ESCALATION_REASON = "escalation_reason"
