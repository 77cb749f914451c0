"""What a letter to the GP says, decided from the episode's events. Pure: no I/O, no clock.

The letter facts hold structured data only (dates, codes, scores, the guideline's reasons): the patient's
identity and free text (hulpvraag, goals) never reach reporting's tables; a rendering asks intake for them
when it is shown, and the sections that hold them say which (`Section.fill`).
Which letters fall due follows the KNGF guideline on informing the GP (II.IV): a start report once the plan
is known (the plan agreed and the guideline's proposal in, or the first session), an interim report when the
verwijzer must be contacted, a final report at closing and after every interim report — none when the
patient objects (seed 002).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.letters import wording as nl
from services.reporting.domain.outcomes import qbpds_total
from shared.events.intake import (
    ActivityLogged,
    AssessmentCompleted,
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
    EvaluationScheduled,
    TreatmentPlanProposed,
)
from shared.events.payload import EventPayload

Kind = Literal["start", "interim", "final"]
#: The order letters of one episode are read in: the final letter always last.
KIND_ORDER = {"start": 0, "interim": 1, "final": 2}


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


class Classification(BaseModel):
    """One BeloopClassified as the letters need it."""

    decided_on: date
    duration_class: str
    beloop: str | None
    reason_nl: str
    section: str


class Evaluation(BaseModel):
    number: int
    decided_on: date | None = None
    increased: bool | None = None
    escalate: bool = False
    reason_nl: str = ""


class LetterFacts(BaseModel):
    """Everything a letter may say about one episode, folded from its events."""

    practice_agb: str | None = None
    referrer_agb: str | None = None
    referred_on: date | None = None
    route: str | None = None
    referral_complete: bool | None = None
    onset_date: date | None = None
    history_taken_on: date | None = None
    hindering_factors: list[tuple[str, str]] = Field(default_factory=list, description="(kind, influence)")
    coping: str | None = None
    assessed_on: date | None = None
    general_illness_signs: list[str] = Field(default_factory=list)
    radicular_signs_suspected: bool | None = None
    neurological_exam_positive: bool | None = None
    specific_cause_suspected: bool | None = None
    classifications: list[Classification] = Field(default_factory=list, description="Every BeloopClassified.")
    # the latest classification, kept apart for readers of older facts
    duration_class: str | None = None
    beloop: str | None = None
    course_reason_nl: str | None = None
    course_section: str | None = None
    plan_proposed: bool = False
    physiotherapy_indicated: bool | None = None
    plan_components: list[str] = Field(default_factory=list)
    plan_reason_nl: str | None = None
    max_sessions: int | None = None
    interventions: list[str] = Field(default_factory=list)
    plan_agreed_on: date | None = None
    treatment_start: date | None = None
    planned_sessions: int | None = None
    first_evaluation_due: date | None = None
    sessions: int = 0
    measurements: list[Measured] = Field(default_factory=list)
    evaluations: list[Evaluation] = Field(default_factory=list)
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
            f.onset_date = f.onset_date or event.symptom_onset
        case HistoryTaken():
            f.onset_date, f.history_taken_on = event.onset_date, event.taken_on
            f.hindering_factors = [(h.kind, h.influence) for h in event.hindering_factors]
            f.coping = event.coping
        case AssessmentCompleted():
            scope = event.scope
            f.assessed_on = event.assessed_on
            f.general_illness_signs = list(scope.general_illness_signs)
            f.radicular_signs_suspected = scope.radicular_signs_suspected
            f.specific_cause_suspected = scope.specific_cause_suspected
            exam = scope.neurological_exam
            f.neurological_exam_positive = (
                None
                if exam is None
                else exam.lasegue_positive
                or exam.muscle_strength_reduced
                or exam.sensibility_disturbed
                or exam.tendon_reflexes_abnormal
            )
        case BeloopClassified():
            f.duration_class, f.beloop = event.duration_class, event.beloop
            f.course_reason_nl, f.course_section = event.reason.reason_nl, event.reason.section
            f.classifications = [
                *f.classifications,
                Classification(
                    decided_on=event.decided_on,
                    duration_class=event.duration_class,
                    beloop=event.beloop,
                    reason_nl=event.reason.reason_nl,
                    section=event.reason.section,
                ),
            ]
        case TreatmentPlanProposed():
            f.plan_proposed = True
            f.physiotherapy_indicated = event.physiotherapy_indicated
            f.plan_components, f.plan_reason_nl = list(event.components), event.reason.reason_nl
            f.max_sessions = event.max_sessions
        case TreatmentPlanAgreed():
            f.plan_agreed_on, f.treatment_start = event.agreed_on, event.start_date
            f.planned_sessions = event.planned_sessions
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
        case EvaluationScheduled():
            if event.evaluation_number == 1:
                f.first_evaluation_due = event.due_at.date()
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
                *(e for e in f.evaluations if e.number != event.evaluation_number),
                Evaluation(
                    number=event.evaluation_number,
                    decided_on=event.decided_on,
                    increased=event.activities_participation_increased,
                    escalate=event.escalate_to_verwijzer,
                    reason_nl=event.reason.reason_nl,
                ),
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


def plan_known(facts: LetterFacts) -> bool:
    """The start letter waits for the plan: agreed with the patient (or a first session held) and the guideline's
    decision in — its proposal, or an escalation when there is none — as they arrive on two topics in either
    order (a practice records plan and first session in the same minute the pathway is still deciding); or the
    episode closed."""
    started = facts.plan_agreed_on is not None or facts.sessions > 0
    decided = facts.plan_proposed or bool(facts.escalations)
    return (started and decided) or facts.closed_on is not None


def letters_due(facts: LetterFacts, composed: set[str]) -> list[tuple[Kind, str]]:
    """(kind, key) of every letter due and not composed yet, in the order to compose them; the key makes each
    letter happen once. An episode closed because it was escalated waits for the escalation before its final
    letter, so the interim letter comes first."""
    if facts.objected or facts.referred_on is None:
        return []
    due: list[tuple[Kind, str]] = []
    if plan_known(facts):
        due.append(("start", "start"))
    for escalation in facts.escalations:
        due.append(("interim", f"interim:{escalation['reason']}"))
    waiting_for_escalation = facts.closing_reason == "escalated_to_verwijzer" and not facts.escalations
    if facts.closed_on is not None and not waiting_for_escalation:
        due.append(("final", "final"))
    return [(kind, key) for kind, key in due if key not in composed]


Fill = Literal["request_for_help", "goals"]


class Section(BaseModel):
    heading: str
    paragraphs: list[str] = Field(default_factory=list)
    table: list[list[str]] | None = None
    fill: Fill | None = Field(
        default=None, description="Free text intake adds when the letter is shown, before the paragraphs."
    )
    chart: Literal["measurements", "graded"] | None = Field(
        default=None, description="The chart a PDF sets with this section (beside the table it illustrates)."
    )


class LetterContent(BaseModel):
    """The letter as composed; stored once and never changed."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    title: str
    composed_on: date
    sections: list[Section]
    measurements: list[Measured]
    graded: list[GradedActivityLine]


FILL_LABEL = {"request_for_help": "Hulpvraag van de patiënt", "goals": "Met de patiënt afgesproken doelen"}


#: How intake's events name an activity the patient chose (PSK, graded activity): a keyed reference in place of the
#: patient's own words, which intake gives by reference when a letter is shown (services/intake/keys/sealing.py).
ACTIVITY_REFERENCE = re.compile(r"activity-[0-9a-f]{16}")


def activity_names(personal: dict[str, Any] | None) -> Callable[[str], str]:
    """Text with every activity reference replaced by the patient's label; "activiteit" where there is none (the
    data erased): a GP never reads a reference."""
    labels: dict[str, str] = (personal or {}).get("activities") or {}

    def named(text: str) -> str:
        return ACTIVITY_REFERENCE.sub(lambda m: labels.get(m.group(0), "activiteit"), text)

    return named


def personalised(content: LetterContent, personal: dict[str, Any] | None) -> list[Section]:
    """The sections with intake's free text filled in and activities named; without it (erased) each says so."""
    named = activity_names(personal)
    out = []
    for section in content.sections:
        paragraphs = [named(p) for p in section.paragraphs]
        table = [[named(c) for c in row] for row in section.table] if section.table else section.table
        if section.fill is not None:
            text = (personal or {}).get(section.fill)
            if personal is None:
                first = f"{FILL_LABEL[section.fill]}: niet te tonen, de persoonsgegevens zijn gewist."
            elif text:
                first = f"{FILL_LABEL[section.fill]}: {text}"
            else:
                first = f"{FILL_LABEL[section.fill]}: niet vastgelegd."
            paragraphs.insert(0, first)
        out.append(section.model_copy(update={"paragraphs": paragraphs, "table": table}))
    return out


def _label(number: int | None) -> str:
    return "Intake" if number is None else f"Evaluatie {number}"


def measurement_table(facts: LetterFacts, measurements: list[Measured]) -> list[list[str]]:
    """One row per measurement, named as the measurement itself was (intake or its evaluation number), with
    the guideline's judgement of the evaluation of that number."""
    judged = {e.number: e for e in facts.evaluations}
    rows = [["Meting", "Datum", "QBPDS (0–100)", "NPRS (0–10)", "PSK (gem.)", "Activiteiten en participatie"]]
    for m in measurements:
        evaluation = judged.get(m.evaluation_number) if m.evaluation_number else None
        verdict = (
            "–"
            if evaluation is None or evaluation.increased is None
            else ("toegenomen" if evaluation.increased else "niet toegenomen")
        )
        rows.append(
            [
                _label(m.evaluation_number if m.occasion != "intake" else None),
                nl.d(m.taken_on),
                "–" if m.qbpds is None else str(m.qbpds),
                "–" if m.nprs is None else str(m.nprs),
                "–" if m.psk is None else f"{nl.number(m.psk)} ({m.psk_scale})",
                verdict,
            ]
        )
    return rows


def _meaning(m: Measured) -> list[str]:
    said = []
    if m.qbpds is not None:
        said.append(nl.qbpds_meaning(m.qbpds))
    if m.nprs is not None:
        said.append(nl.nprs_meaning(m.nprs))
    if m.psk is not None:
        said.append(nl.psk_meaning(m.psk, m.psk_scale))
    return [s + "." for s in said]


def _intake(facts: LetterFacts) -> Measured | None:
    return next((m for m in facts.measurements if m.occasion == "intake"), None)


def _screening(facts: LetterFacts) -> list[str]:
    if facts.assessed_on is None:
        return ["Rode vlaggen en radiculaire verschijnselen: (nog) niet onderzocht."]
    lines = []
    if facts.general_illness_signs:
        signs = ", ".join(nl.ILLNESS_NL.get(s, s) for s in facts.general_illness_signs)
        lines.append(f"Rode vlaggen: algemene ziekteverschijnselen aanwezig ({signs}).")
    else:
        lines.append("Rode vlaggen: geen algemene ziekteverschijnselen (koorts, gewichtsverlies).")
    if not facts.radicular_signs_suspected:
        lines.append("Radiculaire verschijnselen: niet aanwezig.")
    elif facts.neurological_exam_positive:
        lines.append("Radiculaire verschijnselen: vermoed; het neurologisch onderzoek is positief.")
    elif facts.neurological_exam_positive is False:
        lines.append("Radiculaire verschijnselen: vermoed; het neurologisch onderzoek is negatief.")
    else:
        lines.append("Radiculaire verschijnselen: vermoed; neurologisch onderzoek nog niet gedaan.")
    if facts.specific_cause_suspected:
        lines.append("Er is een vermoeden van een specifieke oorzaak.")
    return lines


def _factors(facts: LetterFacts) -> str:
    if facts.history_taken_on is None:
        return "Belemmerende factoren: (nog) niet vastgelegd."
    if not facts.hindering_factors:
        return "Belemmerende factoren: geen."
    listed = "; ".join(f"{nl.FACTOR_NL.get(k, k)} ({nl.INFLUENCE_NL.get(i, i)})" for k, i in facts.hindering_factors)
    return f"Belemmerende factoren: {listed}."


def _duration(facts: LetterFacts) -> str:
    if not facts.classifications:
        return "Duur van de episode: nog niet vastgesteld."
    first, last = facts.classifications[0], facts.classifications[-1]
    since = f"; klachten sinds {nl.d(facts.onset_date)}" if facts.onset_date else ""
    text = (
        f"Duur van de episode bij de intake: {nl.DURATION_NL.get(first.duration_class, first.duration_class)}{since}."
    )
    if last.duration_class != first.duration_class:
        text += (
            f" Door het verstrijken van de tijd is de episode op {nl.d(last.decided_on)} "
            f"{nl.DURATION_NL.get(last.duration_class, last.duration_class)}: de duur wordt geteld vanaf het begin "
            "van de klachten."
        )
    return text


def _course_at_intake(facts: LetterFacts) -> str:
    if not facts.classifications:
        return "Beloop: nog niet beoordeeld."
    first = facts.classifications[0]
    return (
        f"Beloop bij de intake ({nl.d(first.decided_on)}): {nl.BELOOP_NL.get(first.beloop, first.beloop)}. "
        f"{first.reason_nl} (KNGF-richtlijn, {first.section})"
    )


def _findings(facts: LetterFacts, *, with_course: bool = True) -> Section:
    course = [_course_at_intake(facts)] if with_course else []
    return Section(
        heading="Bevindingen bij de intake",
        paragraphs=[_duration(facts), *course, *_screening(facts), _factors(facts)],
    )


def _plan(facts: LetterFacts) -> Section:
    paragraphs = []
    if facts.plan_proposed and facts.physiotherapy_indicated is False:
        paragraphs.append(
            f"Fysiotherapie is volgens de richtlijn niet geïndiceerd. {facts.plan_reason_nl or ''}".strip()
        )
    if facts.plan_components:
        paragraphs.append(
            "Volgens de richtlijn: " + "; ".join(nl.PLAN_NL.get(c, c) for c in facts.plan_components) + "."
        )
    if facts.interventions:
        paragraphs.append(
            "Afgesproken behandeling: " + ", ".join(nl.MODALITY_NL.get(i, i) for i in facts.interventions) + "."
        )
    if facts.treatment_start:
        paragraphs.append(f"Eerste behandeling: {nl.d(facts.treatment_start)}.")
    expected = facts.planned_sessions or facts.max_sessions
    paragraphs.append(
        f"Verwacht aantal behandelingen: {expected}." if expected else "Verwacht aantal behandelingen: niet vastgelegd."
    )
    first_evaluation = facts.first_evaluation_due
    if first_evaluation is None and facts.treatment_start is not None:
        first_evaluation = facts.treatment_start + timedelta(days=21)
    if first_evaluation:
        paragraphs.append(f"Eerste evaluatie: {nl.d(first_evaluation)} (na drie weken behandeling).")
    if not (facts.plan_components or facts.interventions):
        paragraphs.insert(0, "Er is nog geen behandelplan vastgesteld.")
    return Section(heading="Behandelplan en doelen", paragraphs=paragraphs, fill="goals")


def _referral(facts: LetterFacts) -> Section:
    how = {"gp_referral": "Verwezen door u", "specialist_referral": "Verwezen door een medisch specialist"}.get(
        facts.route or "", "Aangemeld via directe toegang"
    )
    complete = (
        "De verwijzing vermeldde hulpvraag en verwijsreden."
        if facts.referral_complete
        else "De verwijzing was onvolledig (hulpvraag of verwijsreden ontbrak)."
    )
    return Section(
        heading="Verwijzing en hulpvraag",
        paragraphs=[f"{how} op {nl.d(facts.referred_on)}. {complete}"],
        fill="request_for_help",
    )


def _outcome(facts: LetterFacts) -> list[str]:
    first = _intake(facts) or (facts.measurements[0] if facts.measurements else None)
    last = facts.measurements[-1] if facts.measurements else None
    if first is None or last is None or last is first:
        return ["Er is geen meting na de intake: de verandering is niet te beoordelen."]
    lines = []
    if first.qbpds is not None and last.qbpds is not None:
        lines.append(nl.change_sentence("QBPDS", first.qbpds, last.qbpds))
    if first.nprs is not None and last.nprs is not None:
        lines.append(nl.change_sentence("NPRS", first.nprs, last.nprs))
    if first.psk is not None and last.psk is not None and first.psk_scale == last.psk_scale:
        lines.append(nl.change_sentence("PSK", first.psk, last.psk, first.psk_scale))
    return lines or ["De metingen bij de intake en aan het einde zijn niet met elkaar te vergelijken."]


def _values(m: Measured) -> str:
    said = [f"{name} {value}" for name, value in (("QBPDS", m.qbpds), ("NPRS", m.nprs)) if value is not None]
    if m.psk is not None:
        said.append(f"PSK {nl.number(m.psk)}")
    return ", ".join(said) or "geen scores"


def _course_over_time(facts: LetterFacts) -> list[str]:
    """The course at intake, then every evaluation by the number it was measured and judged under (one
    numbering for the text and the table), then the last classification when it differs."""
    lines = [_course_at_intake(facts)]
    judged = {e.number: e for e in facts.evaluations}
    measured = {m.evaluation_number: m for m in facts.measurements if m.occasion != "intake" and m.evaluation_number}
    for n in sorted(set(judged) | set(measured)):
        m, e = measured.get(n), judged.get(n)
        on = nl.d(m.taken_on if m else e.decided_on if e else None)
        text = f"Evaluatie {n} ({on}): " + (_values(m) if m else "geen metingen")
        if e is not None and e.increased is not None:
            text += "; activiteiten en participatie " + ("namen toe." if e.increased else "namen niet toe.")
        else:
            text += "; niet meer door de richtlijn beoordeeld vóór het afsluiten."
        lines.append(text)
    later = facts.classifications[1:]
    if later and later[-1].beloop != facts.classifications[0].beloop and later[-1].beloop is not None:
        lines.append(
            f"Beloop bij de laatste beoordeling ({nl.d(later[-1].decided_on)}): {nl.BELOOP_NL[later[-1].beloop]}."
        )
    return lines


def compose(kind: Kind, key: str, facts: LetterFacts, composed_on: date) -> LetterContent:
    sections: list[Section]
    if kind == "start":
        title = "Startbericht fysiotherapie bij lage rugpijn"
        intake = _intake(facts)
        sections = [_referral(facts), _findings(facts)]
        if intake is not None:
            sections.append(
                Section(
                    heading="Metingen bij de intake",
                    paragraphs=_meaning(intake),
                    table=measurement_table(facts, [intake]),
                )
            )
        sections.append(_plan(facts))
    elif kind == "interim":
        reason = key.split(":", 1)[1]
        escalation = next(e for e in facts.escalations if e["reason"] == reason)
        title = "Tussentijds bericht: overleg met u als verwijzer"
        sections = [
            Section(
                heading="Reden van contact",
                paragraphs=[
                    *([nl.REASON_NL[reason]] if reason in nl.REASON_NL else []),
                    f"Toelichting: {escalation['explanation_nl']}",
                    f"KNGF-richtlijn Lage rugpijn, {escalation['section']}.",
                ],
            ),
            Section(
                heading="Onze vraag aan u", paragraphs=[nl.QUESTION_NL.get(reason, "Wilt u contact met ons opnemen?")]
            ),
        ]
        if facts.measurements:
            sections.append(
                Section(
                    heading="Metingen tot nu toe",
                    paragraphs=[
                        f"Laatste meting ({_label(facts.measurements[-1].evaluation_number)}, "
                        f"{nl.d(facts.measurements[-1].taken_on)}):",
                        *_meaning(facts.measurements[-1]),
                    ],
                    table=measurement_table(facts, facts.measurements),
                    chart="measurements",
                )
            )
        sections.append(_findings(facts))
    else:
        title = "Eindverslag fysiotherapie bij lage rugpijn"
        closing = nl.CLOSING_NL.get(facts.closing_reason or "", "reden onbekend")
        met = {
            "goals_met": "De doelen zijn bereikt.",
            "patient_stops": "De doelen zijn niet (alle) bereikt: de patiënt stopte eerder.",
            "escalated_to_verwijzer": "De doelen zijn niet bereikt: de patiënt is naar u terugverwezen.",
        }.get(facts.closing_reason or "", "Of de doelen zijn bereikt is niet vastgelegd.")
        advice = [nl.PLAN_NL.get(c, c) for c in facts.plan_components if c in nl.ADVICE]
        sections = [
            Section(heading="Doelen en resultaat", paragraphs=[met], fill="goals"),
            Section(heading="Verloop van intake tot einde", paragraphs=[*_course_over_time(facts), *_outcome(facts)]),
            Section(
                heading="Metingen",
                table=measurement_table(facts, facts.measurements) if facts.measurements else None,
                paragraphs=[] if facts.measurements else ["Er zijn geen metingen vastgelegd."],
                chart="measurements",
            ),
            Section(
                heading="Behandeling",
                paragraphs=[
                    f"Behandeling van {nl.d(facts.treatment_start or facts.plan_agreed_on)} tot "
                    f"{nl.d(facts.closed_on)}: {facts.sessions} behandelingen.",
                    "Afgesproken behandeling: "
                    + (", ".join(nl.MODALITY_NL.get(i, i) for i in facts.interventions) or "niet vastgelegd")
                    + ".",
                    "Gegeven advies: " + ("; ".join(advice) if advice else "geen advies vastgelegd") + ".",
                    f"Reden van afsluiten ({nl.d(facts.closed_on)}): {closing}.",
                ],
            ),
            _findings(facts, with_course=False),  # the course at intake opens "Verloop van intake tot einde"
        ]
        if facts.graded:
            sections.append(
                Section(
                    heading="Graded activity: gepland en gedaan",
                    chart="graded",
                    paragraphs=[
                        f"{g.activity}: van {nl.number(g.baseline_minutes)} naar {nl.number(g.goal_minutes)} minuten "
                        f"in {g.days_to_goal} dagen; {len(g.logged)} dagen bijgehouden"
                        + (f", laatst {nl.number(g.logged[-1][1])} minuten." if g.logged else ".")
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
