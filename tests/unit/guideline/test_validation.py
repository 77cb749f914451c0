"""Bad input is a ValidationError naming the field, never a silent default."""

from typing import Any

import pytest
from pydantic import ValidationError

from services.pathway.domain.guideline import EpisodeFacts, evaluate

from .builders import days_ago, facts, facts_dict, measurement, qbpds

GOOD_PSK = {"scale": "0-10", "activities": [{"activity": "lopen", "score": 5}]}
WALK = {
    "activity": "wandelen",
    "intensity_unit": "km/u",
    "baseline": [{"duration_minutes": 10, "frequency_per_day": 1, "intensity": 3}],
    "goal": {"duration_minutes": 30, "frequency_per_day": 2, "intensity": 4},
}


def _graded(**changes: Any) -> dict:
    return {
        "start_date": days_ago(10),
        "graded_activity": {"start_date": days_ago(10), "days_to_goal": 28, "activities": [WALK], **changes},
    }


CASES = [
    ({"onset_date": "2024-06-21"}, ("onset_date",)),
    (
        {
            "measurements": [
                measurement(days_ago(1), psk={"scale": "0-10", "activities": [{"activity": "a", "score": -1}]})
            ]
        },
        ("measurements", 0, "psk", "activities", 0, "score"),
    ),
    (
        {
            "measurements": [
                measurement(days_ago(1), psk={"scale": "0-10", "activities": [{"activity": "a", "score": 11}]})
            ]
        },
        ("measurements", 0, "psk", "activities", 0, "score"),
    ),
    (
        {"measurements": [measurement(days_ago(1), qbpds={"items": [6] + [0] * 19})]},
        ("measurements", 0, "qbpds", "items", 0),
    ),
    ({"measurements": [measurement(days_ago(1), qbpds={"items": [0] * 19})]}, ("measurements", 0, "qbpds", "items")),
    ({"measurements": [measurement(days_ago(1), nprs=11)]}, ("measurements", 0, "nprs")),
    ({"measurements": [measurement(days_ago(1), nprs=-1)]}, ("measurements", 0, "nprs")),
    ({"measurements": [measurement(days_ago(1))]}, ("measurements", 0, "qbpds")),
    ({"measurements": [measurement("2024-06-21", nprs=3)]}, ("measurements", 0, "taken_on")),
    (
        {"measurements": [measurement(days_ago(1), nprs=3), measurement(days_ago(1), nprs=4)]},
        ("measurements", 1, "taken_on"),
    ),
    (
        {
            "measurements": [
                measurement(
                    days_ago(1),
                    psk={"scale": "0-10", "activities": [{"activity": f"a{i}", "score": 1} for i in range(6)]},
                )
            ]
        },
        ("measurements", 0, "psk", "activities"),
    ),
    (
        {
            "measurements": [
                measurement(
                    days_ago(1),
                    psk={"scale": "0-10", "activities": [{"activity": "a", "score": 1}, {"activity": "A", "score": 2}]},
                )
            ]
        },
        ("measurements", 0, "psk", "activities", 1, "activity"),
    ),
    (
        {
            "measurements": [
                measurement(
                    days_ago(1), start_back={"agreed_items_1_to_8": [True] * 7, "item_9_bothersomeness": "slightly"}
                )
            ]
        },
        ("measurements", 0, "start_back", "agreed_items_1_to_8"),
    ),
    (
        {"treatment": {"start_date": days_ago(1), "interventions": [{"modality": "cupping", "main_component": False}]}},
        ("treatment", "interventions", 0, "modality"),
    ),
    (
        {
            "treatment": {
                "start_date": days_ago(1),
                "interventions": [{"modality": "tens", "main_component": False}] * 2,
            }
        },
        ("treatment", "interventions", 1, "modality"),
    ),
    ({"treatment": {"start_date": "2024-06-21"}}, ("treatment", "start_date")),
    (
        {"previous_episodes": [{"onset_date": days_ago(40), "end_date": days_ago(20)}]},
        ("previous_episodes", 0, "end_date"),
    ),
    (
        {"previous_episodes": [{"onset_date": days_ago(100), "end_date": days_ago(120)}]},
        ("previous_episodes", 0, "end_date"),
    ),
    ({"scope": {"general_illness_signs": ["fever", "fever"]}}, ("scope", "general_illness_signs")),
    ({"scope": {"general_illness_signs": ["headache"]}}, ("scope", "general_illness_signs", 0)),
    ({"course": {"complaints": "better"}}, ("course", "complaints")),
    ({"referral": {"verwijzer": "buurman"}}, ("referral", "verwijzer")),
    ({"unexpected": True}, ("unexpected",)),
    (
        {"treatment": _graded(activities=[{**WALK, "goal": {**WALK["goal"], "intensity": 2}}])},
        ("treatment", "graded_activity", "activities", 0, "goal", "intensity"),
    ),
    (
        {
            "treatment": _graded(
                logged_days=[
                    {
                        "activity": "zwemmen",
                        "on": days_ago(2),
                        "duration_minutes": 1,
                        "frequency_per_day": 1,
                        "intensity": 1,
                    }
                ]
            )
        },
        ("treatment", "graded_activity", "logged_days", 0, "activity"),
    ),
    ({"treatment": _graded(days_to_goal=0)}, ("treatment", "graded_activity", "days_to_goal")),
    (
        {"treatment": _graded(), "hindering_factors": [{"kind": "fear_of_movement", "influence": "yes"}]},
        ("treatment", "graded_activity", "activities", 0, "threat_rank"),
    ),
    (
        {"closing": {"reason": "goals_met", "closed_on": "2024-06-21", "gp_report_consent": "given"}},
        ("closing", "closed_on"),
    ),
    ({"closing": {"reason": "bored", "closed_on": days_ago(1), "gp_report_consent": "given"}}, ("closing", "reason")),
]


@pytest.mark.parametrize(("changes", "loc"), CASES, ids=[".".join(map(str, loc)) for _, loc in CASES])
def test_bad_input_is_rejected_with_an_error_naming_the_field(changes: dict, loc: tuple) -> None:
    with pytest.raises(ValidationError) as caught:
        facts(**changes)
    assert loc in [tuple(error["loc"]) for error in caught.value.errors()]


@pytest.mark.parametrize("field", ["course", "scope", "coping", "hindering_factors", "previous_episodes"])
def test_a_missing_clinical_finding_is_an_error_not_a_default(field: str) -> None:
    data = facts_dict()
    del data[field]
    with pytest.raises(ValidationError) as caught:
        EpisodeFacts.model_validate(data)
    assert (field,) in [tuple(error["loc"]) for error in caught.value.errors()]


def test_facts_and_decisions_are_immutable() -> None:
    episode = facts(measurements=[measurement(days_ago(1), qbpds=qbpds(40))])
    with pytest.raises(ValidationError):
        episode.onset_date = episode.decision_date  # type: ignore[misc]
    assessment = evaluate(episode)
    with pytest.raises(ValidationError):
        assessment.duration.days_since_onset = 0  # type: ignore[misc]


def test_error_message_says_what_is_wrong() -> None:
    with pytest.raises(ValidationError) as caught:
        facts(onset_date="2024-07-01")
    assert "onset_date lies after decision_date" in str(caught.value)
