"""The evaluation rule: did activities and participation increase, escalate after three weeks, next date.

"Increase in activities and participation" (II.III) is read from the two activity-level instruments the
guideline names, QBPDS and PSK: it counts as an increase when at least one of them improves by at least
the minimal important change. Smaller changes lie within measurement error, so they are no evidence of
effect. Pain (NPRS) is reported beside them but does not decide, because the guideline judges the course of
limitations and participation, not of pain.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from pydantic import Field

from .decisions import Decision
from .facts import EpisodeFacts
from .instruments import ChangeAssessment, MeasurementScores, assess_change, psk_change
from .reason_codes import ReasonCode
from .versions import RuleSet
from .vocabulary import Instrument


class EvaluationDecision(Decision):
    """Outcome of evaluating the treatment against the baseline."""

    baseline_on: date | None = Field(description="Day of the baseline measurement.")
    evaluated_on: date | None = Field(description="Day of the evaluation measurement.")
    treatment_days: int | None = Field(description="Days of treatment at the evaluation measurement.")
    activities_participation_increased: bool | None = Field(
        description="null when no comparable measurements exist yet."
    )
    changes: tuple[ChangeAssessment, ...] = Field(description="Change per instrument.")
    escalate_to_verwijzer: bool = Field(description="Contact the referrer: no effect after three weeks.")
    next_evaluation_due: date | None = Field(description="When the next evaluation falls due.")
    overdue: bool = Field(description="The next evaluation date lies before the decision date.")


def _qbpds_total(scores: MeasurementScores) -> float | None:
    total = scores.qbpds.total if scores.qbpds is not None else None
    return float(total) if total is not None else None


def decide_evaluation(
    facts: EpisodeFacts, scores: Sequence[MeasurementScores], rules: RuleSet
) -> EvaluationDecision | None:
    """`scores`: the scores of `facts.measurements` in the order they were taken (`score_measurement`)."""
    treatment = facts.treatment
    if treatment is None:
        return None
    interval = timedelta(days=rules.evaluation_interval_days)
    escalation_days = rules.no_effect_escalation_days
    weeks = escalation_days // 7
    ref = rules.sections.evaluation
    ordered = sorted(facts.measurements, key=lambda m: m.taken_on)
    first_due = treatment.start_date + interval

    def decision(
        code: ReasonCode,
        nl: str,
        en: str,
        *,
        due: date | None,
        changes: tuple[ChangeAssessment, ...] = (),
        increased: bool | None = None,
        escalate: bool = False,
        days: int | None = None,
    ) -> EvaluationDecision:
        return EvaluationDecision(
            code=code,
            reason_nl=nl,
            reason_en=en,
            reference=ref,
            rule_version=rules.version,
            baseline_on=ordered[0].taken_on if ordered else None,
            evaluated_on=ordered[-1].taken_on if len(ordered) > 1 and days is not None else None,
            treatment_days=days,
            activities_participation_increased=increased,
            changes=changes,
            escalate_to_verwijzer=escalate,
            next_evaluation_due=due,
            overdue=due is not None and facts.decision_date > due,
        )

    if len(ordered) < 2 or ordered[-1].taken_on <= treatment.start_date:
        return decision(
            ReasonCode.EVALUATION_PENDING_MEASUREMENTS,
            f"Nog geen evaluatiemeting na de start van de behandeling; evalueer op {first_due.isoformat()} "
            "met dezelfde meetinstrumenten.",
            f"No evaluation measurement after the start of treatment yet; evaluate on {first_due.isoformat()} "
            "with the same instruments.",
            due=first_due,
        )
    first, last = ordered[0], ordered[-1]
    days = (last.taken_on - treatment.start_date).days
    changes = (
        assess_change(
            Instrument.QBPDS,
            _qbpds_total(scores[0]),
            _qbpds_total(scores[-1]),
            rules.outcome_measures.qbpds_mic_points,
            rules,
            rules.sections.mcic,
        ),
        psk_change(first.psk, last.psk, rules),
        assess_change(
            Instrument.NPRS,
            float(first.nprs) if first.nprs is not None else None,
            float(last.nprs) if last.nprs is not None else None,
            rules.outcome_measures.nprs_mic_points,
            rules,
            rules.sections.mcic,
        ),
    )
    deciding = [c for c in changes if c.instrument in (Instrument.QBPDS, Instrument.PSK) and c.direction]
    if not deciding:
        return decision(
            ReasonCode.EVALUATION_NOT_COMPARABLE,
            "QBPDS en PSK zijn niet op beide momenten (vergelijkbaar) gemeten; meet opnieuw met dezelfde "
            "instrumenten als bij de start.",
            "Neither QBPDS nor PSK was measured comparably at both moments; measure again with the same "
            "instruments as at the start.",
            due=last.taken_on if last.taken_on >= first_due else first_due,
            changes=changes,
            days=days,
        )
    increased = any(c.important for c in deciding)
    if increased:
        due = last.taken_on + interval
        return decision(
            ReasonCode.EVALUATION_PROGRESS,
            f"Activiteiten en participatie zijn toegenomen; volgende evaluatie op {due.isoformat()}.",
            f"Activities and participation increased; next evaluation on {due.isoformat()}.",
            due=due,
            changes=changes,
            increased=True,
            days=days,
        )
    if days >= escalation_days:
        return decision(
            ReasonCode.EVALUATION_NO_EFFECT_ESCALATE,
            f"Na {days} dagen behandeling geen toename van activiteiten en participatie (na {weeks} weken "
            "geen effect): neem contact op met de verwijzer.",
            f"After {days} days of treatment no increase in activities and participation (no effect after "
            f"{weeks} weeks): contact the referrer.",
            due=None,
            changes=changes,
            increased=False,
            escalate=True,
            days=days,
        )
    return decision(
        ReasonCode.EVALUATION_NO_EFFECT_YET,
        f"Na {days} dagen nog geen toename; de drieweken-grens is bereikt op {first_due.isoformat()}, "
        "evalueer dan opnieuw.",
        f"No increase yet after {days} days; the three-week mark falls on {first_due.isoformat()}, evaluate "
        "again then.",
        due=first_due,
        changes=changes,
        increased=False,
        days=days,
    )
