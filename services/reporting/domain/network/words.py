"""The words of the network's figures in Dutch (the guideline's terms) and English: one source for the
page, the CSV headings and the visitation report, so no raw code reaches a reader. Pure: no I/O."""

from __future__ import annotations

from services.reporting.domain.network.facts import COURSES, DURATION_CLASSES, ESCALATION_REASONS
from services.reporting.domain.network.indicators import INDICATORS

LANGUAGES = ("nl", "en")

DURATION = {
    "nl": {
        "acute": "acuut (< 6 weken)",
        "subacute": "subacuut (6–12 weken)",
        "chronic": "chronisch (> 12 weken)",
        "unknown": "duur onbekend",
    },
    "en": {
        "acute": "acute (< 6 weeks)",
        "subacute": "subacute (6–12 weeks)",
        "chronic": "chronic (> 12 weeks)",
        "unknown": "duration unknown",
    },
}
COURSE = {
    "nl": {
        "normaal": "normaal beloop",
        "afwijkend": "afwijkend beloop",
        "not_classifiable": "beloop nog niet te classificeren",
        "unknown": "beloop onbekend",
    },
    "en": {
        "normaal": "normal course",
        "afwijkend": "deviating course",
        "not_classifiable": "course not yet classifiable",
        "unknown": "course unknown",
    },
}
REASON = {
    "nl": {
        "no_progress_after_three_weeks": "geen vooruitgang na drie weken",
        "radicular_signs": "radiculaire verschijnselen",
        "general_illness_signs": "tekenen van algemeen ziek-zijn",
        "suspected_specific_cause": "vermoeden van specifieke oorzaak",
        "incomplete_referral": "onvolledige verwijzing",
        "factors_beyond_physiotherapy": "factoren buiten de fysiotherapie",
    },
    "en": {
        "no_progress_after_three_weeks": "no progress after three weeks",
        "radicular_signs": "radicular signs",
        "general_illness_signs": "signs of general illness",
        "suspected_specific_cause": "suspected specific cause",
        "incomplete_referral": "incomplete referral",
        "factors_beyond_physiotherapy": "factors beyond physiotherapy",
    },
}
#: indicator: (label, denominator in words)
INDICATOR = {
    "nl": {
        "intake_measured": ("Gemeten bij intake", "episodes"),
        "evaluations_measured": ("Gemeten bij evaluatie", "evaluaties die aan de beurt waren"),
        "evaluations_on_time": ("Evaluaties op tijd", "evaluaties die aan de beurt waren"),
        "escalated": ("Terugverwezen naar de verwijzer", "episodes"),
        "mcic_qbpds": ("Klinisch relevante verbetering QBPDS", "episodes gemeten bij intake én evaluatie"),
        "mcic_nprs": ("Klinisch relevante verbetering NPRS", "episodes gemeten bij intake én evaluatie"),
        "mcic_psk": ("Klinisch relevante verbetering PSK", "episodes gemeten bij intake én evaluatie"),
        "started_timely": ("Eerste behandeling binnen 14 dagen", "behandelde episodes met bekende startdatum"),
        "sessions_per_episode": ("Behandelingen per episode", "behandelde episodes"),
        "days_to_first_session": (
            "Dagen van verwijzing tot eerste behandeling",
            "behandelde episodes met bekende startdatum",
        ),
        "improvement_qbpds": (
            "Gemiddelde verbetering QBPDS (punten, 0–100)",
            "episodes gemeten bij intake én evaluatie",
        ),
        "improvement_nprs": ("Gemiddelde verbetering NPRS (punten, 0–10)", "episodes gemeten bij intake én evaluatie"),
    },
    "en": {
        "intake_measured": ("Measured at intake", "episodes"),
        "evaluations_measured": ("Measured at evaluation", "evaluations that fell due"),
        "evaluations_on_time": ("Evaluations on time", "evaluations that fell due"),
        "escalated": ("Referred back to the referrer", "episodes"),
        "mcic_qbpds": ("Clinically important improvement QBPDS", "episodes measured at intake and evaluation"),
        "mcic_nprs": ("Clinically important improvement NPRS", "episodes measured at intake and evaluation"),
        "mcic_psk": ("Clinically important improvement PSK", "episodes measured at intake and evaluation"),
        "started_timely": ("First session within 14 days", "treated episodes with a known start"),
        "sessions_per_episode": ("Sessions per episode", "treated episodes"),
        "days_to_first_session": ("Days from referral to first session", "treated episodes with a known start"),
        "improvement_qbpds": ("Mean improvement QBPDS (points, 0–100)", "episodes measured at intake and evaluation"),
        "improvement_nprs": ("Mean improvement NPRS (points, 0–10)", "episodes measured at intake and evaluation"),
    },
}
UNIT = {
    "nl": {"%": "%", "sessions": "behandelingen", "days": "dagen", "points": "punten"},
    "en": {"%": "%", "sessions": "sessions", "days": "days", "points": "points"},
}
TERMS = {
    "nl": {
        "episodes": "episodes",
        "evaluations_due": "evaluaties aan de beurt",
        "escalated": "terugverwezen",
        "network": "netwerk",
        "suppressed": "afgeschermd (minder dan 10)",
        "method": "Alle aantallen zijn afgerond op vijftallen (gecontroleerde afronding): 0 betekent 0 tot 4,"
        " 5 betekent 1 tot 9. Percentages en gemiddelden worden berekend uit de afgeronde aantallen en pas"
        " getoond vanaf 10.",
    },
    "en": {
        "episodes": "episodes",
        "evaluations_due": "evaluations due",
        "escalated": "referred back",
        "network": "network",
        "suppressed": "suppressed (fewer than 10)",
        "method": "Every count is rounded to a multiple of five (controlled rounding): 0 means 0 to 4, 5 means"
        " 1 to 9. Shares and means are computed from the rounded counts and shown from 10 cases on.",
    },
}


def labels(language: str) -> dict[str, object]:
    """Every word a reader of the figures sees, for one language."""
    return {
        "duration": {c: DURATION[language][c] for c in DURATION_CLASSES},
        "course": {c: COURSE[language][c] for c in COURSES},
        "reason": {r: REASON[language][r] for r in ESCALATION_REASONS},
        "indicator": {
            i.key: {
                "label": INDICATOR[language][i.key][0],
                "denominator": INDICATOR[language][i.key][1],
                "unit": UNIT[language][i.unit],
            }
            for i in INDICATORS
        },
        "terms": TERMS[language],
    }
