"""The published contracts: each service's OpenAPI is valid (openapi-spec-validator), declares the bearer scheme,
documents every error answer as problem+json and the right media types; the docs page loads nothing from
elsewhere; the AsyncAPI document is valid AsyncAPI 3.0.0; request bodies have a limit.

No maintained Python parser reads our AsyncAPI document correctly (pydantic-asyncapi 0.3.2 refuses Kafka
message bindings, which AsyncAPI 3.0.0 defines), so the document is validated against the official AsyncAPI
JSON Schema, `schemas/3.0.0.json` of the npm package `@asyncapi/specs` 6.11.1 (Apache-2.0), kept verbatim in
tests/contracts/, and each of its `$ref`s is resolved as a parser would.
"""

from __future__ import annotations

import importlib
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from openapi_spec_validator import validate

from services.intake.domain.episode import PatientDetails, ReceiveReferral
from services.intake.routes.referrals import REFERRAL_BODY_LIMIT, _refuse_future_dates
from shared.events import contracts
from shared.http import DEFAULT_BODY_LIMIT, PROBLEM
from shared.openapi import PROBLEM_REF

SERVICES = ("intake", "pathway", "reporting", "notifications")
ASYNCAPI_SCHEMA = Path(__file__).parents[2] / "contracts" / "asyncapi-3.0.0.json"
OPEN = {"/health", "/ready"}  # answer their checks as JSON, and need no token


@pytest.fixture(scope="module", params=SERVICES)
def app(request) -> FastAPI:
    return importlib.import_module(f"services.{request.param}.main").build()[0]


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_openapi_document_is_valid_and_declares_the_bearer_scheme(app: FastAPI):
    document = app.openapi()
    validate(document)
    (scheme,) = document["components"]["securitySchemes"].values()
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    secured = [path for path, _, operation in operations(document) if operation.get("security")]
    assert len(secured) >= len(list(operations(document))) - len(OPEN)


def test_every_error_answer_is_documented_as_problem_json(app: FastAPI):
    document = app.openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in operations(document):
        responses = operation["responses"]
        expected = {"503"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"413", "422"}
        if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
            expected |= {"409", "412"}
        assert expected <= set(responses), f"{method.upper()} {path}: {sorted(expected - set(responses))}"
        for status, response in responses.items():
            if int(status) >= 400 and path not in OPEN:
                assert response["content"][PROBLEM]["schema"] == PROBLEM_REF, f"{method.upper()} {path} {status}"
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], f"{method.upper()} {path}"
        if path not in OPEN:
            assert "Retry-After" in responses["503"]["headers"], f"{method.upper()} {path}"


def test_media_types_are_what_the_routes_send():
    def content(service: str, method: str, path: str, status: str = "200") -> set[str]:
        document = importlib.import_module(f"services.{service}.main").build()[0].openapi()
        return set(document["paths"][path][method]["responses"][status]["content"])

    assert content("reporting", "get", "/v1/letters/{letter_id}/pdf") == {"application/pdf"}
    assert content("reporting", "get", "/v1/letters/{letter_id}/fhir") == {"application/fhir+json"}
    assert content("reporting", "get", "/v1/network/quality.csv") == {"text/csv"}
    assert content("reporting", "get", "/v1/network/practices/{agb}/visitation") == {"application/pdf"}
    intake = importlib.import_module("services.intake.main").build()[0].openapi()
    referral_body = intake["paths"]["/v1/referrals"]["post"]["requestBody"]["content"]
    assert set(referral_body) == {"application/json", "application/fhir+json"}


def test_the_docs_page_loads_everything_from_the_service_itself(app: FastAPI):
    client = TestClient(app)  # no lifespan: the page and its assets need no database
    page = client.get("/docs")
    assert page.status_code == 200
    assert "SwaggerUIBundle" in page.text
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text), "the page names another host"
    assets = re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", page.text)
    assert len(assets) >= 3
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 500, asset
    assert client.get("/openapi.json").json()["info"]["title"] == app.title


def test_the_asyncapi_document_is_valid_asyncapi_3_and_every_reference_resolves():
    document = yaml.safe_load(contracts.ASYNCAPI_PATH.read_text())
    assert_valid_asyncapi(document)
    broken = json.loads(json.dumps(document))
    broken["operations"][next(iter(broken["operations"]))]["action"] = "publish"  # AsyncAPI 2's word
    with pytest.raises(AssertionError, match="publish"):
        assert_valid_asyncapi(broken)
    dangling = json.loads(json.dumps(document))
    first = next(iter(dangling["operations"].values()))
    first["channel"]["$ref"] = "#/channels/noSuchChannel"
    with pytest.raises(AssertionError, match="noSuchChannel"):
        assert_valid_asyncapi(dangling)


def assert_valid_asyncapi(document: dict[str, Any]) -> None:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in Draft7Validator(schema).iter_errors(document)]
    assert errors == [], "\n".join(errors[:10])
    unresolved = [ref for ref in references(document) if not resolves(document, ref)]
    assert unresolved == [], unresolved


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def resolves(document: dict[str, Any], ref: str) -> bool:
    target, _, pointer = ref.partition("#")
    if target:  # a file beside the document: the event's JSON Schema
        path = contracts.ASYNCAPI_PATH.parent / target
        if not path.is_file():
            return False
        node: Any = json.loads(path.read_text())
    else:
        node = document
    for part in filter(None, pointer.split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_a_body_larger_than_its_route_accepts_is_refused_before_it_is_read():
    app = importlib.import_module("services.intake.main").build()[0]
    client = TestClient(app)
    episode = "/v1/episodes/00000000-0000-0000-0000-000000000001/history"

    declared = client.post(episode, content=b"{}", headers={"content-length": str(20 * 1024 * 1024)})
    assert declared.status_code == 413
    assert declared.headers["content-type"] == PROBLEM
    assert declared.headers["x-correlation-id"]
    assert declared.json()["detail"] == f"the body has {20 * 1024 * 1024} bytes; at most {DEFAULT_BODY_LIMIT} are read"

    # The referral route takes more (FHIR), and its documented 413 says how much.
    referral_413 = client.post("/v1/referrals", content=b"x" * (REFERRAL_BODY_LIMIT + 1))
    assert referral_413.json()["detail"].endswith(f"at most {REFERRAL_BODY_LIMIT} are read")
    documented = app.openapi()["paths"]["/v1/referrals"]["post"]["responses"]["413"]["description"]
    assert documented.endswith(f": {REFERRAL_BODY_LIMIT} bytes")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(DEFAULT_BODY_LIMIT // 1024 + 2):
            yield b" " * 1024

    streamed = client.post(episode, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == PROBLEM
    assert streamed.json()["status"] == 413


def referral(**dates: date) -> ReceiveReferral:
    patient = PatientDetails(name="J. de Vries", bsn="999990019", birth_date=date(1968, 4, 12))
    values: dict[str, Any] = {"referral_id": "R-1", "route": "direct_access", "practice_agb": "04123456"}
    return ReceiveReferral(**values, patient=patient, **{"referred_on": date(2026, 12, 5), **dates})


def test_a_referral_dated_after_today_in_the_netherlands_is_refused_naming_the_field():
    evening = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)  # 00:30 on the 6th in Amsterdam
    _refuse_future_dates(referral(referred_on=date(2026, 12, 6)), "application/json", evening)
    with pytest.raises(RequestValidationError) as refused:
        _refuse_future_dates(referral(referred_on=date(2031, 12, 5)), "application/json", evening)
    assert [e["loc"] for e in refused.value.errors()] == [("body", "referred_on")]
    with pytest.raises(RequestValidationError) as refused:
        _refuse_future_dates(referral(referred_on=date(2031, 1, 1)), "application/fhir+json", evening)
    assert [e["loc"] for e in refused.value.errors()] == [("body", "authoredOn")]
    with pytest.raises(RequestValidationError) as refused:
        _refuse_future_dates(referral(symptom_onset=date(2027, 1, 1)), "application/json", evening)
    assert [e["loc"] for e in refused.value.errors()] == [("body", "symptom_onset")]
