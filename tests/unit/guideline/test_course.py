"""The course (beloop) rule: indications, the three-week rule, and 'not yet classifiable'."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pathway.domain.guideline import Beloop, ReasonCode, evaluate

from .builders import days_ago, facts

ONE_INDICATION = [
    ({"complaints": "same"}, ReasonCode.INDICATION_COMPLAINTS_SAME_OR_INCREASING),
    ({"complaints": "increasing"}, ReasonCode.INDICATION_COMPLAINTS_SAME_OR_INCREASING),
    ({"rest_moments_per_day": "increasing"}, ReasonCode.INDICATION_REST_MOMENTS_INCREASING),
    ({"analgesic_use": "continuing"}, ReasonCode.INDICATION_ANALGESICS_CONTINUING_OR_INCREASING),
    ({"analgesic_use": "increasing"}, ReasonCode.INDICATION_ANALGESICS_CONTINUING_OR_INCREASING),
    ({"activities_or_participation_resumed": False}, ReasonCode.INDICATION_ACTIVITIES_NOT_RESUMED),
    ({"asks_for_specialist_care": True}, ReasonCode.INDICATION_ASKS_FOR_SPECIALIST),
]


@pytest.mark.parametrize(("course", "indication"), ONE_INDICATION)
def test_each_single_indication_makes_the_course_afwijkend(course: dict, indication: ReasonCode) -> None:
    decision = evaluate(facts(course=course)).course
    assert decision.beloop is Beloop.AFWIJKEND
    assert decision.code is ReasonCode.COURSE_DEVIATING_INDICATIONS
    assert decision.indications == (indication,)
    assert decision.reference.section == "I.IV"


def test_no_increase_within_three_weeks_makes_the_course_afwijkend() -> None:
    decision = evaluate(facts(course={"activities_participation_increased": False})).course
    assert decision.beloop is Beloop.AFWIJKEND
    assert decision.code is ReasonCode.COURSE_DEVIATING_NO_INCREASE
    assert decision.indications == ()


def test_increase_without_indications_is_a_normal_course() -> None:
    decision = evaluate(facts()).course
    assert decision.beloop is Beloop.NORMAAL
    assert decision.code is ReasonCode.COURSE_NORMAL


@pytest.mark.parametrize(("days", "classified"), [(20, False), (21, True)])
def test_course_is_classifiable_from_day_21_and_not_on_day_20(days: int, classified: bool) -> None:
    decision = evaluate(facts(onset_date=days_ago(days), course={"complaints": "same"})).course
    if classified:
        assert decision.beloop is Beloop.AFWIJKEND
    else:
        assert decision.beloop is None
        assert decision.code is ReasonCode.COURSE_NOT_YET_CLASSIFIABLE
    assert decision.observed_days == days


# Both sides of day 21 (I.IV consensus rule: deviating when *within* three weeks there was no increase).
DAY_21_TABLE = [
    # days, increased, an indication present, beloop, code
    (0, True, False, Beloop.NORMAAL, ReasonCode.COURSE_NORMAL_EARLY_INCREASE),
    (20, True, False, Beloop.NORMAAL, ReasonCode.COURSE_NORMAL_EARLY_INCREASE),
    (21, True, False, Beloop.NORMAAL, ReasonCode.COURSE_NORMAL),
    (20, False, False, None, ReasonCode.COURSE_NOT_YET_CLASSIFIABLE),
    (21, False, False, Beloop.AFWIJKEND, ReasonCode.COURSE_DEVIATING_NO_INCREASE),
    (20, True, True, None, ReasonCode.COURSE_NOT_YET_CLASSIFIABLE),
    (21, True, True, Beloop.AFWIJKEND, ReasonCode.COURSE_DEVIATING_INDICATIONS),
    (20, False, True, None, ReasonCode.COURSE_NOT_YET_CLASSIFIABLE),
    (21, False, True, Beloop.AFWIJKEND, ReasonCode.COURSE_DEVIATING_NO_INCREASE),
]


@pytest.mark.parametrize(("days", "increased", "indication", "beloop", "code"), DAY_21_TABLE)
def test_the_course_on_both_sides_of_day_21(
    days: int, increased: bool, indication: bool, beloop: Beloop | None, code: ReasonCode
) -> None:
    course = {**NORMAL_VALUES, "activities_participation_increased": increased}
    if indication:
        course["complaints"] = "same"
    decision = evaluate(facts(onset_date=days_ago(days), course=course)).course
    assert (decision.beloop, decision.code) == (beloop, code)
    if code is ReasonCode.COURSE_NORMAL_EARLY_INCREASE:
        assert f"na {days} dagen al toe, binnen 3 weken" in decision.reason_nl
        assert decision.reference.title == "Normaal en afwijkend beloop"


def test_not_yet_classifiable_course_reports_indications_and_the_date_it_can_be_classified() -> None:
    decision = evaluate(facts(onset_date="2024-06-10", course={"asks_for_specialist_care": True})).course
    assert decision.beloop is None
    assert decision.classifiable_on == date(2024, 7, 1)
    assert decision.indications == (ReasonCode.INDICATION_ASKS_FOR_SPECIALIST,)
    assert "2024-07-01" in decision.reason_en and "2024-07-01" in decision.reason_nl


NORMAL_VALUES = {
    "complaints": "decreasing",
    "rest_moments_per_day": "decreasing",
    "analgesic_use": "none",
    "activities_or_participation_resumed": True,
    "asks_for_specialist_care": False,
}
SIGNS = {
    "complaints": st.sampled_from(["same", "increasing"]),
    "rest_moments_per_day": st.just("increasing"),
    "analgesic_use": st.sampled_from(["continuing", "increasing"]),
    "activities_or_participation_resumed": st.just(False),
    "asks_for_specialist_care": st.just(True),
}


@settings(max_examples=50, deadline=None)
@given(
    signs=st.sets(st.sampled_from(sorted(SIGNS)), min_size=1).flatmap(
        lambda keys: st.fixed_dictionaries({k: SIGNS[k] for k in keys})
    ),
    days=st.integers(min_value=21, max_value=400),
    increased=st.booleans(),
)
def test_one_sign_suffices_for_afwijkend(signs: dict, days: int, increased: bool) -> None:
    course = {**NORMAL_VALUES, **signs, "activities_participation_increased": increased}
    decision = evaluate(facts(onset_date=days_ago(days), course=course)).course
    assert decision.beloop is Beloop.AFWIJKEND
    assert len(decision.indications) >= 1
