"""Traces: off unless OTEL_* says where they go; on, a request's span continues the caller's W3C trace, is named
after the route, and the log lines written meanwhile carry its trace and span ids."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import tracing
from shared.events.envelope import Envelope, new_envelope
from shared.events.intake import sample_referral
from shared.logging import configure_logging, get_logger
from shared.store.event_store import GlobalPosition, StoredEvent
from shared.tracing import install_tracing, provider_from_environment

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
        {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
    ],
    ids=["no endpoint", "exporter none", "sdk disabled"],
)
def test_traces_are_off_unless_the_environment_says_where_they_go(environ):
    assert provider_from_environment("pathway", environ) is None


def test_an_endpoint_turns_them_on_under_the_services_name_and_another_exporter_is_refused():
    provider = provider_from_environment("pathway", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "ruggengraat-pathway"
    provider.shutdown()
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER: 'zipkin' is not supported"):
        provider_from_environment("pathway", {"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"})


async def test_a_request_continues_the_callers_trace_and_its_log_lines_carry_the_ids():
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    app = FastAPI()

    @app.get("/v1/episodes/{episode_id}")
    async def episode(episode_id: str) -> dict[str, str]:
        get_logger("test.tracing").info("episode.read", episode=episode_id)
        return {"episode_id": episode_id}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    install_tracing(app, provider)
    written = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers), root.level
    configure_logging("pathway", "INFO", written)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            answer = await client.get("/v1/episodes/e-1", headers={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"})
            assert answer.status_code == 200
            assert (await client.get("/health")).status_code == 200
    finally:
        root.handlers[:], root.level = before
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
    servers = [s for s in exported.get_finished_spans() if s.kind.name == "SERVER"]
    assert [s.name for s in servers] == ["GET /v1/episodes/{episode_id}"]  # the probe is not traced
    [span] = servers
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == CALLER_SPAN
    [line] = [json.loads(x) for x in written.getvalue().splitlines() if "episode.read" in x]
    assert (line["trace_id"], line["span_id"]) == (TRACE_ID, format(span.context.span_id, "016x"))


# ---- the trace carried by events: consumers, relay, handler steps -------------------------------------------


@pytest.fixture
def traced() -> Iterator[InMemorySpanExporter]:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    tracing.enable(provider)
    try:
        yield exported
    finally:
        tracing.disable()
        provider.shutdown()


def envelope(n: int, traceparent: str | None) -> Envelope:
    return new_envelope(
        sample_referral(f"{4100000 + n:08d}"),
        service="intake",
        subject=f"episode-{n}",
        stream_version=1,
        time=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        correlation_id=uuid.uuid4(),
        traceparent=traceparent,
    )


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def test_off_nothing_is_traced_and_events_carry_no_trace_context():
    assert not tracing.enabled()
    with tracing.consuming("pathway", [envelope(1, f"00-{TRACE_ID}-{CALLER_SPAN}-01")]):
        assert tracing.traceparent_for(None) is None
        with tracing.span("guideline decide") as span:
            assert span is None
    with tracing.publishing("intake-events", []) as landed:
        landed(uuid.uuid4(), 0, 0)  # a no-op, not an error


def test_what_a_handler_appends_carries_its_causes_consumer_span_when_a_batch_handles_several(traced):
    other_trace = "11111111111111111111111111111111"
    first, second, untraced = (
        envelope(1, f"00-{TRACE_ID}-{CALLER_SPAN}-01"),
        envelope(2, f"00-{other_trace}-{CALLER_SPAN}-01"),
        envelope(3, None),
    )
    with tracing.consuming("pathway", [first, second, untraced]):
        appended = {e.id: tracing.traceparent_for(e.id) for e in (first, second, untraced)}
        with tracing.span("guideline decide", cause=second.id):
            pass
    assert tracing.traceparent_for(first.id) is None  # the consumer's spans are gone with the batch
    spans = {s.attributes["cloudevents.event_id"]: s for s in traced.get_finished_spans() if s.kind.name == "CONSUMER"}
    assert {s.name for s in spans.values()} == {"process nl.ruggengraat.intake.ReferralReceived"}
    for event, trace_id in ((first, TRACE_ID), (second, other_trace)):
        span = spans[str(event.id)]
        assert hex_ids(span)[0] == trace_id and format(span.parent.span_id, "016x") == CALLER_SPAN
        assert appended[event.id] == f"00-{trace_id}-{hex_ids(span)[1]}-01"
        assert span.attributes["messaging.consumer.group.name"] == "pathway"
    assert spans[str(untraced.id)].parent is None  # an event recorded untraced starts a trace of its own
    [decide] = [s for s in traced.get_finished_spans() if s.name == "guideline decide"]
    assert decide.parent.span_id == spans[str(second.id)].context.span_id


def test_one_event_alone_has_its_span_current_and_a_failure_marks_it(traced):
    event = envelope(1, f"00-{TRACE_ID}-{CALLER_SPAN}-01")
    with pytest.raises(RuntimeError), tracing.consuming("reporting", [event]):
        with tracing.span("compose letter") as step:
            assert step is not None
        raise RuntimeError("handler failed")
    consumed = next(s for s in traced.get_finished_spans() if s.kind.name == "CONSUMER")
    step_span = next(s for s in traced.get_finished_spans() if s.name == "compose letter")
    assert step_span.parent.span_id == consumed.context.span_id
    assert consumed.status.status_code.name == "ERROR" and consumed.events[0].name == "exception"


def test_the_relays_span_per_event_is_a_child_of_the_context_it_was_appended_in(traced):
    event_id = uuid.uuid4()
    stored = StoredEvent(
        GlobalPosition(1, 1),
        "episode-1",
        1,
        event_id,
        "nl.ruggengraat.intake.ReferralReceived",
        1,
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        uuid.uuid4(),
        None,
        None,
        "{}",
        "intake",
        f"00-{TRACE_ID}-{CALLER_SPAN}-01",
    )
    with tracing.publishing("intake-events", [stored]) as landed:
        landed(event_id, 3, 42)
    [span] = traced.get_finished_spans()
    assert (span.name, span.kind.name, hex_ids(span)[0]) == (
        "publish nl.ruggengraat.intake.ReferralReceived",
        "PRODUCER",
        TRACE_ID,
    )
    assert format(span.parent.span_id, "016x") == CALLER_SPAN
    assert span.attributes["messaging.destination.name"] == "intake-events"
    assert (span.attributes["messaging.destination.partition.id"], span.attributes["messaging.kafka.offset"]) == (
        "3",
        42,
    )
    assert json.loads(stored.cloudevent_json())["traceparent"] == f"00-{TRACE_ID}-{CALLER_SPAN}-01"


def test_an_event_keeps_a_well_formed_trace_context_and_ignores_a_malformed_one():
    good = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
    kept = Envelope.from_json(envelope(1, good).to_json())
    assert kept.traceparent == good and kept.extensions()["traceparent"] == good
    for malformed in ("00-xyz", f"00-{TRACE_ID.upper()}-{CALLER_SPAN}-01", 42):
        raw = json.loads(envelope(1, None).to_json())
        assert Envelope.model_validate({**raw, "traceparent": malformed}).traceparent is None
    assert "traceparent" not in json.loads(envelope(1, None).to_json())
