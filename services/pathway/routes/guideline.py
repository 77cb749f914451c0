"""HTTP routes of the guideline engine: stateless decision support, translating HTTP to ``evaluate``/``compare``."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from services.pathway.domain.guideline import (
    CURRENT,
    DEFAULT_REGISTRY,
    DecisionDifference,
    EpisodeFacts,
    GuidelineAssessment,
    UnknownRuleVersion,
    compare,
    evaluate,
)
from services.pathway.domain.guideline.facts import EXAMPLE_ACUTE_NORMAL, EXAMPLE_CHRONIC_DEVIATING

router = APIRouter(prefix="/v1/guideline", tags=["guideline"])

PROBLEM_MEDIA_TYPE = "application/problem+json"

_FACTS_EXAMPLES: dict[str, Any] = {
    "acute_normal": {
        "summary": "Acute episode with a normal course",
        "value": EXAMPLE_ACUTE_NORMAL,
    },
    "chronic_deviating": {
        "summary": "Chronic episode, deviating course, fear of movement, no effect after three weeks",
        "value": EXAMPLE_CHRONIC_DEVIATING,
    },
}

_PROBLEM_RESPONSE: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "Invalid facts, or an unknown rule version (problem+json naming the field).",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "example": {
                    "type": "urn:ruggengraat:problem:unknown-rule-version",
                    "title": "Unknown rule version",
                    "status": 422,
                    "detail": "unknown rule version 'kngf-lrp-1999'; known versions: kngf-lrp-2003",
                    "errors": [{"loc": ["query", "version"], "field": "version", "reason": "unknown rule version"}],
                }
            }
        },
    }
}

Facts = Annotated[EpisodeFacts, Body(openapi_examples=_FACTS_EXAMPLES)]


def _version_query(field: str) -> Any:
    return Query(
        description=f"Rule version; known: {', '.join(DEFAULT_REGISTRY.versions())}.",
        examples=[CURRENT],
        alias=field,
    )


def _unknown_version(field: str, error: UnknownRuleVersion) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        media_type=PROBLEM_MEDIA_TYPE,
        content={
            "type": "urn:ruggengraat:problem:unknown-rule-version",
            "title": "Unknown rule version",
            "status": 422,
            "detail": str(error),
            "errors": [
                {
                    "loc": ["query", field],
                    "field": field,
                    "reason": "unknown rule version",
                    "input": error.version,
                    "known_versions": list(error.known),
                }
            ],
        },
    )


@router.post(
    "/evaluate",
    response_model=GuidelineAssessment,
    operation_id="evaluate_guideline",
    summary="Evaluate an episode's facts against the KNGF low-back-pain guideline.",
    responses=_PROBLEM_RESPONSE,
)
def evaluate_guideline(
    facts: Facts,
    version: Annotated[str, _version_query("version")] = CURRENT,
) -> Any:
    """Evaluate an episode's facts against the KNGF low-back-pain guideline."""
    try:
        return evaluate(facts, version=version)
    except UnknownRuleVersion as error:
        return _unknown_version("version", error)


@router.post(
    "/compare",
    response_model=list[DecisionDifference],
    operation_id="compare_guideline_versions",
    summary="List the decisions that differ when the same facts are decided under two rule versions.",
    responses=_PROBLEM_RESPONSE,
)
def compare_guideline_versions(
    facts: Facts,
    version_a: Annotated[str, _version_query("version_a")] = CURRENT,
    version_b: Annotated[str, _version_query("version_b")] = CURRENT,
) -> Any:
    """List the decisions that differ when the same facts are decided under two rule versions."""
    try:
        return compare(facts, version_a, version_b)
    except UnknownRuleVersion as error:
        field = "version_a" if error.version == version_a else "version_b"
        return _unknown_version(field, error)
