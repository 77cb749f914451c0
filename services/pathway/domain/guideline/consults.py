"""Proposals to involve other disciplines (GP, pharmacist, dietitian, POH GGZ, occupational physician).

These are proposals with reasons, never actions: involving another discipline is agreed with the patient
by the physiotherapist (seed 000: "zo nodig wordt de hulp ... ingeschakeld").
"""

from typing import Literal

from pydantic import Field

from .decisions import Decision
from .facts import EpisodeFacts
from .instruments import MeasurementScores
from .reason_codes import ReasonCode
from .versions import RuleSet
from .vocabulary import AnalgesicUse, Coping, FactorDomain, FactorKind, Hulpverlener, StartBackRisk, Verwijzer


class ConsultProposal(Decision):
    """A proposal to involve another discipline."""

    hulpverlener: Hulpverlener = Field(description="The discipline proposed.", examples=["poh_ggz"])
    proposal_only: Literal[True] = Field(
        default=True, description="Always true: a proposal for the physiotherapist and patient, never automatic."
    )


def decide_consults(
    facts: EpisodeFacts,
    scores: tuple[MeasurementScores, ...],
    contact_verwijzer: bool,
    rules: RuleSet,
) -> tuple[ConsultProposal, ...]:
    s = rules.sections
    proposals: list[ConsultProposal] = []

    def propose(who: Hulpverlener, code: ReasonCode, nl: str, en: str, *, leaflet: bool = True) -> None:
        proposals.append(
            ConsultProposal(
                code=code,
                reason_nl=nl,
                reason_en=en,
                reference=s.care_programme_leaflet if leaflet else s.collaboration,
                rule_version=rules.version,
                hulpverlener=who,
            )
        )

    if contact_verwijzer and facts.referral.verwijzer is Verwijzer.MEDISCH_SPECIALIST:
        propose(
            Hulpverlener.HUISARTS,
            ReasonCode.CONSULT_HUISARTS_OVERVIEW,
            "Er is contact met de verwijzer nodig; stel voor ook de huisarts te informeren, die de "
            "eindverantwoordelijkheid en het overzicht houdt.",
            "The referrer must be contacted; propose to inform the GP as well, who keeps final responsibility "
            "and the overview.",
        )
    analgesics = facts.course.analgesic_use in (AnalgesicUse.CONTINUING, AnalgesicUse.INCREASING)
    if analgesics or facts.care_context.pain_medication_questions:
        why_nl = "het gebruik van pijnmedicatie houdt aan of neemt toe" if analgesics else "vragen over pijnmedicatie"
        why_en = "use of pain medication continues or increases" if analgesics else "questions about pain medication"
        propose(
            Hulpverlener.APOTHEKER,
            ReasonCode.CONSULT_APOTHEKER_PAIN_MEDICATION,
            f"Stel voor de apotheker te betrekken bij het pijnmedicatiegebruik ({why_nl}).",
            f"Propose involving the pharmacist in the use of pain medication ({why_en}).",
        )
    if facts.care_context.weight_or_nutrition_concern:
        propose(
            Hulpverlener.DIETIST,
            ReasonCode.CONSULT_DIETIST_WEIGHT_NUTRITION,
            "Gewicht of voeding speelt een rol: stel voor de diëtist te betrekken.",
            "Weight or nutrition plays a role: propose involving the dietitian.",
        )
    psychosocial = [
        f.kind.value
        for f in facts.hindering_factors
        if f.kind.domain in (FactorDomain.PSYCHOLOGICAL, FactorDomain.SOCIAL)
    ]
    if facts.coping is Coping.INADEQUATE:
        psychosocial.append("inadequate_coping")
    latest_start_back = next((m.start_back for m in reversed(scores) if m.start_back is not None), None)
    if latest_start_back is not None and latest_start_back.risk is StartBackRisk.HIGH:
        psychosocial.append("start_back_high_risk")
    if psychosocial:
        listed = ", ".join(psychosocial)
        propose(
            Hulpverlener.POH_GGZ,
            ReasonCode.CONSULT_POH_GGZ_PSYCHOSOCIAL,
            f"Psychosociale factoren spelen een rol ({listed}): stel voor de POH GGZ te betrekken.",
            f"Psychosocial factors play a role ({listed}): propose involving the practice mental-health nurse.",
        )
    work = facts.care_context.work_problems or any(f.kind is FactorKind.WORK_SITUATION for f in facts.hindering_factors)
    if work:
        propose(
            Hulpverlener.BEDRIJFSARTS,
            ReasonCode.CONSULT_BEDRIJFSARTS_WORK,
            "Problemen op het werk samenhangend met de lage-rugpijn: samenwerking met de bedrijfsarts is zinvol.",
            "Problems at work related to the low back pain: working with the occupational physician is useful.",
            leaflet=False,
        )
    return tuple(proposals)
