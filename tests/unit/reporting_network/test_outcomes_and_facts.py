"""The network's outcome rules and the per-episode fold: scores, MCIC, and order-independent facts."""

from __future__ import annotations

import itertools
import random
from datetime import date
from decimal import Decimal

from services.reporting.domain.network.facts import (
    COMPLETED,
    COURSE,
    DUE,
    ESCALATION,
    MEASUREMENT,
    OVERDUE,
    REFERRAL,
    SESSION,
    EpisodeFacts,
    minimise,
)
from services.reporting.domain.outcomes import NPRS_MCIC_POINTS, QBPDS_MCIC_POINTS, change, qbpds_total
from shared.events import intake
from shared.events.clinical import Measurement, PskActivityScore, PskAnswers, QbpdsAnswers
from shared.outcome_measures import psk_means


def test_qbpds_is_summed_prorated_over_two_missing_items_and_unscorable_beyond():
    assert qbpds_total([3] * 20) == 60
    assert qbpds_total([3] * 19 + [None]) == 60
    assert qbpds_total([1] * 17 + [2, None, None]) == 21  # 19/18 * 20 = 21.11
    assert qbpds_total([2] * 17 + [None] * 3) is None


def test_mcic_is_reached_by_points_or_by_thirty_percent_of_the_baseline():
    assert change(60, 40, QBPDS_MCIC_POINTS).important  # 20 points
    assert change(60, 41, QBPDS_MCIC_POINTS).important  # 19 points, but 31.7 % of the baseline
    assert not change(70, 52, QBPDS_MCIC_POINTS).important  # 18 points, 25.7 %
    assert change(50, 35, QBPDS_MCIC_POINTS).important  # 15 points = exactly 30 %
    assert not change(50, 36, QBPDS_MCIC_POINTS).important  # 14 points = 28 %
    assert change(6, 4, NPRS_MCIC_POINTS).important
    assert change(3, 2, NPRS_MCIC_POINTS).important  # 1 point = 33 %
    assert not change(6, 5, NPRS_MCIC_POINTS).important
    worse = change(4, 7, NPRS_MCIC_POINTS)
    assert not worse.important and worse.improvement == -3
    assert not change(0, 0, NPRS_MCIC_POINTS).important


def test_psk_compares_the_mean_of_activities_scored_at_both_moments():
    assert psk_means({"fietsen": 8, "tillen": 6, "zitten": 2}, {"fietsen": 4, "tillen": 5}) == (
        Decimal("7.00"),
        Decimal("4.50"),
    )
    assert psk_means({"fietsen": 8}, {"lopen": 2}) is None


def measurement(occasion: str, number: int | None, **instruments) -> dict:
    return {"occasion": occasion, "evaluation_number": number, "measurement": instruments}


def episode_events() -> list[tuple[str, int, dict]]:
    psk_intake = {
        "scale": "0-10",
        "activities": [{"activity": "Fietsen", "score": 8}, {"activity": "tillen", "score": 6}],
    }
    psk_later = {
        "scale": "0-10",
        "activities": [{"activity": "fietsen ", "score": 5}, {"activity": "Tillen", "score": 4}],
    }
    return [
        (REFERRAL, 1, {"practice_agb": "04123456", "referred_on": "2026-11-20"}),
        (MEASUREMENT, 4, measurement("intake", None, qbpds={"items": [3] * 20}, nprs=6, psk=psk_intake)),
        (SESSION, 6, {"session_number": 1}),
        (SESSION, 7, {"session_number": 2}),
        (COURSE, 2, {"beloop": None, "duration_class": "chronic"}),
        (COURSE, 5, {"beloop": "afwijkend", "duration_class": "chronic"}),
        (DUE, 7, {"evaluation_number": 1}),
        (COMPLETED, 9, {"evaluation_number": 1}),
        (MEASUREMENT, 8, measurement("evaluation", 1, qbpds={"items": [2] * 20}, nprs=5)),
        (DUE, 11, {"evaluation_number": 2}),
        (OVERDUE, 12, {"evaluation_number": 2}),
        (MEASUREMENT, 12, measurement("evaluation", 2, qbpds={"items": [1] * 20}, nprs=4, psk=psk_later)),
        (COMPLETED, 14, {"evaluation_number": 2}),
        (ESCALATION, 15, {"reason": "no_progress_after_three_weeks"}),
    ]


def fold(events) -> EpisodeFacts:
    facts = EpisodeFacts()
    for event in events:
        facts.apply(*event)
    return facts


def test_an_episode_is_summarised_from_its_latest_course_last_evaluation_and_its_evaluations():
    summary = fold(episode_events()).summary()
    assert summary is not None
    assert summary.practice_agb == "04123456" and summary.referral_month == date(2026, 11, 1)
    assert (summary.duration_class, summary.course) == ("chronic", "afwijkend")
    assert summary.escalation_reasons == ("no_progress_after_three_weeks",)
    assert (summary.evaluations_due, summary.evaluations_on_time, summary.evaluations_overdue) == (2, 1, 1)
    assert summary.sessions == 2
    assert summary.qbpds is not None and summary.qbpds.improvement == 40 and summary.qbpds.important
    assert summary.nprs is not None and summary.nprs.improvement == 2 and summary.nprs.important
    assert summary.psk is not None and summary.psk.improvement == Decimal("2.50") and summary.psk.important


def test_the_same_events_in_any_order_and_twice_give_the_same_facts():
    events = episode_events()
    expected = fold(events).to_json()
    rng = random.Random(7)
    for _ in range(25):
        shuffled = events + rng.sample(events, 5)
        rng.shuffle(shuffled)
        assert fold(shuffled).to_json() == expected


def test_facts_survive_their_json_form():
    facts = fold(episode_events())
    again = EpisodeFacts.from_json(facts.to_json())
    assert again.to_json() == facts.to_json() and again.summary() == facts.summary()
    assert EpisodeFacts.from_json("{}").summary() is None


def test_an_episode_is_not_counted_before_its_referral_is_known():
    facts = fold(episode_events()[1:])
    assert facts.summary() is None


def test_an_evaluation_done_before_it_fell_due_counts_as_due_and_on_time():
    facts = fold([episode_events()[0], (COMPLETED, 3, {"evaluation_number": 1})])
    summary = facts.summary()
    assert summary is not None
    assert (summary.evaluations_due, summary.evaluations_on_time, summary.evaluations_overdue) == (1, 1, 0)


def test_no_outcome_without_both_a_baseline_and_an_evaluation_and_psk_needs_one_scale():
    events = episode_events()
    only_intake = [e for e in events if not (e[0] == MEASUREMENT and e[2]["occasion"] == "evaluation")]
    summary = fold(only_intake).summary()
    assert summary is not None and summary.qbpds is None and summary.nprs is None and summary.psk is None
    other_scale = {"scale": "0-100", "activities": [{"activity": "fietsen", "score": 20}]}
    events = [*events, (MEASUREMENT, 20, measurement("evaluation", 3, psk=other_scale))]
    summary = fold(events).summary()
    assert summary is not None and summary.psk is None
    assert summary.qbpds is not None and summary.qbpds.improvement == 40  # evaluation 3 had no QBPDS


def test_the_copy_keeps_no_pseudonym_seal_or_screening():
    referral = intake.sample_referral()
    kept = minimise(referral)
    assert kept == {"practice_agb": "04123456", "referred_on": "2026-11-20"}
    measured = intake.MeasurementRecorded(
        occasion="intake",
        measurement=Measurement(
            taken_on=date(2026, 11, 20),
            qbpds=QbpdsAnswers(items=tuple([2] * 20)),
            psk=PskAnswers(scale="0-10", activities=(PskActivityScore(activity="fietsen", score=7),)),
            nprs=5,
        ),
    )
    kept = minimise(measured)
    assert set(kept) == {"occasion", "evaluation_number", "measurement"}
    assert set(kept["measurement"]) == {"qbpds", "psk", "nprs"}


def test_every_permutation_of_course_classifications_keeps_the_latest():
    courses = [
        (COURSE, 2, {"beloop": None, "duration_class": "acute"}),
        (COURSE, 4, {"beloop": "normaal", "duration_class": "acute"}),
        (COURSE, 9, {"beloop": "afwijkend", "duration_class": "subacute"}),
    ]
    for order in itertools.permutations(courses):
        summary = fold([episode_events()[0], *order]).summary()
        assert summary is not None and (summary.duration_class, summary.course) == ("subacute", "afwijkend")


def test_protocol_adherence_and_the_first_session_fold_in_any_order_and_old_copies_still_load():
    events = [
        *episode_events(),
        (SESSION, 16, {"session_number": 3, "session_on": "2026-12-15"}),
        (SESSION, 17, {"session_number": 4, "session_on": "2026-11-27"}),
    ]
    summaries = set()
    for seed in range(5):
        shuffled = list(events)
        random.Random(seed).shuffle(shuffled)
        summaries.add(fold(shuffled).summary())
    (summary,) = summaries
    assert summary is not None
    assert summary.measured_at_intake and summary.evaluations_measured == 2
    assert summary.days_to_first_session == 7  # referred 20 November, first session 27 November
    # a copy folded before the session's date and the measurements were kept has neither
    old = fold(episode_events()).to_json().replace(',"first_session":null', "").replace(',"measured":[0,1,2]', "")
    assert "measured" not in old and "first_session" not in old
    restored = EpisodeFacts.from_json(old).summary()
    assert restored is not None and restored.days_to_first_session is None and not restored.measured_at_intake
