"""What a draft protocol would have changed, episode by episode, with known differences: evaluations moved by a
longer interval, an escalation added by an earlier no-effect rule, an episode no longer overdue with more grace;
counted per practice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from deploy.intake_history import FIRST_DAY, at, episode_events
from services.pathway.domain.episode_decisions import IntakeFact
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL, Protocol, ProtocolValues
from services.pathway.domain.what_if import (
    FIGURES,
    EpisodeHistory,
    PracticeCounts,
    RulesCache,
    compare,
    figures_by_practice,
    published,
    replay,
    summarise,
)

BASE = {"referred": 0, "minute": 0, "onset_days": 120, "deviating": True, "radicular": False, "start_after": 2}
UNTIL = at(FIRST_DAY + timedelta(days=150))


def episode(name: str, practice: str = "04120001", **spec: object) -> EpisodeHistory:
    events = episode_events({**BASE, "baseline": 5, "closed_after": None, **spec}, 1)
    facts = [IntakeFact(version, moment, payload) for version, (moment, payload) in enumerate(events, start=1)]
    return EpisodeHistory(name, practice, "01234567", facts)


def draft(**values: int) -> Protocol:
    return Protocol(version="concept", values=ProtocolValues(**values))


def what_if(history: EpisodeHistory, protocol: Protocol):
    rules = RulesCache()
    before = replay(history, lambda _: GUIDELINE_PROTOCOL, UNTIL, rules)
    after = replay(history, lambda _: protocol, UNTIL, rules)
    return compare(history, before, after)


def test_under_the_guideline_itself_nothing_differs():
    history = episode("e", evaluations=[(21, 5), (42, 2)])
    difference = what_if(history, GUIDELINE_PROTOCOL)
    assert not difference.differs and difference.evaluations_moved == [] and difference.escalations_added == []


def test_evaluations_every_four_weeks_move_each_planned_evaluation_a_week_later():
    difference = what_if(episode("e", evaluations=[]), draft(evaluation_interval_days=28))
    [moved] = difference.evaluations_moved
    assert moved.number == 1 and moved.due_after - moved.due_before == timedelta(days=7)
    assert difference.differs and difference.escalations_added == [] and not difference.plan_changed


def test_contacting_the_referrer_after_two_weeks_adds_the_escalation_with_its_reason():
    no_effect_at_two_weeks = episode("e", evaluations=[(14, 5)])
    difference = what_if(no_effect_at_two_weeks, draft(no_effect_escalation_days=14))
    assert [e.reason for e in difference.escalations_added] == ["no_progress_after_three_weeks"]
    assert "verwijzer" in difference.escalations_added[0].explanation_nl
    assert difference.escalations_removed == []


def test_more_grace_takes_an_evaluation_done_ten_days_late_out_of_the_overdue():
    late = episode("e", evaluations=[(31, 1)])  # due on day 21 of treatment, done on day 31; the second never
    difference = what_if(late, draft(overdue_grace_days=14))
    assert (difference.overdue_before, difference.overdue_after) == ({1, 2}, {2})
    assert difference.differs and difference.evaluations_moved == []


def test_counts_per_practice_take_each_episode_once_per_kind():
    longer = draft(evaluation_interval_days=28, overdue_grace_days=14)
    differences = [
        what_if(episode("a", "04120001", evaluations=[]), longer),
        what_if(episode("b", "04120001", evaluations=[(31, 1)], closed_after=1), longer),
        what_if(episode("c", "04120002", evaluations=[(21, 1), (42, 0)]), longer),
    ]
    counts = summarise(differences)
    month = FIRST_DAY.replace(day=1)
    assert set(counts) == {("04120001", month), ("04120002", month)}
    first = counts[("04120001", month)]
    assert (first.episodes, first.episodes_changed, first.episodes_with_evaluations_moved) == (2, 2, 2)
    assert (first.overdue_before, first.overdue_after) == (2, 1)  # a: overdue either way; b: no longer
    assert (first.evaluations_overdue_before, first.evaluations_overdue_after) == (2, 1)
    assert counts[("04120002", month)].episodes == 1


def test_facts_after_the_period_are_not_decided():
    history = episode("e", evaluations=[(21, 5)])
    rules = RulesCache()
    cut = at(FIRST_DAY + timedelta(days=10))
    decided = replay(history, lambda _: GUIDELINE_PROTOCOL, cut, rules)
    assert all(d.at <= cut for d in decided)
    assert not any(d.payload.event_type.endswith("EvaluationCompleted") for d in decided)


def test_published_figures_never_tell_a_count_of_one_to_four_and_ask_again_the_same():
    month = FIRST_DAY.replace(day=1)
    for episodes in range(1, 13):
        for changed in range(episodes + 1):
            counts = PracticeCounts(
                episodes=episodes,
                episodes_changed=changed,
                escalations_added=Counter({"no_progress_after_three_weeks": changed % 3}),
                episodes_with_evaluations_moved=changed,
                overdue_before=episodes // 2,
                overdue_after=changed // 2,
            )
            figures = published(("04120001", month), counts)
            assert figures == published(("04120001", month), counts)  # repeatable: asking again tells nothing new
            if figures is None:
                continue
            assert all(figures[name] % 5 == 0 for name in FIGURES)
            assert figures["episodes"] == figures["episodes_changed"] + figures["episodes_unchanged"]
            assert abs(figures["episodes"] - episodes) < 5 and abs(figures["episodes_changed"] - changed) < 5
    # a practice's figures are the sum of its published months; one whose months all round to 0 is left out
    two_months = {
        ("04120001", month): PracticeCounts(episodes=10, episodes_changed=10),
        ("04120001", month.replace(month=month.month + 1)): PracticeCounts(episodes=5, episodes_changed=0),
        ("04120002", month): PracticeCounts(episodes=1, episodes_changed=1),
    }
    by_practice = figures_by_practice(two_months)
    assert by_practice["04120001"]["episodes"] == 15 and by_practice["04120001"]["episodes_changed"] == 10
    assert by_practice.get("04120002", {"episodes": 5})["episodes"] in (0, 5)
