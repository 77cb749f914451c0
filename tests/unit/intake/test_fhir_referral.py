"""A FHIR ServiceRequest becomes the same referral command as our own JSON; what is missing is named."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from services.intake.routes.fhir_referral import FhirReferralError, to_command

EXAMPLE = json.loads((Path(__file__).parent / "service_request.json").read_text())


def command_from(document: dict):
    return to_command(json.dumps(document).encode())


def test_a_gp_service_request_becomes_a_referral_command():
    command = command_from(EXAMPLE)
    assert command.referral_id == "HIS-2026-000777"
    assert (command.route, command.practice_agb, command.referrer_agb) == ("gp_referral", "04123456", "01234567")
    assert command.referred_on == date(2026, 11, 20)
    assert command.patient.name == "Johanna Vries" and command.patient.bsn == "999990019"
    assert command.reason == "Aspecifieke lage rugpijn" and command.request_for_help == "Wil weer kunnen tuinieren"


def test_without_a_requester_it_is_direct_access_and_a_specialist_category_is_a_specialist_referral():
    direct = copy.deepcopy(EXAMPLE)
    del direct["requester"]
    assert command_from(direct).route == "direct_access"
    specialist = copy.deepcopy(EXAMPLE)
    specialist["category"] = [{"coding": [{"code": "specialist"}]}]
    assert command_from(specialist).route == "specialist_referral"


def _without(path: list, document: dict | None = None) -> dict:
    changed = copy.deepcopy(document or EXAMPLE)
    node = changed
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return changed


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (_without(["identifier"]), "identifier"),
        (_without(["authoredOn"]), "authoredOn"),
        (_without(["performer"]), "performer"),
        (_without(["contained", 0, "identifier"]), "contained.Patient.identifier"),
        (_without(["contained", 0, "birthDate"]), "contained.Patient.birthDate"),
        ({**EXAMPLE, "subject": {"reference": "Patient/123"}}, "subject.reference"),
        ({**EXAMPLE, "authoredOn": "not a date"}, "authoredOn"),
        (
            {
                **EXAMPLE,
                "contained": [
                    {
                        **EXAMPLE["contained"][0],
                        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "123456789"}],
                    }
                ],
            },
            "contained.Patient.identifier",
        ),
    ],
)
def test_what_a_referral_needs_is_named_by_its_fhir_path(document: dict, path: str):
    with pytest.raises(FhirReferralError) as refused:
        command_from(document)
    assert refused.value.path.startswith(path)


def test_a_resource_that_is_not_a_service_request_is_refused():
    with pytest.raises(FhirReferralError):
        to_command(b'{"resourceType": "Patient", "id": "x"}')
    with pytest.raises(FhirReferralError):
        to_command(b"{not json")
