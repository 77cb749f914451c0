"""Traces (OpenTelemetry), off unless the standard variables say where to send them: `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns them on, exported by OTLP over HTTP; `OTEL_TRACES_EXPORTER=none`
or `OTEL_SDK_DISABLED=true` keeps them off; `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and the exporter's own
`OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression) are read as the specification says.

What is traced so far: every HTTP request a service serves (opentelemetry-instrumentation-fastapi; a W3C
`traceparent` header from the caller makes the request's span part of the caller's trace; probes and /metrics
left out), and every log line written while a span is current carries its `trace_id` and `span_id`. Off, no
middleware is installed and nothing is imported beyond the API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

UNTRACED_URLS = "/health,/ready,/metrics"


def provider_from_environment(service: str, environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """The tracer provider the OTEL_* variables ask for, exporting by OTLP over HTTP; None when they ask for no
    traces (no endpoint given, the exporter `none`, or the SDK disabled). Raises ValueError for an exporter
    other than `otlp` or `none`, naming the variable."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    exporter = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if exporter == "none":
        return None
    if exporter != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER: {exporter!r} is not supported; use otlp or none")
    if not (environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # only when traced
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES and lets OTEL_SERVICE_NAME win over the default name.
    provider = TracerProvider(resource=Resource.create({"service.name": f"ruggengraat-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # endpoint and headers from OTEL_*
    return provider


def install_tracing(app: FastAPI, provider: TracerProvider) -> None:
    """A span for every request the app serves (named after the route template), continuing the caller's trace
    when it sends W3C trace context."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED_URLS)


def add_trace_ids(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's trace and span ids (W3C hex), when a span is current."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
