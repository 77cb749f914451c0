"""Scoring of the measuring instruments (QBPDS, PSK, NPRS, STarT Back) and minimal important change.

Thresholds for a minimal important change (MIC), all from Ostelo et al. 2008 (Spine 33(1):90-94), the
international consensus for low back pain outcome measures:
- QBPDS: 20 points, or 30 % of the baseline score.
- NPRS: 2 points, or 30 %.
- PSK: Ostelo gives no PSK value, but the PSK rates each activity on a numerical rating scale (0-10, since
  2008) or a 100 mm visual analogue scale (0-100, the original), and Ostelo's consensus covers exactly
  those scales when used for functional status: 2 points on a 0-10 NRS, 15 points on a 0-100 VAS, or 30 %
  of the baseline. The engine applies that to the mean score of the activities present at both moments,
  because the PSK is read as one score per patient in the guideline's evaluation.
Every improvement is counted so that a positive number means "better" (all four score higher = worse).

The numbers, the QBPDS total with its proration, the PSK means and whether a change is important come from
`shared.outcome_measures` (the rule set's `outcome_measures`), which reporting scores with too; this module
adds the decisions around them: reason codes, Dutch and English reasons, the guideline section.
"""

from datetime import date
from decimal import Decimal

from pydantic import Field

from shared import outcome_measures

from .decisions import Decision, FrozenModel
from .facts import PSK_SCALE_MAX, Measurement, PskAnswers, QbpdsAnswers, StartBackAnswers
from .memo import memoised
from .reason_codes import ReasonCode
from .references import Reference
from .versions import RuleSet
from .vocabulary import Bothersomeness, ChangeDirection, Instrument, PskScale, StartBackRisk

START_BACK_PSYCHOSOCIAL_FROM_ITEM = 5


def round_half_up(value: float, digits: int = 0) -> float:
    """Commercial rounding; Python's round() rounds half to even, which surprises clinicians."""
    return float(outcome_measures.round_half_up(_decimal(value), digits))


def _decimal(value: float) -> Decimal:
    """The number as written (0.1, not the binary fraction nearest to it)."""
    return Decimal(repr(value))


class QbpdsScore(Decision):
    """QBPDS total (0-100, higher = more disability)."""

    total: int | None = Field(description="Total 0-100; null when too many items are missing.", examples=[46])
    answered_items: int = Field(ge=0, le=20, description="Items answered.")
    missing_items: tuple[int, ...] = Field(description="Numbers (1-20) of unanswered items.")
    prorated: bool = Field(description="The total was extrapolated from the answered items.")


class PskScore(Decision):
    """PSK: mean difficulty of the chosen activities."""

    scale: PskScale = Field(description="Scale of the scores.")
    activity_count: int = Field(ge=1, le=5, description="Number of activities scored.")
    mean_score: float = Field(description="Mean score on the scale used (higher = more difficult).")


class NprsScore(Decision):
    """Pain intensity on the 0-10 numerical rating scale."""

    value: int = Field(ge=0, le=10, description="Pain intensity.")


class StartBackScore(Decision):
    """STarT Back Screening Tool result."""

    total: int = Field(ge=0, le=9, description="Total score 0-9.")
    psychosocial: int = Field(ge=0, le=5, description="Psychosocial subscale, items 5-9, 0-5.")
    risk: StartBackRisk = Field(description="low, medium or high risk.")


class MeasurementScores(FrozenModel):
    """All instrument scores of one measurement day."""

    taken_on: date = Field(description="Day of measurement.")
    qbpds: QbpdsScore | None = Field(description="QBPDS, if taken.")
    psk: PskScore | None = Field(description="PSK, if taken.")
    nprs: NprsScore | None = Field(description="NPRS, if taken.")
    start_back: StartBackScore | None = Field(description="STarT Back, if taken.")


class ChangeAssessment(Decision):
    """Change on one instrument between a baseline and a follow-up measurement."""

    instrument: Instrument = Field(description="The instrument compared.")
    baseline: float | None = Field(description="Score at baseline (null when not comparable).")
    follow_up: float | None = Field(description="Score at follow-up (null when not comparable).")
    improvement: float | None = Field(description="Baseline minus follow-up; positive = better.")
    improvement_percent: float | None = Field(description="Improvement as percentage of the baseline.")
    direction: ChangeDirection | None = Field(description="improved, unchanged or worsened.")
    important: bool = Field(description="The improvement reaches the minimal important change.")


def score_qbpds(answers: QbpdsAnswers, rules: RuleSet) -> QbpdsScore:
    answered = [item for item in answers.items if item is not None]
    missing = tuple(number for number, item in enumerate(answers.items, start=1) if item is None)
    ref = rules.sections.qbpds
    common = {"reference": ref, "rule_version": rules.version, "answered_items": len(answered)}
    total = rules.outcome_measures.qbpds_total(answers.items)
    if not missing:
        return QbpdsScore(
            code=ReasonCode.QBPDS_SCORED,
            reason_nl=f"QBPDS-totaal {total} (0-100; hoger = meer beperkingen).",
            reason_en=f"QBPDS total {total} (0-100; higher = more disability).",
            total=total,
            missing_items=(),
            prorated=False,
            **common,
        )
    numbers = ", ".join(str(n) for n in missing)
    if total is not None:
        # Engine convention, stated in the rule set: a few gaps are filled with the mean of the answered
        # items rather than counted as 0, which would understate disability.
        return QbpdsScore(
            code=ReasonCode.QBPDS_PRORATED,
            reason_nl=f"QBPDS-totaal {total}, geëxtrapoleerd; ontbrekende items: {numbers}.",
            reason_en=f"QBPDS total {total}, prorated; missing items: {numbers}.",
            total=total,
            missing_items=missing,
            prorated=True,
            **common,
        )
    return QbpdsScore(
        code=ReasonCode.QBPDS_NOT_SCORABLE,
        reason_nl=(
            f"QBPDS niet te scoren: {len(missing)} items ontbreken ({numbers}); "
            f"maximaal {rules.outcome_measures.qbpds_max_missing_items} toegestaan."
        ),
        reason_en=(
            f"QBPDS cannot be scored: {len(missing)} items missing ({numbers}); "
            f"at most {rules.outcome_measures.qbpds_max_missing_items} allowed."
        ),
        total=None,
        missing_items=missing,
        prorated=False,
        **common,
    )


def score_psk(answers: PskAnswers, rules: RuleSet) -> PskScore:
    mean = round_half_up(sum(a.score for a in answers.activities) / len(answers.activities), 2)
    maximum = PSK_SCALE_MAX[answers.scale]
    return PskScore(
        code=ReasonCode.PSK_SCORED,
        reason_nl=f"PSK: gemiddelde {mean:g} over {len(answers.activities)} activiteit(en), schaal 0-{maximum}.",
        reason_en=f"PSK: mean {mean:g} over {len(answers.activities)} activities, scale 0-{maximum}.",
        reference=rules.sections.psk,
        rule_version=rules.version,
        scale=answers.scale,
        activity_count=len(answers.activities),
        mean_score=mean,
    )


def score_nprs(value: int, rules: RuleSet) -> NprsScore:
    return NprsScore(
        code=ReasonCode.NPRS_SCORED,
        reason_nl=f"Pijnintensiteit {value} op 0-10.",
        reason_en=f"Pain intensity {value} on 0-10.",
        reference=rules.sections.mcic,
        rule_version=rules.version,
        value=value,
    )


def score_start_back(answers: StartBackAnswers, rules: RuleSet) -> StartBackScore:
    item_9 = int(answers.item_9_bothersomeness in (Bothersomeness.VERY_MUCH, Bothersomeness.EXTREMELY))
    items = [int(agreed) for agreed in answers.agreed_items_1_to_8] + [item_9]
    total = sum(items)
    psychosocial = sum(items[START_BACK_PSYCHOSOCIAL_FROM_ITEM - 1 :])
    if total <= rules.start_back_low_max_total:
        risk, code = StartBackRisk.LOW, ReasonCode.START_BACK_LOW
    elif psychosocial >= rules.start_back_high_min_psychosocial:
        risk, code = StartBackRisk.HIGH, ReasonCode.START_BACK_HIGH
    else:
        risk, code = StartBackRisk.MEDIUM, ReasonCode.START_BACK_MEDIUM
    nl_risk = {StartBackRisk.LOW: "laag", StartBackRisk.MEDIUM: "midden", StartBackRisk.HIGH: "hoog"}[risk]
    return StartBackScore(
        code=code,
        reason_nl=f"STarT Back: totaal {total}, psychosociaal {psychosocial}: risico {nl_risk}.",
        reason_en=f"STarT Back: total {total}, psychosocial {psychosocial}: {risk.value} risk.",
        reference=rules.sections.start_back,
        rule_version=rules.version,
        total=total,
        psychosocial=psychosocial,
        risk=risk,
    )


@memoised  # every decision of an episode scores each measurement taken so far
def score_measurement(measurement: Measurement, rules: RuleSet) -> MeasurementScores:
    return MeasurementScores(
        taken_on=measurement.taken_on,
        qbpds=score_qbpds(measurement.qbpds, rules) if measurement.qbpds is not None else None,
        psk=score_psk(measurement.psk, rules) if measurement.psk is not None else None,
        nprs=score_nprs(measurement.nprs, rules) if measurement.nprs is not None else None,
        start_back=score_start_back(measurement.start_back, rules) if measurement.start_back else None,
    )


@memoised  # scores are small whole numbers: the same comparisons recur
def assess_change(
    instrument: Instrument,
    baseline: float | None,
    follow_up: float | None,
    mic_points: Decimal,
    rules: RuleSet,
    reference: Reference,
    why_not_comparable: tuple[str, str] = ("geen vergelijkbare scores", "no comparable scores"),
) -> ChangeAssessment:
    """Compare two scores where higher means worse; important at >= MIC points or >= MIC percent."""
    name = instrument.value.upper()
    common = {"instrument": instrument, "reference": reference, "rule_version": rules.version}
    if baseline is None or follow_up is None:
        return ChangeAssessment(
            code=ReasonCode.CHANGE_NOT_COMPARABLE,
            reason_nl=f"{name}: verandering niet te bepalen ({why_not_comparable[0]}).",
            reason_en=f"{name}: change cannot be determined ({why_not_comparable[1]}).",
            baseline=baseline,
            follow_up=follow_up,
            improvement=None,
            improvement_percent=None,
            direction=None,
            important=False,
            **common,
        )
    improvement = baseline - follow_up
    percent = improvement / baseline * 100 if baseline > 0 else None
    important = rules.outcome_measures.important_change(_decimal(baseline), _decimal(follow_up), mic_points)
    direction = (
        ChangeDirection.IMPROVED
        if improvement > 0
        else ChangeDirection.WORSENED
        if improvement < 0
        else ChangeDirection.UNCHANGED
    )
    shown = f"{baseline:g} -> {follow_up:g}"
    pct = f" ({round_half_up(percent, 1):g}%)" if percent is not None else ""
    relative = rules.outcome_measures.mic_relative_percent
    threshold_nl = f"{mic_points:g} punten of {relative:g}%"
    threshold_en = f"{mic_points:g} points or {relative:g}%"
    if important:
        code = ReasonCode.CHANGE_IMPORTANT_IMPROVEMENT
        nl = f"{name} {shown}: verbetering {improvement:g}{pct}, minimaal {threshold_nl}: klinisch relevant."
        en = f"{name} {shown}: improvement {improvement:g}{pct}, at least {threshold_en}: clinically important."
    elif improvement < 0:
        code = ReasonCode.CHANGE_WORSENED
        nl = f"{name} {shown}: verslechterd."
        en = f"{name} {shown}: worsened."
    else:
        code = ReasonCode.CHANGE_BELOW_IMPORTANT
        nl = f"{name} {shown}: verandering {improvement:g}{pct} blijft onder {threshold_nl}."
        en = f"{name} {shown}: change {improvement:g}{pct} stays below {threshold_en}."
    return ChangeAssessment(
        code=code,
        reason_nl=nl,
        reason_en=en,
        baseline=baseline,
        follow_up=follow_up,
        improvement=round_half_up(improvement, 2),
        improvement_percent=round_half_up(percent, 1) if percent is not None else None,
        direction=direction,
        important=important,
        **common,
    )


def psk_change(first: PskAnswers | None, last: PskAnswers | None, rules: RuleSet) -> ChangeAssessment:
    """PSK change over the activities scored at both moments, on the mean of those activities."""
    ref = rules.sections.mcic
    points = rules.outcome_measures.psk_mic_points_nrs_0_10
    if first is None or last is None:
        return assess_change(Instrument.PSK, None, None, points, rules, ref)
    if first.scale is not last.scale:
        return assess_change(Instrument.PSK, None, None, points, rules, ref, ("andere schaal", "different scales"))
    if first.scale is PskScale.VAS_0_100:
        points = rules.outcome_measures.psk_mic_points_vas_0_100
    before = {outcome_measures.psk_activity_key(a.activity): a.score for a in first.activities}
    after = {outcome_measures.psk_activity_key(a.activity): a.score for a in last.activities}
    means = outcome_measures.psk_means(before, after)
    if means is None:
        return assess_change(
            Instrument.PSK,
            None,
            None,
            points,
            rules,
            ref,
            ("geen gemeenschappelijke activiteiten", "no shared activities"),
        )
    return assess_change(Instrument.PSK, float(means[0]), float(means[1]), points, rules, ref)
