"""The generated contracts: JSON Schemas and the AsyncAPI document are current and cover every type."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from shared.events import REGISTRY, contracts, new_envelope
from shared.events.intake import sample_referral
from shared.events.topics import TOPICS


def test_checked_in_contracts_match_the_models():
    assert contracts.stale_files() == [], "run ./ruggengraat schemas and commit the result"


@pytest.fixture
def contracts_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "schemas"
    shutil.copytree(contracts.CONTRACTS_DIR, copy)
    monkeypatch.setattr(contracts, "CONTRACTS_DIR", copy)
    monkeypatch.setattr(contracts, "ASYNCAPI_PATH", copy / "asyncapi.yaml")
    return copy


def test_an_edited_schema_is_reported_stale(contracts_copy: Path):
    target = contracts_copy / "nl.ruggengraat.intake.ReferralReceived.v1.json"
    target.write_text(target.read_text().replace('"route"', '"route_renamed"'))
    assert contracts.stale_files() == ["nl.ruggengraat.intake.ReferralReceived.v1.json"]


def test_a_missing_schema_and_a_stale_asyncapi_are_reported(contracts_copy: Path):
    (contracts_copy / "nl.ruggengraat.pathway.EvaluationScheduled.v1.json").unlink()
    (contracts_copy / "asyncapi.yaml").write_text("asyncapi: 3.0.0\n")
    assert contracts.stale_files() == ["asyncapi.yaml", "nl.ruggengraat.pathway.EvaluationScheduled.v1.json"]


def test_a_schema_for_a_type_that_no_longer_exists_is_reported(contracts_copy: Path):
    (contracts_copy / "nl.ruggengraat.intake.Gone.v1.json").write_text("{}")
    assert contracts.stale_files() == ["nl.ruggengraat.intake.Gone.v1.json"]


def test_every_registered_type_has_a_schema_file_and_an_asyncapi_message_on_its_topic():
    document = yaml.safe_load(contracts.ASYNCAPI_PATH.read_text())
    assert document["asyncapi"].startswith("3.")
    addresses = {c["address"]: c for c in document["channels"].values()}
    for model in REGISTRY.models():
        assert (contracts.CONTRACTS_DIR / contracts.schema_file_name(model)).exists()
        name = model.event_type.rsplit(".", 1)[1]
        assert name in document["components"]["messages"]
        assert name in addresses[model.topic]["messages"]
    assert set(TOPICS) <= set(addresses)


def test_an_event_validates_against_its_json_schema_and_a_bad_one_does_not():
    schema = json.loads((contracts.CONTRACTS_DIR / "nl.ruggengraat.intake.ReferralReceived.v1.json").read_text())
    validator = Draft202012Validator(schema)
    event = new_envelope(
        sample_referral(route="direct_access", referrer_agb=None),
        service="intake",
        subject=str(uuid.uuid4()),
        stream_version=1,
        time=datetime.now(UTC),
        correlation_id=uuid.uuid4(),
    )
    instance = json.loads(event.to_json())
    assert list(validator.iter_errors(instance)) == []
    instance["data"]["route"] = "carrier_pigeon"
    errors = list(validator.iter_errors(instance))
    assert [list(e.absolute_path) for e in errors] == [["data", "route"]]
