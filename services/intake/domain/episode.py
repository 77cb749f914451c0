"""The intake episode aggregate: rebuilt from its events; commands check a guard and return new events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.intake.domain import activity_labels
from services.intake.domain.activity_labels import ActivityLabels
from services.intake.domain.commands import (
    AgreeTreatmentPlan,
    CloseEpisode,
    CompleteAssessment,
    LogActivity,
    RecordMeasurement,
    RecordReportConsent,
    RecordSession,
    TakeHistory,
)
from shared.events.intake import (
    ActivityLogged,
    AssessmentCompleted,
    EpisodeClosed,
    HistoryTaken,
    MeasurementRecorded,
    PatientDataErased,
    ReferralReceived,
    ReportConsentGiven,
    ReportObjectionRecorded,
    SessionRecorded,
    TreatmentPlanAgreed,
)
from shared.events.payload import EventPayload
from shared.events.sealed import Sealed

# Episode ids are uuid5 of the practice and the referring system's own referral id, so a GP system that
# sends the same referral twice reaches the same episode instead of opening a second one.
EPISODE_NAMESPACE = uuid.UUID("6f1d8a52-3c1e-5d8e-9a55-5c3b7a0e9d11")


def episode_id_for(practice_agb: str, referral_id: str) -> uuid.UUID:
    return uuid.uuid5(EPISODE_NAMESPACE, f"{practice_agb}:{referral_id}")


def bsn_is_valid(bsn: str) -> bool:
    """The Dutch BSN "elfproef": 9 digits, weights 9..2 and -1, sum divisible by 11."""
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True)) - int(bsn[8])
    return total % 11 == 0 and total != 0


class PatientDetails(BaseModel):
    """Who the patient is. Never leaves intake unsealed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    bsn: str = Field(description="Burgerservicenummer, 9 digits passing the elfproef.")
    birth_date: date
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)

    @field_validator("bsn")
    @classmethod
    def _elfproef(cls, value: str) -> str:
        if not bsn_is_valid(value):
            raise ValueError("not a valid BSN (9 digits passing the elfproef)")
        return value


class ReceiveReferral(BaseModel):
    """Command: register a referral (verwijzing) or a direct-access registration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str = Field(min_length=1, max_length=100, description="The sending system's own id.")
    route: Literal["gp_referral", "specialist_referral", "direct_access"]
    practice_agb: str = Field(pattern=r"^\d{8}$")
    referrer_agb: str | None = Field(default=None, pattern=r"^\d{8}$")
    referred_on: date
    symptom_onset: date | None = None
    patient: PatientDetails
    request_for_help: str | None = Field(default=None, max_length=4000, description="De hulpvraag (free text).")
    reason: str | None = Field(default=None, max_length=4000, description="Reason for referral (free text).")
    course_of_functioning: str | None = Field(default=None, max_length=4000, description="Beloop van het functioneren.")
    earlier_examinations: str | None = Field(default=None, max_length=4000, description="Aanvullend onderzoek.")
    prognosis: str | None = Field(default=None, max_length=4000)

    def personal(self) -> dict[str, object]:
        """What gets sealed: identifying data and free text."""
        return {
            "patient": self.patient.model_dump(mode="json"),
            "request_for_help": self.request_for_help,
            "reason": self.reason,
            "course_of_functioning": self.course_of_functioning,
            "earlier_examinations": self.earlier_examinations,
            "prognosis": self.prognosis,
        }


class ReferralMismatch(ValueError):
    """The same referral id arrived again with different content."""


@dataclass
class Episode:
    id: uuid.UUID | None
    version: int = 0
    referral: ReferralReceived | None = None
    erased_at: datetime | None = None
    history: HistoryTaken | None = None
    assessment: AssessmentCompleted | None = None
    plan: TreatmentPlanAgreed | None = None
    sessions: int = 0
    logged: set[tuple[str, date]] = field(default_factory=set)
    evaluations_measured: set[int] = field(default_factory=set)
    consent: str | None = None
    closed: EpisodeClosed | None = None
    activity_labels: list[Sealed] = field(default_factory=list)  # each event's sealed labels, in order

    @classmethod
    def rebuild(cls, episode_id: uuid.UUID | None, events: Iterable[EventPayload]) -> Episode:
        episode = cls(episode_id)
        for event in events:
            episode.apply(event)
        return episode

    def apply(self, event: EventPayload) -> None:
        self.version += 1
        if isinstance(event, MeasurementRecorded | TreatmentPlanAgreed | ActivityLogged) and event.activity_labels:
            self.activity_labels.append(event.activity_labels)
        match event:
            case ReferralReceived():
                self.referral = event
            case PatientDataErased():
                self.erased_at = event.erased_at
            case HistoryTaken():
                self.history = event
            case AssessmentCompleted():
                self.assessment = event
            case TreatmentPlanAgreed():
                self.plan = event
            case SessionRecorded():
                self.sessions = event.session_number
            case ActivityLogged():
                self.logged.add((event.day.activity, event.day.on))
            case MeasurementRecorded() if event.evaluation_number is not None:
                self.evaluations_measured.add(event.evaluation_number)
            case ReportConsentGiven():
                self.consent = "given"
            case ReportObjectionRecorded():
                self.consent = "objected"
            case EpisodeClosed():
                self.closed = event

    @property
    def exists(self) -> bool:
        return self.referral is not None


def _stated(text: str | None) -> bool:
    return bool(text and text.strip())


def _comparable(event: ReferralReceived) -> dict[str, object]:
    return event.model_dump(exclude={"personal"})


def receive_referral(
    episode: Episode, command: ReceiveReferral, patient_id: uuid.UUID, personal: Sealed
) -> list[EventPayload]:
    """Open the episode; the same referral again is a no-op, a changed one is refused."""
    if command.route != "direct_access" and command.referrer_agb is None:
        raise ReferralMismatch("referrer_agb: a referral needs the verwijzer's AGB code")
    event = ReferralReceived(
        route=command.route,
        practice_agb=command.practice_agb,
        referrer_agb=command.referrer_agb,
        referred_on=command.referred_on,
        symptom_onset=command.symptom_onset,
        patient_id=patient_id,
        has_request_for_help=_stated(command.request_for_help),
        has_reason=_stated(command.reason),
        has_course_of_functioning=_stated(command.course_of_functioning),
        has_earlier_examinations=_stated(command.earlier_examinations),
        has_prognosis=_stated(command.prognosis),
        personal=personal,
    )
    if episode.exists:
        assert episode.referral is not None
        if _comparable(episode.referral) != _comparable(event):
            raise ReferralMismatch("referral_id: this referral was received before with other content")
        return []
    return [event]


def erase_personal_data(episode: Episode, patient_id: uuid.UUID, erased_at: datetime) -> list[EventPayload]:
    """Record the erasure on the episode once; a second request changes nothing."""
    if not episode.exists or episode.erased_at is not None:
        return []
    return [PatientDataErased(patient_id=patient_id, erased_at=erased_at)]


class NotAllowed(ValueError):
    """The episode's state does not allow the command (→ 422), naming the field it concerns."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _open(episode: Episode) -> ReferralReceived:
    if episode.referral is None:
        raise NotAllowed("episode_id", "no referral opened this episode")
    if episode.closed is not None:
        raise NotAllowed("episode_id", f"the episode was closed on {episode.closed.closed_on.isoformat()}")
    return episode.referral


def take_history(episode: Episode, command: TakeHistory, notes: Sealed | None) -> list[EventPayload]:
    referral = _open(episode)
    if command.taken_on < referral.referred_on:
        raise NotAllowed("taken_on", "lies before the referral")
    for index, past in enumerate(command.previous_episodes):
        if past.end_date >= command.onset_date:
            raise NotAllowed(f"previous_episodes.{index}.end_date", "must end before onset_date")
    fields = command.model_dump(exclude={"notes"})
    return [HistoryTaken(**fields, notes=notes)]


def complete_assessment(episode: Episode, command: CompleteAssessment, notes: Sealed | None) -> list[EventPayload]:
    _open(episode)
    if episode.history is None:
        raise NotAllowed("assessed_on", "take the history first (anamnese before onderzoek)")
    if command.assessed_on < episode.history.taken_on:
        raise NotAllowed("assessed_on", "lies before the history was taken")
    return [AssessmentCompleted(assessed_on=command.assessed_on, scope=command.scope, notes=notes)]


def record_measurement(episode: Episode, command: RecordMeasurement, labels: ActivityLabels) -> list[EventPayload]:
    """`labels`: references for the PSK activities (`activity_labels.in_measurement`), which the event carries
    instead of them."""
    referral = _open(episode)
    if command.measurement.taken_on < referral.referred_on:
        raise NotAllowed("measurement.taken_on", "lies before the referral")
    if command.occasion == "evaluation":
        if episode.plan is None:
            raise NotAllowed("occasion", "an evaluation needs an agreed treatment plan")
        if command.evaluation_number in episode.evaluations_measured:
            raise NotAllowed("evaluation_number", "this evaluation was measured already")
    measurement = activity_labels.measurement_by_reference(command.measurement, labels)
    return [
        MeasurementRecorded(
            occasion=command.occasion,
            evaluation_number=command.evaluation_number,
            measurement=measurement,
            activity_labels=labels.sealed,
        )
    ]


def agree_treatment_plan(
    episode: Episode, command: AgreeTreatmentPlan, goals: Sealed | None, labels: ActivityLabels
) -> list[EventPayload]:
    """`labels`: references for the programme's activities (`activity_labels.in_programme`)."""
    _open(episode)
    if episode.assessment is None:
        raise NotAllowed("agreed_on", "complete the assessment first")
    if command.start_date < command.agreed_on:
        raise NotAllowed("start_date", "lies before agreed_on")
    if episode.sessions:
        raise NotAllowed("agreed_on", "treatment has started; record a new plan only before the first session")
    return [
        TreatmentPlanAgreed(
            agreed_on=command.agreed_on,
            start_date=command.start_date,
            planned_sessions=command.planned_sessions,
            interventions=command.interventions,
            graded_activity=activity_labels.programme_by_reference(command.graded_activity, labels),
            goals=goals,
            activity_labels=labels.sealed,
        )
    ]


def record_session(episode: Episode, command: RecordSession, notes: Sealed | None) -> list[EventPayload]:
    _open(episode)
    if episode.plan is None:
        raise NotAllowed("session_on", "agree a treatment plan first")
    if command.session_on < episode.plan.start_date:
        raise NotAllowed("session_on", "lies before the plan's start_date")
    return [SessionRecorded(session_on=command.session_on, session_number=episode.sessions + 1, notes=notes)]


def log_activity(episode: Episode, command: LogActivity, labels: ActivityLabels) -> list[EventPayload]:
    """`labels`: the reference for the day's activity. A programme agreed before references existed names its
    activities in clear; a day logged against it keeps the label, so that the two still match."""
    _open(episode)
    programme = episode.plan.graded_activity if episode.plan else None
    if programme is None:
        raise NotAllowed("day.activity", "the plan has no graded-activity programme")
    names = {a.activity for a in programme.activities}
    day, sealed = command.day.model_copy(update={"activity": labels(command.day.activity)}), labels.sealed
    if day.activity not in names:
        if command.day.activity not in names:
            raise NotAllowed("day.activity", "is not in the programme")
        day, sealed = command.day, None
    if day.on < programme.start_date:
        raise NotAllowed("day.on", "lies before the programme's start_date")
    if (day.activity, day.on) in episode.logged:
        raise NotAllowed("day.on", "this activity was logged for that day already")
    return [ActivityLogged(day=day, activity_labels=sealed)]


def record_report_consent(episode: Episode, command: RecordReportConsent) -> list[EventPayload]:
    if episode.referral is None:
        raise NotAllowed("episode_id", "no referral opened this episode")
    if episode.consent == command.consent:
        return []  # the same answer again changes nothing
    if command.consent == "given":
        return [ReportConsentGiven(on=command.on)]
    return [ReportObjectionRecorded(on=command.on)]


def close_episode(episode: Episode, command: CloseEpisode) -> list[EventPayload]:
    referral = _open(episode)
    if command.closed_on < referral.referred_on:
        raise NotAllowed("closed_on", "lies before the referral")
    return [EpisodeClosed(closed_on=command.closed_on, reason=command.reason)]
