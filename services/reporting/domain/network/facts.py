"""What the network's view keeps of one episode, folded from its events, and the episode's summary.
Pure: no I/O.

Events of one episode come from two topics (intake and pathway), so they may arrive in any order, and a
record may come twice. The fold is therefore built from sets and "latest by stream version" choices: the
same events in any order, any number of times, give the same facts.

What is kept is the minimum the figures need (`minimise`): no patient pseudonym, no sealed blobs, no free
text. The copy of each consumed event in `network_received_events` holds exactly this minimised data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.reporting.domain.outcomes import (
    NPRS_MCIC_POINTS,
    PSK_MCIC_POINTS,
    QBPDS_MCIC_POINTS,
    Change,
    change,
    qbpds_total,
)
from shared.events import intake, pathway
from shared.events.payload import EventPayload
from shared.outcome_measures import psk_activity_key, psk_means

REFERRAL = intake.ReferralReceived.event_type
MEASUREMENT = intake.MeasurementRecorded.event_type
SESSION = intake.SessionRecorded.event_type
COURSE = pathway.BeloopClassified.event_type
ESCALATION = pathway.EscalatedToReferrer.event_type
DUE = pathway.EvaluationDue.event_type
OVERDUE = pathway.EvaluationOverdue.event_type
COMPLETED = pathway.EvaluationCompleted.event_type

#: The payload fields the network keeps, per event model. Everything else stays out of reporting's copy.
KEPT_FIELDS: dict[type[EventPayload], set[str]] = {
    intake.ReferralReceived: {"practice_agb", "referred_on"},
    intake.MeasurementRecorded: {"occasion", "evaluation_number", "measurement"},
    intake.SessionRecorded: {"session_number", "session_on"},
    pathway.BeloopClassified: {"beloop", "duration_class"},
    pathway.EscalatedToReferrer: {"reason"},
    pathway.EvaluationDue: {"evaluation_number"},
    pathway.EvaluationOverdue: {"evaluation_number"},
    pathway.EvaluationCompleted: {"evaluation_number"},
}
KEPT_TYPES: tuple[str, ...] = tuple(model.event_type for model in KEPT_FIELDS)

DURATION_CLASSES = ("acute", "subacute", "chronic", "unknown")
COURSES = ("normaal", "afwijkend", "not_classifiable", "unknown")
ESCALATION_REASONS = tuple(reason.value for reason in pathway.EscalationReason)


def minimise(payload: EventPayload) -> dict[str, Any]:
    """The part of an event the network keeps, as JSON-ready data."""
    fields = KEPT_FIELDS[type(payload)]
    data = payload.model_dump(mode="json", include=fields)
    if isinstance(payload, intake.MeasurementRecorded):
        # The STarT Back screening is no outcome measure of the core set; PSK labels are short activity
        # names (the contract forbids free text there).
        data["measurement"].pop("start_back", None)
        data["measurement"].pop("taken_on", None)
    return data


class EpisodeFacts:
    """The network's facts of one episode. `apply` folds one (minimised) event in."""

    __slots__ = (
        "practice_agb",
        "referred_on",
        "course",
        "escalations",
        "due",
        "completed",
        "overdue",
        "sessions",
        "first_session",
        "measured",
        "qbpds",
        "nprs",
        "psk",
    )

    def __init__(self) -> None:
        self.practice_agb: str | None = None
        self.referred_on: str | None = None
        self.course: list[Any] | None = None  # [pathway stream version, beloop or None, duration class]
        self.escalations: set[str] = set()
        self.due: set[int] = set()
        self.completed: set[int] = set()
        self.overdue: set[int] = set()
        self.sessions: set[int] = set()
        self.first_session: str | None = None  # ISO date; copies taken before it was kept have none
        self.measured: set[int] = set()  # 0 = at intake, n = at evaluation n
        # per instrument: "base" = [intake stream version, score], "follow" = [evaluation number, version, score]
        self.qbpds: dict[str, list[Any]] = {}
        self.nprs: dict[str, list[Any]] = {}
        self.psk: dict[str, list[Any]] = {}

    def apply(self, event_type: str, version: int, data: dict[str, Any]) -> None:
        if event_type == REFERRAL:
            self.practice_agb = data["practice_agb"]
            self.referred_on = data["referred_on"]
        elif event_type == SESSION:
            self.sessions.add(data["session_number"])
            on = data.get("session_on")
            if on is not None and (self.first_session is None or on < self.first_session):
                self.first_session = on
        elif event_type == MEASUREMENT:
            self._measured(version, data)
        elif event_type == COURSE:
            if self.course is None or version > self.course[0]:
                self.course = [version, data["beloop"], data["duration_class"]]
        elif event_type == ESCALATION:
            self.escalations.add(data["reason"])
        elif event_type == DUE:
            self.due.add(data["evaluation_number"])
        elif event_type == OVERDUE:
            self.overdue.add(data["evaluation_number"])
        elif event_type == COMPLETED:
            self.completed.add(data["evaluation_number"])

    def _measured(self, version: int, data: dict[str, Any]) -> None:
        measurement = data["measurement"]
        if data["occasion"] == "intake":
            self.measured.add(0)
        elif data.get("evaluation_number") is not None:
            self.measured.add(data["evaluation_number"])
        scores: dict[str, dict[str, list[Any]]] = {}
        qbpds = measurement.get("qbpds")
        if qbpds is not None:
            total = qbpds_total(qbpds["items"])
            if total is not None:
                scores["qbpds"] = {"score": [total]}
        if measurement.get("nprs") is not None:
            scores["nprs"] = {"score": [measurement["nprs"]]}
        psk = measurement.get("psk")
        if psk is not None:
            activities = {psk_activity_key(a["activity"]): a["score"] for a in psk["activities"]}
            scores["psk"] = {"score": [psk["scale"], activities]}
        for name, score in scores.items():
            slot: dict[str, list[Any]] = getattr(self, name)
            if data["occasion"] == "intake":
                key = [version]
                if "base" not in slot or key > slot["base"][:1]:
                    slot["base"] = key + score["score"]
            elif data.get("evaluation_number") is not None:
                key = [data["evaluation_number"], version]
                if "follow" not in slot or key > slot["follow"][:2]:
                    slot["follow"] = key + score["score"]

    def to_json(self) -> str:
        return json.dumps(
            {
                "practice_agb": self.practice_agb,
                "referred_on": self.referred_on,
                "course": self.course,
                "escalations": sorted(self.escalations),
                "due": sorted(self.due),
                "completed": sorted(self.completed),
                "overdue": sorted(self.overdue),
                "sessions": sorted(self.sessions),
                "first_session": self.first_session,
                "measured": sorted(self.measured),
                "qbpds": self.qbpds,
                "nprs": self.nprs,
                "psk": self.psk,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, raw: str | None) -> EpisodeFacts:
        facts = cls()
        if not raw:
            return facts
        data = json.loads(raw)
        if not data:
            return facts
        facts.practice_agb = data["practice_agb"]
        facts.referred_on = data["referred_on"]
        facts.course = data["course"]
        for name in ("escalations", "due", "completed", "overdue", "sessions"):
            setattr(facts, name, set(data[name]))
        facts.first_session = data.get("first_session")
        facts.measured = set(data.get("measured", ()))
        facts.qbpds, facts.nprs, facts.psk = data["qbpds"], data["nprs"], data["psk"]
        return facts

    def summary(self) -> EpisodeSummary | None:
        """The episode as the figures count it; None until its referral (practice and date) is known."""
        if self.practice_agb is None or self.referred_on is None:
            return None
        referred = date.fromisoformat(self.referred_on)
        if self.course is None:
            duration, course = "unknown", "unknown"
        else:
            duration, course = self.course[2], self.course[1] or "not_classifiable"
        fell_due = self.due | self.completed | self.overdue
        waited = None
        if self.first_session is not None:
            waited = max(0, (date.fromisoformat(self.first_session) - referred).days)
        return EpisodeSummary(
            practice_agb=self.practice_agb,
            referral_month=referred.replace(day=1),
            duration_class=duration,
            course=course,
            escalation_reasons=tuple(sorted(self.escalations)),
            evaluations_due=len(fell_due),
            evaluations_on_time=len(self.completed - self.overdue),
            evaluations_overdue=len(self.overdue),
            sessions=len(self.sessions),
            measured_at_intake=0 in self.measured,
            evaluations_measured=len(fell_due & self.measured),
            days_to_first_session=waited,
            qbpds=_plain_change(self.qbpds, QBPDS_MCIC_POINTS),
            nprs=_plain_change(self.nprs, NPRS_MCIC_POINTS),
            psk=_psk_change(self.psk),
        )


#: One minimised event of an episode, as `fold_events` takes it: (episode id, type, stream version, data).
MinimisedEvent = tuple[uuid.UUID, str, int, dict[str, Any]]


def fold_events(episodes: dict[uuid.UUID, EpisodeFacts], events: Iterable[MinimisedEvent]) -> None:
    """Fold events into their episodes' facts, in the order given; an episode not in `episodes` yet starts
    empty. What the consumer does with a batch's new events, and replay with every copied event."""
    for episode_id, event_type, version, data in events:
        facts = episodes.get(episode_id)
        if facts is None:
            facts = episodes[episode_id] = EpisodeFacts()
        facts.apply(event_type, version, data)


def _plain_change(slot: dict[str, list[Any]], points: Decimal) -> Change | None:
    if "base" not in slot or "follow" not in slot:
        return None
    return change(slot["base"][1], slot["follow"][2], points)


def _psk_change(slot: dict[str, list[Any]]) -> Change | None:
    if "base" not in slot or "follow" not in slot:
        return None
    _, scale, first = slot["base"]
    _, _, later_scale, last = slot["follow"]
    if scale != later_scale:
        return None
    means = psk_means(first, last)
    return None if means is None else change(means[0], means[1], PSK_MCIC_POINTS[scale])


@dataclass(frozen=True)
class EpisodeSummary:
    """One episode as the network counts it. Holds no episode id: it never leaves reporting as such."""

    practice_agb: str
    referral_month: date
    duration_class: str
    course: str
    escalation_reasons: tuple[str, ...]
    #: evaluations that fell due, or were done before they fell due
    evaluations_due: int
    #: evaluations recorded and never overdue
    evaluations_on_time: int
    #: evaluations that passed the grace period unrecorded (recorded later or not at all)
    evaluations_overdue: int
    sessions: int
    #: a measurement (QBPDS, NPRS or PSK) was recorded at intake
    measured_at_intake: bool = False
    #: evaluations that fell due and have a measurement (protocol adherence)
    evaluations_measured: int = 0
    #: days from referral to the first session, when the session's date is known
    days_to_first_session: int | None = None
    qbpds: Change | None = None
    nprs: Change | None = None
    psk: Change | None = None
