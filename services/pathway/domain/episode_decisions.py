"""What the pathway records because of one intake event, given the episode as it stood: the one decision fold
both the consumer (live, batch by batch) and the network's what-if (over history, under a draft protocol) run.

An intake event in, in the episode's order: a referral plans the first evaluation; the guideline decides on the
facts so far (`guideline.evaluate` under the rules given) and `reactions.react` records what changed; the changes
of plan that follow (`evaluation_schedule.plan_changes`) move or plan evaluations one interval on. The episode
state takes the decisions, so the next event is decided on top of them. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.pathway.domain.episode_facts import build_facts
from services.pathway.domain.evaluation_plan import EvaluationPlan, TimerWrite
from services.pathway.domain.evaluation_schedule import plan_changes
from services.pathway.domain.guideline import EpisodeFacts, GuidelineAssessment, RuleRegistry, RuleSet, evaluate
from services.pathway.domain.protocol import Protocol, rules_under
from services.pathway.domain.reactions import PathwayMemory, react
from shared.events import intake
from shared.events.payload import EventPayload


@dataclass(frozen=True)
class IntakeFact:
    """One intake event as the pathway keeps it: its place in the episode's stream, when it happened, what it says."""

    stream_version: int
    occurred_at: datetime
    payload: EventPayload


@dataclass(frozen=True)
class Rules:
    """What decides: the guideline's rules (a protocol's values in place) and the evaluation interval."""

    rule_set: RuleSet
    registry: RuleRegistry = field(init=False)
    evaluation_interval: timedelta = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "registry", RuleRegistry([self.rule_set]))
        object.__setattr__(self, "evaluation_interval", timedelta(days=self.rule_set.evaluation_interval_days))


class RulesCache:
    """The rules of each protocol, built once per replay run (a year of a network re-decides with a handful)."""

    def __init__(self) -> None:
        self._by_protocol: dict[Protocol, Rules] = {}

    def of(self, protocol: Protocol) -> Rules:
        rules = self._by_protocol.get(protocol)
        if rules is None:
            rules = self._by_protocol[protocol] = Rules(rules_under(protocol))
        return rules


@dataclass
class EpisodeState:
    """One episode as the fold sees it: intake's events so far, the pathway's own, who referred it, and its
    evaluation plan as those events tell it."""

    version: int  # of the pathway's stream before the events being decided
    plan: EvaluationPlan
    intake_events: list[tuple[int, EventPayload]] = field(default_factory=list)  # (stream version, payload)
    # The pathway's own, incl. the decisions made since (the evaluations newly planned included).
    decided: list[EventPayload] = field(default_factory=list)
    referrer_agb: str | None = None
    # The last facts assessed, under which rules, and the guideline's assessment of them.
    _last_assessed: tuple[EpisodeFacts, Rules, GuidelineAssessment] | None = field(default=None, init=False)
    # What `react` weighs of `decided`, folded over the first `_remembered` of them.
    _remembered: int = field(default=0, init=False)
    _memory: PathwayMemory = field(default_factory=PathwayMemory, init=False)

    def intake_until(self, stream_version: int) -> list[EventPayload]:
        return [payload for version, payload in self.intake_events if version <= stream_version]

    def memory(self) -> PathwayMemory:
        """What the pathway recorded for the episode, as `react` weighs it: folded on from where it was last
        asked, as `decided` only grows."""
        self._memory.see_all(self.decided[self._remembered :])
        self._remembered = len(self.decided)
        return self._memory

    def assess(self, facts: EpisodeFacts, rules: Rules) -> GuidelineAssessment:
        """The guideline's assessment of `facts` under `rules`: the last one again when neither changed (an event
        that is no fact of the guideline's, such as a consent, on the day of the last)."""
        last = self._last_assessed
        if last is None or last[1] is not rules or last[0] != facts:
            last = self._last_assessed = (
                facts,
                rules,
                evaluate(facts, version=rules.rule_set.version, registry=rules.registry),
            )
        return last[2]


def decide(episode: EpisodeState, fact: IntakeFact, rules: Rules) -> tuple[list[EventPayload], list[TimerWrite]]:
    """What the pathway records because of one intake event (the first evaluation planned on a referral, every
    guideline decision that changed, the evaluations the change of plan planned) and what the store writes to
    the timers for it. `episode` takes the decisions as they are made."""
    plan = episode.plan
    interval = rules.evaluation_interval
    decided = episode.decided
    start = len(decided)
    writes: list[TimerWrite] = []
    if isinstance(fact.payload, intake.ReferralReceived):
        first = plan.first_evaluation(fact.occurred_at, interval)
        decided += first.announced
        writes += first.writes
    history = episode.intake_until(fact.stream_version)
    facts = build_facts(history, fact.occurred_at.date())
    if facts is not None:
        reactions = react(episode.memory(), episode.assess(facts, rules), fact.payload, episode.referrer_agb)
        decided += reactions
        for change in plan_changes(fact.payload, fact.occurred_at, reactions, interval):
            changed = plan.decide(change, interval)
            decided += changed.announced
            writes += changed.writes
    made = decided[start:]
    for payload in [fact.payload, *made]:
        plan.see(payload)
    return made, writes
