"""A regional back network's protocol: the choices the guideline leaves to the network, layered on one guideline
version (seed 003: a network writes one protocol for all its practices and revises it).

A protocol holds values only for parameters the engine already has; it never adds a clinical rule. Each value is
bounded to the room the guideline leaves, and a value outside it is refused with the field and the reason:

- `evaluation_interval_days`: "evalueer regelmatig" (II.III) with the three-week rule behind it. Whole weeks,
  one to six: more often than three weeks is always allowed; less often is a choice the network makes knowingly
  (the what-if shows what it costs), but never beyond twice the rule's three weeks.
- `overdue_grace_days`: how long after falling due an evaluation still counts as on time: zero to two weeks.
- `no_effect_escalation_days`: after how long without effect the referrer is contacted. The guideline's three
  weeks is the latest it allows; a network may contact sooner, but not before two weeks of treatment, when no
  minimal important change can yet be expected. Whole weeks.
- `normal_course_max_sessions`: sessions for a normal course (II.I: one, "met uitzondering van een eventuele
  controleafspraak"): one or two.

Pure: no I/O, no clock. `rules_under` gives the engine's rule set with the protocol's values; its version stays
the guideline's, and decisions record the protocol's version beside it.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.pathway import ProtocolAdopted

from .guideline import CURRENT, DEFAULT_REGISTRY, RuleRegistry, RuleSet, UnknownRuleVersion

GUIDELINE_AS_WRITTEN = "richtlijn"  # the protocol in force before a network adopts its own: the guideline's values


class ProtocolValues(BaseModel):
    """The values a network chooses, each within the room the guideline leaves (see the module)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    evaluation_interval_days: int = Field(default=21, ge=7, le=42, description="Days between evaluations.")
    overdue_grace_days: int = Field(default=7, ge=0, le=14, description="Days an evaluation may run late.")
    no_effect_escalation_days: int = Field(
        default=21, ge=14, le=21, description="Days of treatment without effect before the referrer is contacted."
    )
    normal_course_max_sessions: int = Field(default=2, ge=1, le=2, description="Sessions for a normal course.")

    @field_validator("evaluation_interval_days", "no_effect_escalation_days")
    @classmethod
    def _whole_weeks(cls, days: int) -> int:
        if days % 7:
            raise ValueError("must be whole weeks (a multiple of 7 days), as the guideline counts")
        return days


class Protocol(BaseModel):
    """One version of a network's protocol: its values on one guideline version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    guideline_version: str = CURRENT
    title: str = Field(default="", max_length=200)
    values: ProtocolValues = ProtocolValues()

    @property
    def evaluation_interval(self) -> timedelta:
        return timedelta(days=self.values.evaluation_interval_days)

    @property
    def overdue_grace(self) -> timedelta:
        return timedelta(days=self.values.overdue_grace_days)


GUIDELINE_PROTOCOL = Protocol(version=GUIDELINE_AS_WRITTEN, title="De richtlijn zoals geschreven")


def recorded_protocol_version(protocol: Protocol) -> str | None:
    """The protocol version a decision records: none before the network adopted its first protocol."""
    return None if protocol is GUIDELINE_PROTOCOL else protocol.version


def rules_under(protocol: Protocol, registry: RuleRegistry = DEFAULT_REGISTRY) -> RuleSet:
    """The guideline version's rules with the protocol's values in place of its own. Raises UnknownRuleVersion
    when the registry does not hold the protocol's guideline version."""
    rules = registry.get(protocol.guideline_version)
    values = protocol.values
    return rules.model_copy(
        update={
            "evaluation_interval_days": values.evaluation_interval_days,
            "no_effect_escalation_days": values.no_effect_escalation_days,
            "normal_course_max_sessions": values.normal_course_max_sessions,
        }
    )


def check_guideline(protocol: Protocol, registry: RuleRegistry = DEFAULT_REGISTRY) -> str | None:
    """Why the protocol cannot be used with this registry (its guideline version unknown), or None."""
    try:
        registry.get(protocol.guideline_version)
    except UnknownRuleVersion as error:
        return str(error)
    return None


class AdoptedProtocol(BaseModel):
    """A protocol the network adopted, in force from `effective_from` (inclusive) until a later one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    protocol: Protocol
    effective_from: date


def entry_in_force(adopted: list[AdoptedProtocol], on: date) -> AdoptedProtocol | None:
    """The adoption in force on a day: the one with the latest `effective_from` not after it (of two on one day,
    the later adopted); None before any."""
    current: AdoptedProtocol | None = None
    for entry in adopted:
        if entry.effective_from <= on and (current is None or entry.effective_from >= current.effective_from):
            current = entry
    return current


def in_force(adopted: list[AdoptedProtocol], on: date) -> Protocol:
    """The protocol in force on a day (`entry_in_force`); the guideline as written before any adoption."""
    entry = entry_in_force(adopted, on)
    return GUIDELINE_PROTOCOL if entry is None else entry.protocol


def overdue_grace_under(protocol: Protocol, guideline_grace: timedelta) -> timedelta:
    """How long an evaluation may run late under `protocol`: the network's choice; before the network chose one
    (the guideline as written), `guideline_grace` (the service's setting)."""
    return guideline_grace if protocol is GUIDELINE_PROTOCOL else protocol.overdue_grace


class Refused(ValueError):
    """An adoption the rules refuse: `field` and `reason` for the 422."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_adoption(
    adopted: list[AdoptedProtocol],
    protocol: Protocol,
    effective_from: date,
    today: date,
    registry: RuleRegistry = DEFAULT_REGISTRY,
) -> None:
    """Raise Refused when the network may not adopt `protocol` from `effective_from`: a day already begun or past
    (decisions made stay as they were recorded, so a protocol takes effect from tomorrow at the earliest), a
    version adopted before, or a guideline version the engine does not hold."""
    if effective_from <= today:
        raise Refused(
            "effective_from",
            f"must lie after today ({today.isoformat()}): decisions already made stay as they were recorded",
        )
    if any(entry.protocol.version == protocol.version for entry in adopted):
        raise Refused("protocol.version", f"{protocol.version!r} was adopted before; give this version a new name")
    reason = check_guideline(protocol, registry)
    if reason is not None:
        raise Refused("protocol.guideline_version", reason)


def adoption_event(protocol: Protocol, effective_from: date, adopted_by: str) -> ProtocolAdopted:
    return ProtocolAdopted(
        protocol_version=protocol.version,
        guideline_version=protocol.guideline_version,
        title=protocol.title,
        **protocol.values.model_dump(),
        effective_from=effective_from,
        adopted_by=adopted_by,
    )


def adopted_from(event: ProtocolAdopted) -> AdoptedProtocol:
    values = ProtocolValues.model_validate(event.model_dump(include=set(ProtocolValues.model_fields)))
    protocol = Protocol(
        version=event.protocol_version, guideline_version=event.guideline_version, title=event.title, values=values
    )
    return AdoptedProtocol(protocol=protocol, effective_from=event.effective_from)
