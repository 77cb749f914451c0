"""Citable references (guideline sections, leaflets, literature) that decisions rest on."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

KNGF_LRP_2003_DOCUMENT = "KNGF-richtlijn Lage-rugpijn (2003)"


class Reference(BaseModel):
    """A place in a source document that a decision rests on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document: str = Field(description="The source document.", examples=[KNGF_LRP_2003_DOCUMENT])
    section: str = Field(description="Section number or label in that document.", examples=["II.III"])
    title: str = Field(description="Section title, as written in the document.", examples=["Evaluatie"])

    label: str = Field(
        default="",
        description="Section number and title, e.g. 'II.III Evaluatie'; always derived from the two.",
        examples=["II.III Evaluatie"],
    )

    # A stored field rather than a computed one, so a serialised decision validates again unchanged.
    @model_validator(mode="before")
    @classmethod
    def _derive_label(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        expected = f"{data.get('section', '')} {data.get('title', '')}".strip()
        if data.get("label", expected) != expected:
            raise ValueError(f"label must be {expected!r}, the section and title")
        return {**data, "label": expected}


def _kngf(section: str, title: str) -> Reference:
    return Reference(document=KNGF_LRP_2003_DOCUMENT, section=section, title=title)


class Sections(BaseModel):
    """The references one rule version cites, one per rule, so a revision can renumber freely."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    demarcation: Reference
    normal_and_deviating_course: Reference
    role_of_physiotherapist: Reference
    collaboration: Reference
    referral: Reference
    history_and_instruments: Reference
    examination: Reference
    analysis: Reference
    treatment_plan: Reference
    treatment_normal_course: Reference
    treatment_deviating_course: Reference
    evaluation: Reference
    closing: Reference
    deviation_from_guideline: Reference
    scope_manual_therapy: Reference
    care_programme_leaflet: Reference
    gp_report_consent_leaflet: Reference
    qbpds: Reference
    psk: Reference
    mcic: Reference
    start_back: Reference


KNGF_2003_SECTIONS = Sections(
    demarcation=_kngf("Inleiding", "Afbakening lage-rugpijn"),
    normal_and_deviating_course=_kngf("Inleiding", "Normaal en afwijkend beloop"),
    role_of_physiotherapist=_kngf("Inleiding", "Rol van de fysiotherapeut"),
    collaboration=_kngf("Inleiding", "Samenwerking met andere disciplines"),
    referral=_kngf("I.I", "Verwijzing/aanmelding"),
    history_and_instruments=_kngf("I.II", "Anamnese"),
    examination=_kngf("I.III", "Onderzoek"),
    analysis=_kngf("I.IV", "Analyse"),
    treatment_plan=_kngf("I.V", "Behandelplan"),
    treatment_normal_course=_kngf("II.I", "Behandeling van patiënten met lage-rugpijn met een normaal beloop"),
    treatment_deviating_course=_kngf("II.II", "Behandeling van patiënten met lage-rugpijn bij een afwijkend beloop"),
    evaluation=_kngf("II.III", "Evaluatie"),
    closing=_kngf("II.IV", "Afsluiting, verslaggeving en verslaglegging"),
    deviation_from_guideline=_kngf("D", "Juridische betekenis van richtlijnen"),
    scope_manual_therapy=_kngf("Inleiding", "(openingsalinea: manuele therapie buiten beschouwing)"),
    care_programme_leaflet=Reference(
        document="Zorgprogramma Lage Rugpijn (patiëntenfolder, seed 000)",
        section="4-5",
        title="Wat houdt het zorgprogramma in? / Welke hulpverleners zijn er bij betrokken?",
    ),
    gp_report_consent_leaflet=Reference(
        document="Folder langdurige lage rugklachten (seed 002)",
        section="Hoe gaat onze fysiotherapeut te werk?",
        title="stap 4: verslag aan de huisarts met toestemming, bezwaar mogelijk",
    ),
    qbpds=Reference(
        document="Kopec JA et al. The Quebec Back Pain Disability Scale. Spine 1995;20(3):341-352",
        section="Scoring",
        title="20 items 0-5, totaal 0-100",
    ),
    psk=Reference(
        document="Beurskens AJHM et al. Responsiveness of functional status in low back pain. Pain 1996;65:71-76",
        section="PSK",
        title="Patiënt Specifieke Klachten",
    ),
    mcic=Reference(
        document="Ostelo RWJG et al. Interpreting change scores for pain and functional status in low "
        "back pain. Spine 2008;33(1):90-94",
        section="Results",
        title="MIC: NRS 2, VAS 15, QBPDS 20; of 30% verbetering t.o.v. de uitgangswaarde",
    ),
    start_back=Reference(
        document="Hill JC et al. A primary care back pain screening tool. Arthritis Rheum 2008;59(5):632-641",
        section="Scoring",
        title="totaal 0-3 laag; psychosociale subschaal (items 5-9) >= 4 hoog; anders midden",
    ),
)
