"""The engine's output: every decision for one episode, and the differences between two rule versions."""

from datetime import date

from pydantic import Field, JsonValue

from .closing import ClosingDecision
from .consults import ConsultProposal
from .course import CourseDecision
from .decisions import Decision, FrozenModel
from .duration import DurationDecision, RecurrenceDecision
from .evaluation import EvaluationDecision
from .graded_activity import GradedActivityDecision
from .instruments import MeasurementScores
from .plan import IndicationDecision, PlanFinding, TreatmentPlanDecision
from .reason_codes import ReasonCode
from .scope import HinderingFactorsDecision, ReferralDecision, ScopeDecision
from .vocabulary import Verwijzer


class ReferrerContactDecision(Decision):
    """Whether the physiotherapist must contact the referrer, gathering every rule that asks for it."""

    required: bool = Field(description="Contact the referrer (verwijzer).")
    verwijzer: Verwijzer = Field(description="Who to contact.")
    reasons: tuple[ReasonCode, ...] = Field(description="The decisions that ask for contact.")


class GuidelineAssessment(FrozenModel):
    """Every decision for one episode under one rule version: the response of the guideline endpoint."""

    rule_version: str = Field(description="Rule version used.", examples=["kngf-lrp-2003"])
    decision_date: date = Field(description="The day the decisions were made for.", examples=["2024-03-25"])
    duration: DurationDecision
    recurrence: RecurrenceDecision
    course: CourseDecision
    scope: ScopeDecision
    referral: ReferralDecision
    hindering_factors: HinderingFactorsDecision
    indication: IndicationDecision
    treatment_plan: TreatmentPlanDecision | None = Field(
        description="null while the patient is outside the guideline or the neurological exam is outstanding."
    )
    plan_check: tuple[PlanFinding, ...] = Field(description="Remarks on the planned interventions.")
    graded_activity: GradedActivityDecision | None = Field(description="null without a graded-activity plan.")
    measurements: tuple[MeasurementScores, ...] = Field(description="Scores per measurement, oldest first.")
    evaluation: EvaluationDecision | None = Field(description="null before treatment starts.")
    closing: ClosingDecision | None = Field(description="null while treatment continues.")
    referrer_contact: ReferrerContactDecision
    consults: tuple[ConsultProposal, ...] = Field(description="Proposals to involve other disciplines.")


class DecisionDifference(FrozenModel):
    """One decision that comes out differently under two rule versions."""

    decision: str = Field(description="Name of the decision in the assessment.", examples=["duration"])
    version_a: str = Field(examples=["kngf-lrp-2003"])
    version_b: str
    code_a: ReasonCode | None = Field(description="Reason code under version a (null for a list or absence).")
    code_b: ReasonCode | None = Field(description="Reason code under version b.")
    reason_en_a: str | None = Field(description="English reason under version a.")
    reason_en_b: str | None = Field(description="English reason under version b.")
    outcome_a: JsonValue = Field(description="The decision's outcome under version a, without texts.")
    outcome_b: JsonValue = Field(description="The decision's outcome under version b, without texts.")
