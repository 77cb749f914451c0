"""The CloudEvents envelope: round trips, and the official SDK reads what we write."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from cloudevents.core.formats.json import JSONFormat
from pydantic import ValidationError

from shared.events import Envelope, new_envelope
from shared.events.intake import sample_referral
from shared.store.event_store import GlobalPosition, StoredEvent

REFERRAL = sample_referral()
EPISODE = str(uuid.uuid4())


def make_envelope(**overrides) -> Envelope:
    return new_envelope(
        REFERRAL,
        service="intake",
        subject=EPISODE,
        stream_version=1,
        time=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        correlation_id=uuid.uuid4(),
        **overrides,
    )


def test_envelope_survives_a_json_round_trip_unchanged():
    envelope = make_envelope(causation_id=uuid.uuid4(), guideline_version="kngf-lrp-2003")
    assert Envelope.from_json(envelope.to_json()) == envelope


def test_the_cloudevents_sdk_parses_our_envelope_with_every_extension():
    envelope = make_envelope(causation_id=uuid.uuid4(), guideline_version="kngf-lrp-2003")
    event = JSONFormat().read(None, envelope.to_json())
    assert event.get_id() == str(envelope.id)
    assert event.get_type() == "nl.ruggengraat.intake.ReferralReceived"
    assert event.get_source() == "/ruggengraat/intake"
    assert event.get_subject() == EPISODE
    assert event.get_specversion() == "1.0"
    assert event.get_dataschema() == "urn:ruggengraat:schema:nl.ruggengraat.intake.ReferralReceived:v1"
    assert event.get_extension("streamversion") == 1
    assert event.get_extension("dataversion") == 1
    assert event.get_extension("correlationid") == str(envelope.correlationid)
    assert event.get_extension("causationid") == str(envelope.causationid)
    assert event.get_extension("guidelineversion") == "kngf-lrp-2003"
    assert event.get_data()["practice_agb"] == "04123456"


def test_the_relay_encoding_is_the_same_cloudevent_as_the_envelope():
    envelope = make_envelope()
    stored = StoredEvent(
        GlobalPosition(10, 1),
        EPISODE,
        1,
        envelope.id,
        envelope.type,
        1,
        envelope.time,
        envelope.correlationid,
        None,
        None,
        REFERRAL.model_dump_json(),
        "intake",
    )
    assert Envelope.from_json(stored.cloudevent_json()) == envelope
    assert stored.envelope() == envelope
    assert JSONFormat().read(None, stored.cloudevent_json()).get_id() == str(envelope.id)


def test_an_event_time_without_timezone_is_refused():
    with pytest.raises(ValidationError, match="time"):
        Envelope.model_validate({**json.loads(make_envelope().to_json()), "time": "2026-11-23T09:30:00"})


def test_an_unknown_top_level_attribute_is_refused_by_name():
    raw = {**json.loads(make_envelope().to_json()), "patientname": "J. Jansen"}
    with pytest.raises(ValidationError, match="patientname"):
        Envelope.model_validate(raw)


def test_extension_names_follow_the_cloudevents_naming_rule():
    names = make_envelope(causation_id=uuid.uuid4(), guideline_version="v").extensions()
    assert names and all(n.isalnum() and n.islower() and len(n) <= 20 for n in names)
