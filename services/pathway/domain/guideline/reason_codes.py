"""The machine-readable reason codes every guideline decision carries (one enum for the whole engine)."""

from enum import StrEnum


class ReasonCode(StrEnum):
    """Why a decision came out the way it did; stable strings, safe to store and to match on."""

    # Duration and recurrence
    DURATION_ACUTE = "duration.acute"
    DURATION_SUBACUTE = "duration.subacute"
    DURATION_CHRONIC = "duration.chronic"
    RECURRENT = "recurrence.recurrent"
    NOT_RECURRENT_TOO_FEW_EPISODES = "recurrence.too_few_episodes"
    NOT_RECURRENT_TOTAL_DURATION_TOO_LONG = "recurrence.total_duration_too_long"

    # Course (beloop)
    COURSE_NOT_YET_CLASSIFIABLE = "course.not_yet_classifiable"
    COURSE_NORMAL = "course.normal"
    COURSE_NORMAL_EARLY_INCREASE = "course.normal.increase_within_three_weeks"
    COURSE_DEVIATING_INDICATIONS = "course.deviating.indications"
    COURSE_DEVIATING_NO_INCREASE = "course.deviating.no_increase_within_three_weeks"
    INDICATION_COMPLAINTS_SAME_OR_INCREASING = "course.indication.complaints_same_or_increasing"
    INDICATION_REST_MOMENTS_INCREASING = "course.indication.rest_moments_increasing"
    INDICATION_ANALGESICS_CONTINUING_OR_INCREASING = "course.indication.analgesics_continuing_or_increasing"
    INDICATION_ACTIVITIES_NOT_RESUMED = "course.indication.activities_not_resumed"
    INDICATION_ASKS_FOR_SPECIALIST = "course.indication.asks_for_specialist"

    # Scope, referral, hindering factors
    WITHIN_GUIDELINE = "scope.within"
    OUTSIDE_GENERAL_ILLNESS_SIGNS = "scope.outside.general_illness_signs"
    OUTSIDE_POSITIVE_NEUROLOGICAL_EXAM = "scope.outside.positive_neurological_exam"
    NEUROLOGICAL_EXAM_NEGATIVE = "scope.neurological_exam_negative"
    NEUROLOGICAL_EXAM_REQUIRED = "scope.neurological_exam_required"
    SPECIFIC_CAUSE_SUSPECTED = "scope.outside.specific_cause_suspected"
    REFERRAL_COMPLETE = "referral.complete"
    REFERRAL_INCOMPLETE = "referral.incomplete"
    REFERRAL_LACKS_SUPPLEMENTARY_DATA = "referral.lacks_supplementary_data"
    NO_HINDERING_FACTORS = "factors.none"
    HINDERING_FACTORS_INFLUENCEABLE = "factors.influenceable"
    HINDERING_FACTORS_NOT_ONLY_PHYSIOTHERAPY = "factors.not_only_physiotherapy"

    # Indication and plan
    INDICATION_NOT_APPLICABLE_OUTSIDE_GUIDELINE = "indication.outside_guideline"
    INDICATION_PENDING_NEUROLOGICAL_EXAM = "indication.pending_neurological_exam"
    INDICATION_PENDING_COURSE = "indication.pending_course"
    INDICATION_SINGLE_SESSION = "indication.single_session"
    INDICATION_PHYSIOTHERAPY = "indication.physiotherapy"
    PLAN_INTERIM_UNTIL_COURSE_CLASSIFIABLE = "plan.interim_until_course_classifiable"
    PLAN_NORMAL_SINGLE_SESSION = "plan.normal.single_session"
    PLAN_DEVIATING_SUBACUTE = "plan.deviating.subacute"
    PLAN_DEVIATING_CHRONIC = "plan.deviating.chronic"

    # Plan check
    MODALITY_IN_LINE = "plan_check.in_line"
    MODALITY_NOT_ADVISED = "plan_check.not_advised"
    MODALITY_NOT_ADVISED_DEVIATION_DOCUMENTED = "plan_check.not_advised.deviation_documented"
    MODALITY_EFFECT_UNKNOWN_SUPPORTIVE = "plan_check.effect_unknown.supportive"
    MODALITY_EFFECT_UNKNOWN_AS_MAIN_COMPONENT = "plan_check.effect_unknown.main_component"
    EXERCISE_THERAPY_NO_ADDED_VALUE_SUBACUTE = "plan_check.exercise_therapy_no_added_value"
    MODALITY_NOT_COVERED = "plan_check.not_covered"
    SESSIONS_EXCEED_NORMAL_COURSE = "plan_check.sessions_exceed_normal_course"

    # Graded activity
    GRADED_ACTIVITY_SCHEDULED = "graded_activity.scheduled"
    GRADED_ACTIVITY_SCHEDULED_FEAR_OF_MOVEMENT = "graded_activity.scheduled_fear_of_movement"

    # Instruments
    QBPDS_SCORED = "instrument.qbpds.scored"
    QBPDS_PRORATED = "instrument.qbpds.prorated"
    QBPDS_NOT_SCORABLE = "instrument.qbpds.not_scorable"
    PSK_SCORED = "instrument.psk.scored"
    NPRS_SCORED = "instrument.nprs.scored"
    START_BACK_LOW = "instrument.start_back.low"
    START_BACK_MEDIUM = "instrument.start_back.medium"
    START_BACK_HIGH = "instrument.start_back.high"
    CHANGE_IMPORTANT_IMPROVEMENT = "change.important_improvement"
    CHANGE_BELOW_IMPORTANT = "change.below_important"
    CHANGE_WORSENED = "change.worsened"
    CHANGE_NOT_COMPARABLE = "change.not_comparable"

    # Evaluation
    EVALUATION_PENDING_MEASUREMENTS = "evaluation.pending_measurements"
    EVALUATION_NOT_COMPARABLE = "evaluation.not_comparable"
    EVALUATION_PROGRESS = "evaluation.progress"
    EVALUATION_NO_EFFECT_YET = "evaluation.no_effect_yet"
    EVALUATION_NO_EFFECT_ESCALATE = "evaluation.no_effect_escalate_to_verwijzer"

    # Closing
    CLOSED_GOALS_MET = "closing.goals_met"
    CLOSED_PATIENT_STOPS = "closing.patient_stops"
    CLOSED_ESCALATED = "closing.escalated"
    REPORT_TO_BE_SENT = "closing.report_to_be_sent"
    REPORT_WITHHELD_PATIENT_OBJECTED = "closing.report_withheld_patient_objected"

    # Referrer contact (aggregate)
    NO_REFERRER_CONTACT_NEEDED = "verwijzer.no_contact_needed"
    CONTACT_REFERRER = "verwijzer.contact"

    # Multidisciplinary consult proposals
    CONSULT_HUISARTS_OVERVIEW = "consult.huisarts.overview"
    CONSULT_APOTHEKER_PAIN_MEDICATION = "consult.apotheker.pain_medication"
    CONSULT_DIETIST_WEIGHT_NUTRITION = "consult.dietist.weight_nutrition"
    CONSULT_POH_GGZ_PSYCHOSOCIAL = "consult.poh_ggz.psychosocial"
    CONSULT_BEDRIJFSARTS_WORK = "consult.bedrijfsarts.work"
