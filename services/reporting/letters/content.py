"""What a letter to the GP says, decided from the episode's events. Pure: no I/O, no clock.

The letter facts hold structured data only (dates, codes, scores, the guideline's reasons): the patient's
identity and free text never reach reporting's tables; a rendering asks intake for them when it is shown.
Which letters fall due follows the KNGF guideline on informing the GP (II.IV): a start report after intake,
an interim report when the verwijzer must be contacted, a final report at closing — none when the patient
objects (seed 002).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.network.outcomes import qbpds_total
from shared.events.intake import (
    ActivityLogged,
    EpisodeClosed,
    HistoryTaken,
    MeasurementRecorded,
    ReferralReceived,
    ReportConsentGiven,
    ReportObjectionRecorded,
    SessionRecorded,
    TreatmentPlanAgreed,
)
from shared.events.pathway import (
    BeloopClassified,
    EscalatedToReferrer,
    EvaluationCompleted,
    TreatmentPlanProposed,
)
from shared.events.payload import EventPayload

Kind = Literal["start", "interim", "final"]

PLAN_NL = {
    "information_advice": "Informatie en advies over rugpijn",
    "advice_stay_active": "Advies: blijf zo actief mogelijk",
    "advice_no_bed_rest": "Advies: bedrust is niet zinvol",
    "bed_rest_at_most_two_days": "Zo nodig bedrust, hooguit twee dagen",
    "practising_functions_activities": "Oefenen van functies en activiteiten",
    "time_contingent_activity_buildup": "Tijdcontingente opbouw van activiteiten (graded activity)",
    "exercise_therapy_varied_programme": "Oefentherapie met een gevarieerd programma",
    "exercise_therapy": "Oefentherapie",
    "optional_check_up": "Eventueel één controleafspraak",
    "inform_verwijzer_findings_and_advice": "De verwijzer wordt geïnformeerd over bevindingen en advies",
}
DURATION_NL = {"acute": "acuut (0–6 weken)", "subacute": "subacuut (7–12 weken)", "chronic": "chronisch (> 12 weken)"}
BELOOP_NL = {"normaal": "normaal", "afwijkend": "afwijkend", None: "nog niet te beoordelen"}
CLOSING_NL = {
    "goals_met": "de doelen zijn bereikt",
    "patient_stops": "de patiënt stopt met de behandeling",
    "escalated_to_verwijzer": "de patiënt is terugverwezen naar de verwijzer",
}


class Measured(BaseModel):
    model_config = ConfigDict(frozen=True)

    taken_on: date
    occasion: str
    evaluation_number: int | None
    qbpds: int | None = Field(description="QBPDS total 0–100, prorated when at most two items are missing.")
    nprs: int | None
    psk: float | None = Field(description="Mean PSK score on the measurement's own scale.")
    psk_scale: str | None


class GradedActivityLine(BaseModel):
    activity: str
    start_date: date
    days_to_goal: int
    baseline_minutes: float
    goal_minutes: float
    logged: list[tuple[date, float]] = Field(default_factory=list, description="(day, minutes done)")


class LetterFacts(BaseModel):
    """Everything a letter may say about one episode, folded from its events."""

    practice_agb: str | None = None
    referrer_agb: str | None = None
    referred_on: date | None = None
    route: str | None = None
    referral_complete: bool | None = None
    onset_date: date | None = None
    duration_class: str | None = None
    beloop: str | None = None
    course_reason_nl: str | None = None
    course_section: str | None = None
    plan_components: list[str] = Field(default_factory=list)
    plan_reason_nl: str | None = None
    interventions: list[str] = Field(default_factory=list)
    plan_agreed_on: date | None = None
    sessions: int = 0
    measurements: list[Measured] = Field(default_factory=list)
    evaluations: list[dict[str, Any]] = Field(default_factory=list)
    escalations: list[dict[str, str]] = Field(default_factory=list)
    graded: list[GradedActivityLine] = Field(default_factory=list)
    closed_on: date | None = None
    closing_reason: str | None = None
    objected: bool = False


def fold(facts: LetterFacts, event: EventPayload) -> LetterFacts:
    """The facts after one more event of the episode (in the order the episode's topics deliver them).

    `facts` is left as it was: the copy is shallow (a deep copy of every episode's facts for every event was
    6 % of reporting's CPU), so lists are replaced, never changed in place."""
    f = facts.model_copy()
    match event:
        case ReferralReceived():
            f.practice_agb, f.referrer_agb = event.practice_agb, event.referrer_agb
            f.referred_on, f.route = event.referred_on, event.route
            f.referral_complete = event.has_request_for_help and event.has_reason
        case HistoryTaken():
            f.onset_date = event.onset_date
        case BeloopClassified():
            f.duration_class, f.beloop = event.duration_class, event.beloop
            f.course_reason_nl, f.course_section = event.reason.reason_nl, event.reason.section
        case TreatmentPlanProposed():
            f.plan_components, f.plan_reason_nl = list(event.components), event.reason.reason_nl
        case TreatmentPlanAgreed():
            f.plan_agreed_on = event.agreed_on
            f.interventions = [i.modality for i in event.interventions]
            if event.graded_activity is not None:
                g = event.graded_activity
                f.graded = [
                    GradedActivityLine(
                        activity=a.activity,
                        start_date=g.start_date,
                        days_to_goal=g.days_to_goal,
                        baseline_minutes=sum(b.duration_minutes for b in a.baseline) / len(a.baseline),
                        goal_minutes=a.goal.duration_minutes,
                    )
                    for a in g.activities
                ]
        case SessionRecorded():
            f.sessions = max(f.sessions, event.session_number)
        case ActivityLogged():
            logged = (event.day.on, event.day.duration_minutes)
            f.graded = [
                line.model_copy(update={"logged": [*line.logged, logged]})
                if line.activity == event.day.activity
                else line
                for line in f.graded
            ]
        case MeasurementRecorded():
            m = event.measurement
            f.measurements = [
                *f.measurements,
                Measured(
                    taken_on=m.taken_on,
                    occasion=event.occasion,
                    evaluation_number=event.evaluation_number,
                    qbpds=qbpds_total(m.qbpds.items) if m.qbpds else None,
                    nprs=m.nprs,
                    psk=(sum(a.score for a in m.psk.activities) / len(m.psk.activities)) if m.psk else None,
                    psk_scale=m.psk.scale if m.psk else None,
                ),
            ]
        case EvaluationCompleted():
            f.evaluations = [
                *f.evaluations,
                {
                    "number": event.evaluation_number,
                    "increased": event.activities_participation_increased,
                    "escalate": event.escalate_to_verwijzer,
                    "reason_nl": event.reason.reason_nl,
                },
            ]
        case EscalatedToReferrer():
            f.escalations = [
                *f.escalations,
                {
                    "reason": event.reason.value,
                    "explanation_nl": event.explanation_nl,
                    "section": event.guideline_section,
                },
            ]
        case ReportObjectionRecorded():
            f.objected = True
        case ReportConsentGiven():
            f.objected = False
        case EpisodeClosed():
            f.closed_on, f.closing_reason = event.closed_on, event.reason
    return f


def letters_due(facts: LetterFacts, composed: set[str]) -> list[tuple[Kind, str]]:
    """(kind, key) of every letter due and not composed yet; the key makes each letter happen once."""
    if facts.objected or facts.referred_on is None:
        return []
    due: list[tuple[Kind, str]] = []
    if facts.duration_class is not None and (facts.plan_agreed_on is not None or facts.closed_on is not None):
        due.append(("start", "start"))
    for escalation in facts.escalations:
        due.append(("interim", f"interim:{escalation['reason']}"))
    if facts.closed_on is not None:
        due.append(("final", "final"))
    return [(kind, key) for kind, key in due if key not in composed]


class Section(BaseModel):
    heading: str
    paragraphs: list[str] = Field(default_factory=list)
    table: list[list[str]] | None = None


class LetterContent(BaseModel):
    """The letter as composed; stored once and never changed."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    title: str
    composed_on: date
    sections: list[Section]
    measurements: list[Measured]
    graded: list[GradedActivityLine]


def _d(day: date | None) -> str:
    return day.strftime("%d-%m-%Y") if day else "onbekend"


def _measurement_table(measurements: list[Measured]) -> list[list[str]]:
    rows = [["Meting", "Datum", "QBPDS (0–100)", "NPRS (0–10)", "PSK (gem.)"]]
    for m in measurements:
        label = "Intake" if m.occasion == "intake" else f"Evaluatie {m.evaluation_number}"
        rows.append(
            [
                label,
                _d(m.taken_on),
                "–" if m.qbpds is None else str(m.qbpds),
                "–" if m.nprs is None else str(m.nprs),
                "–" if m.psk is None else f"{m.psk:.1f} ({m.psk_scale})",
            ]
        )
    return rows


def compose(kind: Kind, key: str, facts: LetterFacts, composed_on: date) -> LetterContent:
    findings = Section(
        heading="Bevindingen",
        paragraphs=[
            f"Duur van de episode: {DURATION_NL.get(facts.duration_class or '', 'onbekend')}"
            + (f", begonnen op {_d(facts.onset_date)}." if facts.onset_date else "."),
            f"Beloop: {BELOOP_NL.get(facts.beloop, facts.beloop)}. {facts.course_reason_nl or ''}".strip(),
        ],
    )
    plan = Section(
        heading="Behandelplan en gegeven advies",
        paragraphs=[PLAN_NL.get(c, c) for c in facts.plan_components]
        or ["Er is (nog) geen behandelplan volgens de richtlijn."],
    )
    sections: list[Section]
    if kind == "start":
        title = "Startverslag fysiotherapie bij lage rugpijn"
        sections = [
            Section(
                heading="Verwijzing",
                paragraphs=[
                    f"Verwezen op {_d(facts.referred_on)}; de verwijzing was "
                    + ("volledig (hulpvraag en verwijsreden vermeld)." if facts.referral_complete else "onvolledig."),
                ],
            ),
            findings,
            plan,
        ]
        if facts.measurements:
            sections.append(Section(heading="Metingen bij intake", table=_measurement_table(facts.measurements[:1])))
    elif kind == "interim":
        reason = key.split(":", 1)[1]
        escalation = next(e for e in facts.escalations if e["reason"] == reason)
        title = "Tussentijds verslag: contact met de verwijzer"
        sections = [
            Section(
                heading="Reden van contact",
                paragraphs=[escalation["explanation_nl"], f"Richtlijn KNGF Lage rugpijn, {escalation['section']}."],
            ),
            findings,
        ]
        if facts.measurements:
            sections.append(Section(heading="Metingen tot nu toe", table=_measurement_table(facts.measurements)))
    else:
        title = "Eindverslag fysiotherapie bij lage rugpijn"
        outcome = [e for e in facts.evaluations]
        sections = [
            Section(
                heading="Individuele doelen",
                paragraphs=["De met de patiënt afgesproken doelen staan hieronder bij de behandeling vermeld."],
            ),
            Section(
                heading="Behandelverloop",
                paragraphs=[
                    f"Behandeling gestart op {_d(facts.plan_agreed_on)}; {facts.sessions} behandelingen.",
                    f"Afgesloten op {_d(facts.closed_on)}: {CLOSING_NL.get(facts.closing_reason or '', 'onbekend')}.",
                    *[
                        f"Evaluatie {e['number']}: activiteiten en participatie "
                        + ("namen toe." if e["increased"] else "namen niet toe.")
                        for e in outcome
                    ],
                ],
            ),
            findings,
            plan,
            Section(
                heading="Resultaten (begin en einde)", table=_measurement_table(_first_and_last(facts.measurements))
            ),
        ]
        if facts.graded:
            sections.append(
                Section(
                    heading="Graded activity: gepland en gedaan",
                    paragraphs=[
                        f"{g.activity}: van {g.baseline_minutes:g} naar {g.goal_minutes:g} minuten in {g.days_to_goal}"
                        f" dagen; {len(g.logged)} dagen bijgehouden."
                        for g in facts.graded
                    ],
                )
            )
    return LetterContent(
        kind=kind,
        title=title,
        composed_on=composed_on,
        sections=sections,
        measurements=facts.measurements,
        graded=facts.graded,
    )


def _first_and_last(measurements: list[Measured]) -> list[Measured]:
    if len(measurements) <= 1:
        return measurements
    return [measurements[0], measurements[-1]]
