"""Payloads of the events the intake service produces (topic `intake.events`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import clinical
from shared.events.payload import EventPayload, event_type
from shared.events.sealed import Sealed
from shared.events.topics import INTAKE_EVENTS

AgbCode = str  # the Dutch AGB register code of a care provider or practice: 8 digits


# PSK activities, graded-activity names and logged days are the patient's own words (issue 22).
ACTIVITY_LABELS = (
    "Sealed: the patient's own activity labels by reference; the `activity` fields carry only the reference"
    " (in events recorded before references existed, the label itself)."
)


class IntakeEvent(EventPayload):
    topic: ClassVar[str] = INTAKE_EVENTS


class ReferralReceived(IntakeEvent):
    """A referral (verwijzing) from a GP or specialist, or a direct-access registration, opened an episode.

    The CloudEvent subject is the pseudonymous episode id. Who the patient is (name, BSN, date of birth,
    contact details) and the free text of the referral travel only sealed with the patient's key.
    """

    event_type: ClassVar[str] = event_type("intake", "ReferralReceived")
    event_version: ClassVar[int] = 1

    route: Literal["gp_referral", "specialist_referral", "direct_access"] = Field(
        description="How the patient came in: referred (verwezen) or direct access (directe toegang)."
    )
    practice_agb: AgbCode = Field(pattern=r"^\d{8}$", description="AGB code of the physiotherapy practice.")
    referrer_agb: AgbCode | None = Field(
        default=None, pattern=r"^\d{8}$", description="AGB code of the verwijzer; absent on direct access."
    )
    referred_on: date = Field(description="Date of the referral or registration.")
    symptom_onset: date | None = Field(default=None, description="Onset of this episode of low back pain, when known.")
    patient_id: uuid.UUID = Field(description="The patient's pseudonym (keyed, not derivable from the BSN).")
    has_request_for_help: bool = Field(description="Whether the referral states the patient's hulpvraag.")
    has_reason: bool = Field(description="Whether the referral states the reason for referral.")
    has_course_of_functioning: bool = Field(default=False, description="Whether it describes the course.")
    has_earlier_examinations: bool = Field(default=False, description="Whether it gives earlier examinations.")
    has_prognosis: bool = Field(default=False, description="Whether it gives a prognosis.")
    personal: Sealed = Field(
        description="Sealed: the patient's name, BSN, date of birth and contact details, and the free text "
        "of the hulpvraag and the reason for referral."
    )


class PatientDataErased(IntakeEvent):
    """The patient's key was destroyed on their request (WGBO art. 7:455): every sealed copy of their
    personal data is unreadable from now on; every service drops what it derived from it."""

    event_type: ClassVar[str] = event_type("intake", "PatientDataErased")
    event_version: ClassVar[int] = 1

    patient_id: uuid.UUID
    erased_at: datetime


class HistoryTaken(IntakeEvent):
    """The anamnese (table 1 of the guideline): onset, earlier episodes, course, hindering factors, coping."""

    event_type: ClassVar[str] = event_type("intake", "HistoryTaken")
    event_version: ClassVar[int] = 1

    taken_on: date
    onset_date: date = Field(description="First day of the current episode.")
    previous_episodes: tuple[clinical.PastEpisode, ...] = ()
    course: clinical.CourseObservations
    hindering_factors: tuple[clinical.HinderingFactor, ...] = ()
    coping: clinical.Coping | None = None
    care_context: clinical.CareContext
    notes: Sealed | None = Field(default=None, description="Sealed free text of the history.")


class AssessmentCompleted(IntakeEvent):
    """Examination (onderzoek) done, incl. the neurological exam when radicular signs are suspected."""

    event_type: ClassVar[str] = event_type("intake", "AssessmentCompleted")
    event_version: ClassVar[int] = 1

    assessed_on: date
    scope: clinical.ScopeFindings
    notes: Sealed | None = Field(default=None, description="Sealed free text of the examination.")


class MeasurementRecorded(IntakeEvent):
    """Instruments taken at intake or at an evaluation (QBPDS, PSK, NPRS, STarT Back)."""

    event_type: ClassVar[str] = event_type("intake", "MeasurementRecorded")
    event_version: ClassVar[int] = 1

    occasion: Literal["intake", "evaluation"]
    evaluation_number: int | None = Field(default=None, ge=1, description="Set for an evaluation.")
    measurement: clinical.Measurement
    activity_labels: Sealed | None = Field(default=None, description=ACTIVITY_LABELS)


class TreatmentPlanAgreed(IntakeEvent):
    """The treatment plan the physiotherapist and the patient agreed on."""

    event_type: ClassVar[str] = event_type("intake", "TreatmentPlanAgreed")
    event_version: ClassVar[int] = 1

    agreed_on: date
    start_date: date = Field(description="First treatment session.")
    planned_sessions: int | None = Field(default=None, ge=1)
    interventions: tuple[clinical.PlannedIntervention, ...] = ()
    graded_activity: clinical.GradedActivityProgramme | None = None
    goals: Sealed | None = Field(default=None, description="Sealed: the individual goals and any argued deviation.")
    activity_labels: Sealed | None = Field(default=None, description=ACTIVITY_LABELS)


class SessionRecorded(IntakeEvent):
    """A treatment session took place."""

    event_type: ClassVar[str] = event_type("intake", "SessionRecorded")
    event_version: ClassVar[int] = 1

    session_on: date
    session_number: int = Field(ge=1)
    notes: Sealed | None = None


class ActivityLogged(IntakeEvent):
    """A day of the graded-activity programme as the patient logged it."""

    event_type: ClassVar[str] = event_type("intake", "ActivityLogged")
    event_version: ClassVar[int] = 1

    day: clinical.LoggedDay
    activity_labels: Sealed | None = Field(default=None, description=ACTIVITY_LABELS)


class ReportConsentGiven(IntakeEvent):
    """The patient agrees to reports to the GP (seed 002)."""

    event_type: ClassVar[str] = event_type("intake", "ReportConsentGiven")
    event_version: ClassVar[int] = 1

    on: date


class ReportObjectionRecorded(IntakeEvent):
    """The patient objects to reports to the GP: no letter is composed or sent for this episode."""

    event_type: ClassVar[str] = event_type("intake", "ReportObjectionRecorded")
    event_version: ClassVar[int] = 1

    on: date


class EpisodeClosed(IntakeEvent):
    """Treatment ended: goals met, the patient stops, or escalated to the verwijzer."""

    event_type: ClassVar[str] = event_type("intake", "EpisodeClosed")
    event_version: ClassVar[int] = 1

    closed_on: date
    reason: clinical.ClosingReason


def sample_referral(practice_agb: str = "04123456", **overrides: object) -> ReferralReceived:
    """A valid ReferralReceived with a placeholder seal, for tests and benchmarks that need an event."""
    fields: dict[str, object] = {
        "route": "gp_referral",
        "practice_agb": practice_agb,
        "referrer_agb": "01234567",
        "referred_on": date(2026, 11, 20),
        "symptom_onset": date(2026, 11, 2),
        "patient_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "has_request_for_help": True,
        "has_reason": True,
        "personal": Sealed(
            key_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
            nonce="AAAAAAAAAAAAAAAA",
            ciphertext="c2VhbGVkLXRlc3QtYmxvYg==",
        ),
    }
    fields.update(overrides)
    return ReferralReceived(**fields)


#: What the practice records in an open episode after the referral: the facts others decide and report on.
CLINICAL_EVENTS: tuple[type[IntakeEvent], ...] = (
    HistoryTaken,
    AssessmentCompleted,
    MeasurementRecorded,
    TreatmentPlanAgreed,
    SessionRecorded,
    ActivityLogged,
    ReportConsentGiven,
    ReportObjectionRecorded,
    EpisodeClosed,
)
