"""A letter as a FHIR document: a `Bundle` of type `document` with the `Composition` first and every resource it
references (Patient, the physiotherapist as Practitioner and PractitionerRole, the practice as Organization,
the verwijzer as Practitioner, an Observation per score), validated with `fhir.resources` (its R4B models,
the R4 revision it ships; nothing used here differs from R4).

Codes: LOINC for the document types and for the NPRS (72514-3, the 0–10 numeric pain rating); QBPDS and PSK
have no LOINC or SNOMED code, so their Observations carry the instrument's name as text only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from markupsafe import escape

from services.reporting.documents.letters.letterhead import CLOSING, SALUTATION, letterhead
from services.reporting.domain.letters.content import LetterContent, Measured, personalised
from shared.practice_register import Address, LetterParties

AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
BIG = "http://fhir.nl/fhir/NamingSystem/big"
BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
LOINC = "http://loinc.org"
DOCUMENT_TYPE = {
    "start": ("11488-4", "Consult note"),
    "interim": ("11506-3", "Progress note"),
    "final": ("18842-5", "Discharge summary"),
}
INSTRUMENTS = {
    "qbpds": ({"text": "Quebec Back Pain Disability Scale (QBPDS), totaalscore 0–100"}, "{score}"),
    "nprs": (
        {
            "coding": [
                {
                    "system": LOINC,
                    "code": "72514-3",
                    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                }
            ],
            "text": "NPRS, pijnintensiteit 0–10",
        },
        "{score}",
    ),
    "psk": ({"text": "Patiënt Specifieke Klachten (PSK), gemiddelde score"}, "{score}"),
}
SURVEY = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "survey",
                "display": "Survey",
            }
        ]
    }
]
NAMESPACE = uuid.UUID("0b6f6f8e-2a51-5d2c-9c1e-7a4d3f1e2b90")


def _ref(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _id(letter_id: str, what: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{letter_id}:{what}"))


def _address(address: Address) -> dict[str, Any]:
    return {
        "line": [f"{address.street} {address.house_number}"],
        "postalCode": address.postcode,
        "city": address.city,
        "country": "NL",
    }


def _narrative(paragraphs: list[str], table: list[list[str]] | None = None) -> dict[str, str]:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if table:
        rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table)
        body += f"<table>{rows}</table>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body or "<p>-</p>"}</div>'}


def _observations(measurements: list[Measured], letter_id: str, patient: str) -> list[dict[str, Any]]:
    out = []
    for index, m in enumerate(measurements):
        for pick, (code, _) in INSTRUMENTS.items():
            value = getattr(m, pick)
            if value is None:
                continue
            out.append(
                {
                    "resourceType": "Observation",
                    "id": _id(letter_id, f"observation:{index}:{pick}"),
                    "status": "final",
                    "category": SURVEY,
                    "code": code,
                    "subject": _ref(patient),
                    "effectiveDateTime": m.taken_on.isoformat(),
                    "valueQuantity": {"value": round(float(value), 2), "unit": "score"},
                    "note": [{"text": "intake" if m.occasion == "intake" else f"evaluatie {m.evaluation_number}"}],
                }
            )
    return out


def render_fhir_document(
    content: LetterContent,
    personal: dict[str, Any] | None,
    parties: LetterParties,
    *,
    letter_id: str,
    episode_id: str,
    composed_at: datetime,
    corrects: str | None,
) -> dict[str, Any]:
    """The letter as a FHIR document Bundle, validated; JSON-ready."""
    from fhir.resources.R4B.bundle import Bundle

    head = letterhead(parties, personal)
    patient_id, practice_id = _id(letter_id, "patient"), _id(letter_id, "practice")
    therapist_id, role_id, referrer_id = (_id(letter_id, w) for w in ("therapist", "role", "referrer"))
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": "urn:ruggengraat:episode", "value": episode_id}],
    }
    if personal is not None:
        p = personal.get("patient", {})
        if p.get("bsn"):
            patient["identifier"].insert(0, {"system": BSN, "value": p["bsn"]})
        patient["name"] = [{"text": p.get("name")}]
        if p.get("birth_date"):
            patient["birthDate"] = p["birth_date"]
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "id": practice_id,
        "identifier": [{"system": AGB, "value": parties.practice_agb}],
        "name": parties.practice.name if parties.practice else f"Fysiotherapiepraktijk AGB {parties.practice_agb}",
    }
    if parties.practice is not None:
        organization["address"] = [_address(parties.practice.address)]
        organization["telecom"] = [{"system": "phone", "value": parties.practice.phone}] + (
            [{"system": "email", "value": parties.practice.email}] if parties.practice.email else []
        )
    resources: list[dict[str, Any]] = [patient, organization]
    authors = [_ref(practice_id)]
    if parties.therapist is not None:
        t = parties.therapist
        resources.append(
            {
                "resourceType": "Practitioner",
                "id": therapist_id,
                "identifier": [{"system": AGB, "value": t.agb}, {"system": BIG, "value": t.big}],
                "name": [{"text": t.name}],
            }
        )
        resources.append(
            {
                "resourceType": "PractitionerRole",
                "id": role_id,
                "practitioner": _ref(therapist_id),
                "organization": _ref(practice_id),
                "code": [{"text": "fysiotherapeut"}],
            }
        )
        authors.insert(0, _ref(role_id))
    extensions = []
    if parties.referrer_agb:
        referrer: dict[str, Any] = {
            "resourceType": "Practitioner",
            "id": referrer_id,
            "identifier": [{"system": AGB, "value": parties.referrer_agb}],
        }
        if parties.referrer is not None:
            referrer["name"] = [{"text": parties.referrer.name}]
            referrer["address"] = [_address(parties.referrer.address)]
        resources.append(referrer)
        extensions.append({"url": "urn:ruggengraat:fhir:recipient", "valueReference": _ref(referrer_id)})
    observations = _observations(content.measurements, letter_id, patient_id)
    resources += observations
    code, display = DOCUMENT_TYPE[content.kind]
    sections = [{"title": "Aanhef", "text": _narrative([SALUTATION, *head.notices])}]
    for section in personalised(content, personal):
        entry: dict[str, Any] = {"title": section.heading, "text": _narrative(section.paragraphs, section.table)}
        if section.chart == "measurements" and observations:
            entry["entry"] = [_ref(o["id"]) for o in observations]
        sections.append(entry)
    sections.append({"title": "Afsluiting", "text": _narrative([CLOSING, *head.signature])})
    composition: dict[str, Any] = {
        "resourceType": "Composition",
        "id": letter_id,
        "language": "nl-NL",
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "subject": _ref(patient_id),
        "date": composed_at.isoformat(),
        "author": authors,
        "custodian": _ref(practice_id),
        "title": content.title,
        "section": sections,
    }
    if extensions:
        composition["extension"] = extensions
    if corrects:
        composition["relatesTo"] = [{"code": "replaces", "targetReference": {"reference": f"Composition/{corrects}"}}]
    bundle = {
        "resourceType": "Bundle",
        "id": _id(letter_id, "bundle"),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{letter_id}"},
        "type": "document",
        "timestamp": composed_at.isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in [composition, *resources]
        ],
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
