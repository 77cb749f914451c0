"""Builders for episode facts in tests: a valid acute, normal-course episode, changed per test."""

import copy
from datetime import date, timedelta
from typing import Any

from services.pathway.domain.guideline import Decision, EpisodeFacts

DECISION_DATE = date(2024, 6, 20)


def base_facts() -> dict[str, Any]:
    return {
        "decision_date": DECISION_DATE.isoformat(),
        "onset_date": (DECISION_DATE - timedelta(days=30)).isoformat(),
        "referral": {
            "verwijzer": "huisarts",
            "request_for_help_stated": True,
            "reason_for_referral_stated": True,
            "course_of_functioning_stated": True,
            "additional_examinations_stated": True,
            "prognosis_stated": True,
        },
        "previous_episodes": [],
        "scope": {
            "general_illness_signs": [],
            "radicular_signs_suspected": False,
            "neurological_exam": None,
            "specific_cause_suspected": False,
        },
        "course": {
            "complaints": "decreasing",
            "rest_moments_per_day": "decreasing",
            "analgesic_use": "none",
            "activities_or_participation_resumed": True,
            "asks_for_specialist_care": False,
            "activities_participation_increased": True,
        },
        "hindering_factors": [],
        "coping": "adequate",
        "care_context": {
            "weight_or_nutrition_concern": False,
            "pain_medication_questions": False,
            "work_problems": False,
        },
    }


def merge(target: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``changes`` into a copy of ``target``; nested dicts merge, everything else replaces."""
    result = copy.deepcopy(target)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def facts_dict(**changes: Any) -> dict[str, Any]:
    return merge(base_facts(), changes)


def facts(**changes: Any) -> EpisodeFacts:
    return EpisodeFacts.model_validate(facts_dict(**changes))


def days_ago(days: int) -> str:
    return (DECISION_DATE - timedelta(days=days)).isoformat()


def deviating_course() -> dict[str, Any]:
    return {"complaints": "same", "activities_participation_increased": False}


def qbpds(total: int) -> dict[str, Any]:
    """QBPDS answers summing to ``total`` (0-100), filled item by item."""
    items = []
    remaining = total
    for _ in range(20):
        item = min(5, remaining)
        items.append(item)
        remaining -= item
    return {"items": items}


def measurement(day: str, **instruments: Any) -> dict[str, Any]:
    return {"taken_on": day, **instruments}


def all_decisions(value: object) -> list[Decision]:
    """Every Decision inside an assessment, depth first."""
    if isinstance(value, Decision):
        found = [value]
        for name in type(value).model_fields:
            found += all_decisions(getattr(value, name))
        return found
    if isinstance(value, tuple):
        return [d for item in value for d in all_decisions(item)]
    if hasattr(type(value), "model_fields"):
        return [d for name in type(value).model_fields for d in all_decisions(getattr(value, name))]
    return []
