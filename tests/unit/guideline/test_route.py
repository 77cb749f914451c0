"""The HTTP route: facts in, assessment out; unknown version and bad facts are 422 naming the field."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.pathway.domain.guideline.facts import EXAMPLE_ACUTE_NORMAL, EXAMPLE_CHRONIC_DEVIATING
from services.pathway.routes.guideline import router


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_evaluate_returns_every_decision_for_the_facts(client: TestClient) -> None:
    response = client.post("/v1/guideline/evaluate", json=EXAMPLE_CHRONIC_DEVIATING)
    assert response.status_code == 200
    body = response.json()
    assert body["rule_version"] == "kngf-lrp-2003"
    assert body["duration"]["duration_class"] == "chronic"
    assert body["course"]["beloop"] == "afwijkend"
    assert body["evaluation"]["code"] == "evaluation.no_effect_escalate_to_verwijzer"
    assert body["evaluation"]["reference"]["label"] == "II.III Evaluatie"


def test_evaluate_accepts_an_explicit_known_version(client: TestClient) -> None:
    response = client.post("/v1/guideline/evaluate", params={"version": "kngf-lrp-2003"}, json=EXAMPLE_ACUTE_NORMAL)
    assert response.status_code == 200
    assert response.json()["course"]["beloop"] == "normaal"


def test_unknown_version_is_a_422_problem_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/guideline/evaluate", params={"version": "kngf-lrp-1999"}, json=EXAMPLE_ACUTE_NORMAL)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["loc"] == ["query", "version"]
    assert problem["errors"][0]["known_versions"] == ["kngf-lrp-2003"]


def test_bad_facts_are_a_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/v1/guideline/evaluate", json={**EXAMPLE_ACUTE_NORMAL, "onset_date": "2030-01-01"})
    assert response.status_code == 422
    assert ["body", "onset_date"] in [error["loc"] for error in response.json()["detail"]]


def test_compare_with_an_unknown_second_version_names_version_b(client: TestClient) -> None:
    response = client.post(
        "/v1/guideline/compare", params={"version_a": "kngf-lrp-2003", "version_b": "nope"}, json=EXAMPLE_ACUTE_NORMAL
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "version_b"]


def test_compare_of_a_version_with_itself_lists_no_differences(client: TestClient) -> None:
    response = client.post("/v1/guideline/compare", json=EXAMPLE_CHRONIC_DEVIATING)
    assert response.status_code == 200
    assert response.json() == []


def test_openapi_documents_the_operation_with_examples(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/guideline/evaluate"]["post"]
    assert operation["operationId"] == "evaluate_guideline"
    assert operation["summary"] == "Evaluate an episode's facts against the KNGF low-back-pain guideline."
    assert operation["tags"] == ["guideline"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"acute_normal", "chronic_deviating"}
