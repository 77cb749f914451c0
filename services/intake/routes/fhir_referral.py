"""A FHIR ServiceRequest (R4; validated with `fhir.resources` R4B, R4's technical correction, in which
ServiceRequest is unchanged) translated into the intake's ReceiveReferral command.

What is read, following the Dutch profiles' naming systems:
- identifier[0].value                                   → referral_id (the sending system's id)
- authoredOn                                            → referred_on
- requester.identifier (AGB, naming system agb-z)       → referrer_agb; absent → direct access
- performer[0].identifier (AGB)                         → practice_agb
- category[0].coding[0].code "specialist"               → a specialist referral instead of a GP referral
- subject → a contained Patient: identifier (BSN), name[0].text or family/given, birthDate, telecom
- reasonCode[0].text → reason; note[0].text → request_for_help (hulpvraag)
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from services.intake.domain.episode import PatientDetails, ReceiveReferral

AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
BSN = "http://fhir.nl/fhir/NamingSystem/bsn"


class FhirReferralError(ValueError):
    """The ServiceRequest is invalid or lacks what a referral needs; names the FHIR path."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _identifier(identifiers: list[Any] | None, system: str) -> str | None:
    for identifier in identifiers or []:
        if identifier.system == system and identifier.value:
            return identifier.value
    return None


def _patient(request: ServiceRequest) -> Patient:
    reference = request.subject.reference if request.subject else None
    if not reference or not reference.startswith("#"):
        raise FhirReferralError("subject.reference", "must point at a contained Patient (#id)")
    for resource in request.contained or []:
        if isinstance(resource, Patient) and resource.id == reference[1:]:
            return resource
    raise FhirReferralError("contained", f"no contained Patient with id {reference[1:]!r}")


def _name(patient: Patient) -> str:
    if not patient.name:
        raise FhirReferralError("contained.Patient.name", "is required")
    name = patient.name[0]
    if name.text:
        return name.text
    parts = [*(name.given or []), name.family or ""]
    text = " ".join(p for p in parts if p)
    if not text:
        raise FhirReferralError("contained.Patient.name", "has neither text nor family/given")
    return text


def to_command(raw: bytes) -> ReceiveReferral:
    try:
        request = ServiceRequest.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "ServiceRequest"
        raise FhirReferralError(path, first["msg"]) from error
    except ValueError as error:
        raise FhirReferralError("ServiceRequest", str(error)) from error
    if request.intent not in ("order", "original-order", "proposal", "plan"):
        raise FhirReferralError("intent", "a referral is an order or a proposal")
    if not request.identifier or not request.identifier[0].value:
        raise FhirReferralError("identifier", "the sending system's referral id is required")
    if request.authoredOn is None:
        raise FhirReferralError("authoredOn", "the referral date is required")
    performer = request.performer[0] if request.performer else None
    practice = _identifier([performer.identifier], AGB) if performer and performer.identifier else None
    if practice is None:
        raise FhirReferralError("performer", f"the practice's AGB code ({AGB}) is required")
    referrer = (
        _identifier([request.requester.identifier], AGB) if request.requester and request.requester.identifier else None
    )
    category = request.category[0].coding[0].code if request.category and request.category[0].coding else None
    route = (
        "direct_access" if referrer is None else "specialist_referral" if category == "specialist" else "gp_referral"
    )
    patient = _patient(request)
    bsn = _identifier(patient.identifier, BSN)
    if bsn is None:
        raise FhirReferralError("contained.Patient.identifier", f"a BSN ({BSN}) is required")
    if patient.birthDate is None:
        raise FhirReferralError("contained.Patient.birthDate", "is required")
    telecom = {t.system: t.value for t in patient.telecom or []}
    try:
        details = PatientDetails(
            name=_name(patient),
            bsn=bsn,
            birth_date=patient.birthDate,
            phone=telecom.get("phone"),
            email=telecom.get("email"),
        )
    except ValidationError as error:
        first = error.errors()[0]
        fhir_name = {"bsn": "identifier", "birth_date": "birthDate", "phone": "telecom", "email": "telecom"}
        field = str(first["loc"][0]) if first["loc"] else "Patient"
        raise FhirReferralError(f"contained.Patient.{fhir_name.get(field, field)}", first["msg"]) from error
    try:
        return ReceiveReferral(
            referral_id=request.identifier[0].value,
            route=route,
            practice_agb=practice,
            referrer_agb=referrer,
            referred_on=request.authoredOn.date() if hasattr(request.authoredOn, "date") else request.authoredOn,
            patient=details,
            reason=request.reasonCode[0].text if request.reasonCode else None,
            request_for_help=request.note[0].text if request.note else None,
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise FhirReferralError(".".join(str(p) for p in first["loc"]), first["msg"]) from error
