"""The event registry: type → model, upcasting old versions, clear errors for what it cannot read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from shared.events import REGISTRY, Envelope, EventPayload, EventRegistry, InvalidEventData, UnknownEventType
from shared.events.intake import ReferralReceived
from shared.events.pathway import EvaluationScheduled
from shared.events.topics import TOPICS


class MeasuredV2(EventPayload):
    """Test-only event whose version 1 stored `score` as a string and had no `instrument`."""

    event_type: ClassVar[str] = "nl.ruggengraat.test.Measured"
    event_version: ClassVar[int] = 2
    topic: ClassVar[str] = "test.events"
    instrument: str
    score: int


def registry_with_upcaster() -> EventRegistry:
    registry = EventRegistry()
    registry.register(MeasuredV2)

    @registry.upcaster(MeasuredV2.event_type, 1)
    def v1_to_v2(data: dict) -> dict:
        return {"instrument": "QBPDS", "score": int(data["score"])}

    return registry


def envelope(type_: str, version: int, data: dict) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/ruggengraat/test",
        type=type_,
        time=datetime(2026, 1, 1, tzinfo=UTC),
        subject="episode",
        dataschema=f"urn:ruggengraat:schema:{type_}:v{version}",
        streamversion=1,
        dataversion=version,
        correlationid=uuid.uuid4(),
        data=data,
    )


def test_every_shipped_event_type_is_registered_once_with_its_topic():
    types = {m.event_type: m for m in REGISTRY.models()}
    assert types["nl.ruggengraat.intake.ReferralReceived"] is ReferralReceived
    assert types["nl.ruggengraat.pathway.EvaluationScheduled"] is EvaluationScheduled
    assert all(m.topic in TOPICS for m in types.values())
    assert {m.topic for m in types.values()} == set(TOPICS)  # every topic carries at least one type


def test_a_current_version_decodes_into_its_model():
    registry = registry_with_upcaster()
    payload = registry.decode(envelope(MeasuredV2.event_type, 2, {"instrument": "NPRS", "score": 7}))
    assert payload == MeasuredV2(instrument="NPRS", score=7)


def test_an_old_version_is_upcast_to_the_current_model():
    registry = registry_with_upcaster()
    payload = registry.decode(envelope(MeasuredV2.event_type, 1, {"score": "42"}))
    assert payload == MeasuredV2(instrument="QBPDS", score=42)
    assert registry.decode_json(MeasuredV2.event_type, 1, '{"score": "42"}') == payload


def test_a_version_newer_than_the_model_is_refused():
    with pytest.raises(UnknownEventType):
        registry_with_upcaster().decode(envelope(MeasuredV2.event_type, 3, {}))


def test_an_old_version_without_an_upcaster_is_refused():
    registry = EventRegistry()
    registry.register(MeasuredV2)
    with pytest.raises(UnknownEventType):
        registry.decode(envelope(MeasuredV2.event_type, 1, {"score": "1"}))


def test_an_unknown_type_is_refused():
    with pytest.raises(UnknownEventType, match="nl.ruggengraat.test.Nope"):
        REGISTRY.decode(envelope("nl.ruggengraat.test.Nope", 1, {}))


def test_invalid_data_names_the_failing_field():
    with pytest.raises(InvalidEventData, match=r"data\.practice_agb"):
        REGISTRY.decode(
            envelope(
                ReferralReceived.event_type,
                1,
                {"route": "gp_referral", "practice_agb": "12", "referred_on": "2026-01-01"},
            )
        )


def test_two_models_cannot_claim_one_type():
    registry = EventRegistry()
    registry.register(MeasuredV2)

    class Impostor(MeasuredV2):
        event_type: ClassVar[str] = MeasuredV2.event_type

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Impostor)


def test_a_subscriber_can_subscribe_to_every_type_about_an_episode_and_to_no_network_wide_one():
    subscribable = {m.event_type for m in REGISTRY.subscribable()}
    assert "nl.ruggengraat.pathway.ProtocolAdopted" not in subscribable
    assert subscribable == {m.event_type for m in REGISTRY.models()} - {"nl.ruggengraat.pathway.ProtocolAdopted"}
