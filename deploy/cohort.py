"""A cohort of demo patients with varied courses, generated from a seed, and the practice's actions for
each simulated week. Deterministic: the same seed gives the same cohort and the same script."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

PROFILES = {
    # name: (weight, onset days before referral, course, scope override, progress per evaluation, objects)
    "acute_normal": 5,
    "subacute_deviating_progress": 3,
    "chronic_deviating_progress": 4,
    "chronic_deviating_no_progress": 3,
    "radicular": 1,
    "general_illness": 1,
    "fear_of_movement": 2,
    "objects_to_reports": 1,
}

NORMAL = {
    "complaints": "decreasing",
    "rest_moments_per_day": "decreasing",
    "analgesic_use": "stopped",
    "activities_or_participation_resumed": True,
    "asks_for_specialist_care": False,
    "activities_participation_increased": True,
}
DEVIATING = {
    "complaints": "same",
    "rest_moments_per_day": "increasing",
    "analgesic_use": "continuing",
    "activities_or_participation_resumed": False,
    "asks_for_specialist_care": False,
    "activities_participation_increased": False,
}
CARE = {"weight_or_nutrition_concern": False, "pain_medication_questions": False, "work_problems": False}
WITHIN = {
    "general_illness_signs": [],
    "radicular_signs_suspected": False,
    "neurological_exam": None,
    "specific_cause_suspected": False,
}
GRADED = ("chronic_deviating_progress", "chronic_deviating_no_progress", "fear_of_movement")
GOALS = "Weer 30 minuten naar het werk fietsen; weer de boodschappen zelf dragen."
STREETS = ["Lindelaan", "Oudegracht", "Biltstraat", "Amsterdamsestraatweg"]
PRACTICE_NAMES = ["Fysiotherapie De Linde", "Fysio Oudegracht", "Rugcentrum Biltstraat", "Fysiotherapie Zuilen"]
THERAPIST_NAMES = [
    ["M. de Boer", "K. El Idrissi"],
    ["S. Verhoeven", "T. Nguyen"],
    ["R. Dekker", "L. Smit"],
    ["P. Bos", "E. Kaya"],
]


def practice_entry(agb: str, index: int) -> dict[str, Any]:
    """The demo practices as the register holds them: each with two physiotherapists."""
    return {
        "name": PRACTICE_NAMES[index % len(PRACTICE_NAMES)],
        "address": {
            "street": STREETS[index % len(STREETS)],
            "house_number": str(10 + index),
            "postcode": "3511 AB",
            "city": "Utrecht",
        },
        "phone": f"030-12345{60 + index}",
        "email": f"info@praktijk{index + 1}.example.nl",
        "physiotherapists": [
            {"agb": therapist_agb(agb, n), "big": f"190123456{index}{n}", "name": name}
            for n, name in enumerate(THERAPIST_NAMES[index % len(THERAPIST_NAMES)])
        ],
    }


def therapist_agb(practice_agb: str, n: int) -> str:
    return f"04{practice_agb[-4:]}{n:02d}"


REFERRER_ENTRY = {
    "name": "A. Jansen",
    "practice_name": "Huisartsenpraktijk Oudwijk",
    "address": {"street": "Oudwijk", "house_number": "3", "postcode": "3581 TA", "city": "Utrecht"},
    "phone": "030-7654321",
}


def psk(level: int) -> dict:
    return {
        "scale": "0-10",
        "activities": [
            {"activity": "fietsen", "score": max(0, min(10, level))},
            {"activity": "tillen", "score": max(0, min(10, level + 1))},
        ],
    }


def graded_programme(start: date) -> dict:
    return {
        "start_date": start.isoformat(),
        "days_to_goal": 56,
        "activities": [
            {
                "activity": "fietsen",
                "intensity_unit": "km/u",
                "baseline": [{"duration_minutes": 10, "frequency_per_day": 1, "intensity": 12}],
                "goal": {"duration_minutes": 30, "frequency_per_day": 2, "intensity": 15},
                "threat_rank": 1,
            }
        ],
    }


FIRST_NAMES = ["Anna", "Bram", "Chantal", "Dirk", "Esra", "Fleur", "Gijs", "Hanna", "Ilse", "Joost", "Karim", "Lotte"]
LAST_NAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Yilmaz", "Bos"]


def bsn(rng: random.Random) -> str:
    while True:
        prefix = f"{rng.randrange(10_000_000, 99_999_999):08d}"
        total = sum(int(d) * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
        check = total % 11
        if check < 10 and total != check:
            return prefix + str(check)


@dataclass
class DemoPatient:
    index: int
    profile: str
    referral: dict[str, Any]
    onset_days: int
    episode_id: str | None = None
    closed: bool = False


def generate(seed: int, size: int, practices: list[str], referrer: str) -> list[DemoPatient]:
    rng = random.Random(seed)
    names, weights = zip(*PROFILES.items(), strict=True)
    patients = []
    for index in range(size):
        profile = rng.choices(names, weights)[0]
        onset_days = {
            "acute_normal": rng.randint(22, 35),
            "subacute_deviating_progress": rng.randint(50, 80),
            "fear_of_movement": rng.randint(90, 200),
        }.get(profile, rng.randint(90, 400))
        practice = practices[index % len(practices)]
        patients.append(
            DemoPatient(
                index=index,
                profile=profile,
                onset_days=onset_days,
                referral={
                    "referral_id": f"DEMO-{seed}-{index:03d}",
                    "route": "gp_referral",
                    "practice_agb": practice,
                    "referrer_agb": referrer,
                    "patient": {
                        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                        "bsn": bsn(rng),
                        "birth_date": date(rng.randint(1945, 2000), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
                    },
                    "request_for_help": "Weer kunnen werken en sporten zonder rugpijn.",
                    "reason": "Lage rugpijn zonder rode vlaggen.",
                },
            )
        )
    return patients


def qbpds(level: int) -> dict:
    return {"items": [max(0, min(5, level))] * 20}


def week_actions(
    patient: DemoPatient, week: int, today: date, *, letters: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """What the practice records for this patient in simulated week `week` (0 = intake). With `letters` it also
    measures the PSK and runs graded activity with a logbook, so every section of the GP letters has content
    (the demo); without, the cohort stays as the network's tests count it (QBPDS and NPRS only)."""
    p = patient.profile
    day = today.isoformat()
    if week == 0:
        course = NORMAL if p == "acute_normal" else DEVIATING
        scope = dict(WITHIN)
        if p == "radicular":
            scope |= {
                "radicular_signs_suspected": True,
                "neurological_exam": {
                    "lasegue_positive": True,
                    "muscle_strength_reduced": False,
                    "sensibility_disturbed": True,
                    "tendon_reflexes_abnormal": False,
                },
            }
        if p == "general_illness":
            scope |= {"general_illness_signs": ["fever"]}
        factors = [{"kind": "fear_of_movement", "influence": "yes"}] if p == "fear_of_movement" else []
        actions: list[tuple[str, dict[str, Any]]] = [
            (
                "history",
                {
                    "taken_on": day,
                    "onset_date": (today - timedelta(days=patient.onset_days)).isoformat(),
                    "course": course,
                    "hindering_factors": factors,
                    "care_context": {**CARE, "pain_medication_questions": p == "fear_of_movement"},
                    "coping": "inadequate" if p == "fear_of_movement" else "adequate",
                },
            ),
            ("assessment", {"assessed_on": day, "scope": scope}),
            (
                "measurements",
                {
                    "occasion": "intake",
                    "measurement": {
                        "taken_on": day,
                        "qbpds": qbpds(3),
                        "nprs": 6,
                        **({"psk": psk(7)} if letters else {}),
                    },
                },
            ),
            ("report-consent", {"consent": "objected" if p == "objects_to_reports" else "given", "on": day}),
        ]
        if p in ("radicular", "general_illness"):
            return [*actions, ("closing", {"closed_on": day, "reason": "escalated_to_verwijzer"})]
        modality = "information_advice" if p == "acute_normal" else "exercise_therapy"
        plan: dict[str, Any] = {
            "agreed_on": day,
            "start_date": day,
            "planned_sessions": 2 if p == "acute_normal" else 12,
            "interventions": [{"modality": modality, "main_component": True}],
            "goals": GOALS,
        }
        if letters and p in GRADED:
            plan["interventions"].append({"modality": "graded_activity", "main_component": True})
            plan["graded_activity"] = graded_programme(today)
        actions.append(("treatment-plan", plan))
        actions.append(("sessions", {"session_on": day}))
        if p == "acute_normal":
            actions.append(("closing", {"closed_on": day, "reason": "goals_met"}))
        return actions
    if patient.closed or p in ("radicular", "general_illness", "acute_normal"):
        return []
    actions = [("sessions", {"session_on": day})]
    if letters and p in GRADED:
        done = 10 + (2 * week if p != "chronic_deviating_no_progress" else 0)
        actions.append(
            (
                "activity-logs",
                {
                    "day": {
                        "activity": "fietsen",
                        "on": day,
                        "duration_minutes": done,
                        "frequency_per_day": 1,
                        "intensity": 12,
                    }
                },
            )
        )
    if week % 3 == 0:
        evaluation = week // 3
        improving = p != "chronic_deviating_no_progress"
        level = 3 - evaluation if improving else 3
        actions.append(
            (
                "measurements",
                {
                    "occasion": "evaluation",
                    "evaluation_number": evaluation,
                    "measurement": {
                        "taken_on": day,
                        "qbpds": qbpds(level),
                        "nprs": max(0, 6 - 2 * evaluation) if improving else 6,
                        **({"psk": psk(7 - 2 * evaluation if improving else 7)} if letters else {}),
                    },
                },
            )
        )
        if not improving and evaluation == 1:
            actions.append(("closing", {"closed_on": day, "reason": "escalated_to_verwijzer"}))
        elif improving and evaluation == 3:
            actions.append(("closing", {"closed_on": day, "reason": "goals_met"}))
    return actions
