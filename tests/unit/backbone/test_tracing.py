"""Traces: off unless OTEL_* says where they go; on, a request's span continues the caller's W3C trace, is named
after the route, and the log lines written meanwhile carry its trace and span ids."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.logging import configure_logging, get_logger
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
