"""Rules on time since onset: the duration class of the episode and whether the back pain is recurrent."""

from datetime import date

from pydantic import Field

from .decisions import Decision
from .facts import EpisodeFacts
from .reason_codes import ReasonCode
from .versions import RuleSet
from .vocabulary import DurationClass


class DurationDecision(Decision):
    """Duration class of the current episode."""

    duration_class: DurationClass = Field(description="acute, subacute or chronic.", examples=["acute"])
    days_since_onset: int = Field(ge=0, description="Days from onset to decision date.", examples=[24])


class RecurrenceDecision(Decision):
    """Whether the low back pain is recurrent (a property of the history, beside the duration class)."""

    recurrent: bool = Field(description="More than two episodes within a year, together under six months.")
    episodes_in_window: int = Field(
        ge=1, description="Episodes (current included) overlapping the year before the decision date."
    )
    total_days_in_window: int = Field(ge=0, description="Summed duration of those episodes in days.")
    window_start: date = Field(description="First day of the one-year window.")


def one_year_before(day: date, years: int) -> date:
    """Same calendar day ``years`` earlier; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def decide_duration(facts: EpisodeFacts, rules: RuleSet) -> DurationDecision:
    days = (facts.decision_date - facts.onset_date).days
    ref = rules.sections.demarcation
    if days <= rules.acute_max_days:
        cls, code, nl, en = (
            DurationClass.ACUTE,
            ReasonCode.DURATION_ACUTE,
            f"De episode duurt {days} dagen (t/m {rules.acute_max_days} dagen): acuut.",
            f"The episode has lasted {days} days (up to {rules.acute_max_days} days): acute.",
        )
    elif days <= rules.subacute_max_days:
        cls, code, nl, en = (
            DurationClass.SUBACUTE,
            ReasonCode.DURATION_SUBACUTE,
            f"De episode duurt {days} dagen ({rules.acute_max_days + 1}-{rules.subacute_max_days} dagen): subacuut.",
            f"The episode has lasted {days} days ({rules.acute_max_days + 1}-{rules.subacute_max_days} "
            "days): subacute.",
        )
    else:
        cls, code, nl, en = (
            DurationClass.CHRONIC,
            ReasonCode.DURATION_CHRONIC,
            f"De episode duurt {days} dagen (meer dan {rules.subacute_max_days} dagen): chronisch.",
            f"The episode has lasted {days} days (more than {rules.subacute_max_days} days): chronic.",
        )
    return DurationDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=ref,
        rule_version=rules.version,
        duration_class=cls,
        days_since_onset=days,
    )


def decide_recurrence(facts: EpisodeFacts, rules: RuleSet) -> RecurrenceDecision:
    # An episode counts when it overlaps the year before the decision date; the current episode always
    # does, so two earlier episodes plus this one are the three episodes that make it recurrent.
    window_start = one_year_before(facts.decision_date, rules.recurrence_window_years)
    durations = [(facts.decision_date - facts.onset_date).days]
    durations += [
        (episode.end_date - episode.onset_date).days
        for episode in facts.previous_episodes
        if episode.end_date >= window_start
    ]
    count, total = len(durations), sum(durations)
    limit = rules.recurrence_total_limit_days
    enough = count >= rules.recurrence_min_episodes
    short = total < limit
    ref = rules.sections.demarcation
    if enough and short:
        code = ReasonCode.RECURRENT
        nl = (
            f"{count} episodes binnen een jaar (meer dan {rules.recurrence_min_episodes - 1}) met samen "
            f"{total} dagen (korter dan zes maanden): recidiverend."
        )
        en = (
            f"{count} episodes within a year (more than {rules.recurrence_min_episodes - 1}) lasting "
            f"{total} days together (under six months): recurrent."
        )
    elif not enough:
        code = ReasonCode.NOT_RECURRENT_TOO_FEW_EPISODES
        nl = (
            f"{count} episode(s) binnen een jaar; recidiverend vraagt meer dan "
            f"{rules.recurrence_min_episodes - 1}: niet recidiverend."
        )
        en = (
            f"{count} episode(s) within a year; recurrent needs more than "
            f"{rules.recurrence_min_episodes - 1}: not recurrent."
        )
    else:
        code = ReasonCode.NOT_RECURRENT_TOTAL_DURATION_TOO_LONG
        nl = f"{count} episodes binnen een jaar, maar samen {total} dagen (zes maanden of langer): niet recidiverend."
        en = f"{count} episodes within a year, but {total} days together (six months or more): not recurrent."
    return RecurrenceDecision(
        code=code,
        reason_nl=nl,
        reason_en=en,
        reference=ref,
        rule_version=rules.version,
        recurrent=enough and short,
        episodes_in_window=count,
        total_days_in_window=total,
        window_start=window_start,
    )
