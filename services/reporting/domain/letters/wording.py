"""The Dutch a GP reads in a letter: names of plan parts, classes and reasons, and the sentences that say what
a measurement or a change means. Pure: no I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.reporting.domain.outcomes import NPRS_MCIC_POINTS, PSK_MCIC_POINTS, QBPDS_MCIC_POINTS, change

PLAN_NL = {
    "information_advice": "informatie en advies over rugpijn",
    "advice_stay_active": "advies: blijf zo actief mogelijk",
    "advice_no_bed_rest": "advies: bedrust is niet zinvol",
    "bed_rest_at_most_two_days": "zo nodig bedrust, hooguit twee dagen",
    "practising_functions_activities": "oefenen van functies en activiteiten",
    "time_contingent_activity_buildup": "tijdcontingente opbouw van activiteiten (graded activity)",
    "exercise_therapy_varied_programme": "oefentherapie met een gevarieerd programma",
    "exercise_therapy": "oefentherapie",
    "optional_check_up": "eventueel één controleafspraak",
    "inform_verwijzer_findings_and_advice": "de verwijzer wordt geïnformeerd over bevindingen en advies",
}
ADVICE = {"information_advice", "advice_stay_active", "advice_no_bed_rest", "bed_rest_at_most_two_days"}
MODALITY_NL = {
    "information_advice": "informatie en advies",
    "practising_functions_activities": "oefenen van functies en activiteiten",
    "exercise_therapy": "oefentherapie",
    "exercise_in_water": "oefentherapie in water",
    "graded_activity": "graded activity",
    "traction": "tractie",
    "biofeedback": "biofeedback",
    "massage": "massage",
    "electrotherapy": "elektrotherapie",
    "tens": "TENS",
    "ultrasound": "ultrageluid",
    "laser": "laser",
    "manual_therapy": "manuele therapie",
}
DURATION_NL = {"acute": "acuut (0–6 weken)", "subacute": "subacuut (7–12 weken)", "chronic": "chronisch (> 12 weken)"}
BELOOP_NL = {"normaal": "normaal", "afwijkend": "afwijkend", None: "nog niet te beoordelen"}
CLOSING_NL = {
    "goals_met": "de afgesproken doelen zijn bereikt",
    "patient_stops": "de patiënt is op eigen verzoek gestopt",
    "escalated_to_verwijzer": "de patiënt is terugverwezen naar u als verwijzer",
}
FACTOR_NL = {
    "reduced_mobility": "verminderde beweeglijkheid",
    "reduced_muscle_strength": "verminderde spierkracht",
    "reduced_coordination": "verminderde coördinatie",
    "other_biological": "andere lichamelijke factor",
    "fear_of_movement": "angst om te bewegen",
    "unrealistic_beliefs": "onjuiste opvattingen over de pijn",
    "other_psychological": "andere psychische factor",
    "work_situation": "werksituatie",
    "support_at_home": "steun of acceptatie thuis",
    "other_social": "andere sociale factor",
}
INFLUENCE_NL = {
    "yes": "door fysiotherapie te beïnvloeden",
    "partly": "deels door fysiotherapie te beïnvloeden",
    "no": "niet door fysiotherapie te beïnvloeden",
}
ILLNESS_NL = {"fever": "koorts", "weight_loss": "gewichtsverlies", "other": "andere algemene ziekteverschijnselen"}
#: Why the physiotherapist writes, said to the GP (the guideline engine's own explanation follows it).
REASON_NL = {
    "no_progress_after_three_weeks": "Na drie weken behandeling zijn de activiteiten en de participatie van de "
    "patiënt niet toegenomen: de behandeling heeft tot nu toe geen effect.",
    "radicular_signs": "Bij het onderzoek zijn er aanwijzingen voor een radiculair syndroom: de patiënt valt "
    "buiten de richtlijn aspecifieke lage rugpijn.",
    "general_illness_signs": "Er zijn algemene ziekteverschijnselen (zoals koorts of gewichtsverlies): de patiënt "
    "valt buiten de richtlijn aspecifieke lage rugpijn.",
    "suspected_specific_cause": "Er is een vermoeden van een specifieke oorzaak van de rugpijn.",
    "incomplete_referral": "De verwijzing mist gegevens die voor de behandeling nodig zijn.",
    "factors_beyond_physiotherapy": "Er spelen belemmerende factoren die de fysiotherapeut niet (alleen) kan "
    "beïnvloeden.",
}
#: What the physiotherapist asks of the verwijzer, per reason for contact (KNGF: "neemt contact op met de verwijzer").
QUESTION_NL = {
    "no_progress_after_three_weeks": "Wilt u beoordelen of aanvullend onderzoek of een andere behandeling nodig "
    "is, en ons laten weten of u de fysiotherapie voortgezet wilt zien?",
    "radicular_signs": "Wilt u de patiënt beoordelen op een radiculair syndroom? De fysiotherapie is gestopt tot "
    "wij van u horen.",
    "general_illness_signs": "Wilt u de patiënt beoordelen op een onderliggende aandoening? De fysiotherapie is "
    "gestopt tot wij van u horen.",
    "suspected_specific_cause": "Wilt u de patiënt beoordelen op een specifieke oorzaak van de rugpijn? De "
    "fysiotherapie is gestopt tot wij van u horen.",
    "incomplete_referral": "Wilt u de ontbrekende verwijsgegevens (hulpvraag en/of verwijsreden) aanvullen?",
    "factors_beyond_physiotherapy": "Er spelen factoren die de fysiotherapeut niet (alleen) kan beïnvloeden. Wilt "
    "u beoordelen welke andere hulp (bijvoorbeeld POH-GGZ, bedrijfsarts) nodig is?",
}


def d(day: date | None) -> str:
    """A date as Dutch correspondence writes it."""
    return day.strftime("%d-%m-%Y") if day else "onbekend"


def iso_to_d(text: str | None) -> str:
    """An ISO date from intake (yyyy-mm-dd) as dd-mm-yyyy."""
    if not text:
        return "onbekend"
    try:
        return d(date.fromisoformat(text))
    except ValueError:
        return text


def number(value: float | Decimal) -> str:
    """A number the Dutch way: decimal comma, no trailing zeros."""
    text = f"{float(value):.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def qbpds_meaning(score: int) -> str:
    return f"QBPDS {score} van 100 (beperkingen in dagelijkse activiteiten; 0 = geen, 100 = maximaal)"


def nprs_meaning(score: int) -> str:
    return f"NPRS {score} van 10 (pijnintensiteit; 0 = geen pijn, 10 = ergst denkbare pijn)"


def psk_meaning(mean: float, scale: str | None) -> str:
    top = "10" if scale == "0-10" else "100"
    return (
        f"PSK gemiddeld {number(mean)} van {top} (moeite met de door de patiënt gekozen activiteiten; "
        "hoger = moeilijker)"
    )


def change_sentence(name: str, before: float, after: float, scale: str | None = None) -> str:
    """The change of one instrument from intake to the end, and in words whether it is clinically relevant."""
    if name == "QBPDS":
        mcic = QBPDS_MCIC_POINTS
    elif name == "NPRS":
        mcic = NPRS_MCIC_POINTS
    else:
        mcic = PSK_MCIC_POINTS.get(scale or "0-10", Decimal(2))
    result = change(Decimal(str(before)), Decimal(str(after)), mcic)
    points = number(abs(result.improvement))
    if result.improvement > 0:
        moved = f"verbeterd met {points} punten"
    elif result.improvement < 0:
        moved = f"verslechterd met {points} punten"
    else:
        moved = "gelijk gebleven"
    verdict = (
        "de minimaal klinisch relevante verbetering is bereikt"
        if result.important
        else "de minimaal klinisch relevante verbetering is niet bereikt"
    )
    return (
        f"{name}: van {number(before)} bij de intake naar {number(after)} aan het einde, {moved}; {verdict} "
        f"(ten minste {number(mcic)} punten of 30 %)."
    )
