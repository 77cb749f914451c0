"""Traces (OpenTelemetry), off unless the standard variables say where to send them: `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns them on, exported by OTLP over HTTP; `OTEL_TRACES_EXPORTER=none`
or `OTEL_SDK_DISABLED=true` keeps them off; `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and the exporter's own
`OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression) are read as the specification says.

One referral is one trace, across every service it passes:
- every HTTP request a service serves (opentelemetry-instrumentation-fastapi; a W3C `traceparent` header from the
  caller makes the request's span part of the caller's trace; probes and /metrics left out);
- every event appended carries the trace context of the work that appended it (`traceparent_for`), stored with
  the event and sent with it as the CloudEvents distributed-tracing extension `traceparent`;
- the relay's publishing of each event (`publishing`, a PRODUCER span, child of the event's context);
- each consumer's handling of each event (`consuming`, a CONSUMER span, child of the event's context; what the
  handler appends carries that span's context, also when a batch handles many events at once);
- a step of interest inside a handler (`span`, e.g. the pathway's guideline decision);
- each webhook delivery attempt (a CLIENT span, child of the event's context, its W3C `traceparent` header sent).
Every log line written while a span is current carries its `trace_id` and `span_id`.

Off (the default), no middleware is installed, nothing is imported beyond the API, no span is made and events
carry no `traceparent`: each hook above is one check of `enabled()`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from shared.events.envelope import Envelope
    from shared.store.event_store import StoredEvent

UNTRACED_URLS = "/health,/ready,/metrics"

_PROPAGATOR = TraceContextTextMapPropagator()
_NOTHING: AbstractContextManager[None] = nullcontext()
_tracer: Tracer | None = None  # set while traces are on
# The context of each event being consumed now, by event id: what a handler appends because of it follows it.
_consumed: ContextVar[Mapping[uuid.UUID, Context]] = ContextVar("consumed_events", default=MappingProxyType({}))


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

    # No spans for each ASGI message sent and received: they tell an operator nothing the request's span does not,
    # and cost as much again per request.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=UNTRACED_URLS, exclude_spans=["receive", "send"]
    )


def enable(provider: TracerProvider) -> None:
    """Traces on for this process: its spans go to `provider`."""
    global _tracer
    _tracer = provider.get_tracer("ruggengraat")


def disable() -> None:
    global _tracer
    _tracer = None


def enabled() -> bool:
    return _tracer is not None


def traceparent_of(context: Context | None = None) -> str | None:
    """The W3C `traceparent` of `context` (the current one when None), or None when it holds no valid span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context)
    return carrier.get("traceparent")


def context_of(traceparent: str | None) -> Context:
    """The context a `traceparent` names, to start a child span in; an empty one (a new trace) for None."""
    return _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else Context()


def traceparent_for(causation_id: uuid.UUID | None) -> str | None:
    """What an event appended now carries: the context of the consumer's span for the event that caused it, when
    that is being consumed now, else the current span's (the HTTP request's); None while traces are off."""
    if _tracer is None:
        return None
    return traceparent_of(_consumed_context(causation_id))


def span(
    name: str,
    *,
    cause: uuid.UUID | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int] | None = None,
) -> AbstractContextManager[Span | None]:
    """A span for a step of work, current while it runs: the child of the consumer's span for event `cause` when
    that is being consumed now, else of the current span. Yields None while traces are off."""
    if _tracer is None:
        return _NOTHING
    return _tracer.start_as_current_span(name, context=_consumed_context(cause), kind=kind, attributes=attributes)


def _consumed_context(event_id: uuid.UUID | None) -> Context | None:
    """The context of the consumer's span for event `event_id`, when that is being consumed now."""
    return _consumed.get().get(event_id) if event_id is not None else None


def child_of_event(
    name: str, envelope: Envelope, kind: SpanKind, attributes: Mapping[str, str | int]
) -> AbstractContextManager[Span | None]:
    """A span, current while it runs, continuing the trace the event carries (a new trace when it carries none).
    Yields None while traces are off."""
    if _tracer is None:
        return _NOTHING
    return _tracer.start_as_current_span(
        name,
        context=context_of(envelope.traceparent),
        kind=kind,
        attributes={**_event_attributes(envelope), **attributes},
    )


@contextmanager
def consuming(consumer: str, envelopes: Sequence[Envelope]) -> Iterator[None]:
    """A CONSUMER span per event while a handler handles them (together, in one transaction), each a child of its
    event's context; what the handler appends because of an event carries that event's span. One event alone:
    its span is also current, so the handler's own spans nest in it."""
    if _tracer is None or not envelopes:
        yield
        return
    consumed = [
        (e.id, f"process {e.type}", e.traceparent, {**_event_attributes(e), **_messaging("process")}) for e in envelopes
    ]
    with _event_spans(consumed, SpanKind.CONSUMER, {"messaging.consumer.group.name": consumer}) as spans:
        token = _consumed.set(
            MappingProxyType({event_id: trace.set_span_in_context(s) for event_id, s in spans.items()})
        )
        try:
            if len(spans) == 1:
                with trace.use_span(next(iter(spans.values())), end_on_exit=False):
                    yield
            else:
                yield
        finally:
            _consumed.reset(token)


@contextmanager
def publishing(topic: str, events: Sequence[StoredEvent]) -> Iterator[Callable[[uuid.UUID, int, int], None]]:
    """A PRODUCER span per event while the relay sends them, each a child of the context the event was appended
    in; yields `landed(event_id, partition, offset)` to note where each went. Nothing while traces are off."""
    if _tracer is None:
        yield _nowhere
        return
    published = [
        (
            e.event_id,
            f"publish {e.event_type}",
            e.traceparent,
            {**_cloudevent_attributes(e.event_id, e.event_type, e.stream_id), **_messaging("send")},
        )
        for e in events
    ]
    with _event_spans(published, SpanKind.PRODUCER, {"messaging.destination.name": topic}) as spans:

        def landed(event_id: uuid.UUID, partition: int, offset: int) -> None:
            spans[event_id].set_attributes(
                {"messaging.destination.partition.id": str(partition), "messaging.kafka.offset": offset}
            )

        yield landed


_EventSpan = tuple[uuid.UUID, str, str | None, dict[str, str | int]]  # event id, span name, its traceparent, attributes


@contextmanager
def _event_spans(
    events: Sequence[_EventSpan], kind: SpanKind, common: Mapping[str, str | int]
) -> Iterator[dict[uuid.UUID, Span]]:
    """A span per event, each a child of the context its event carries, by event id; all marked failed when the
    work in them raises, and ended when it is done. Only while traces are on."""
    assert _tracer is not None
    spans = {
        event_id: _tracer.start_span(
            name, context=context_of(traceparent), kind=kind, attributes={**attributes, **common}
        )
        for event_id, name, traceparent, attributes in events
    }
    try:
        yield spans
    except BaseException as error:
        _failed(spans.values(), error)
        raise
    finally:
        for s in spans.values():
            s.end()


def _failed(spans: Iterable[Span], error: BaseException) -> None:
    for span in spans:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, repr(error)[:200]))


def _nowhere(event_id: uuid.UUID, partition: int, offset: int) -> None:
    pass


def _event_attributes(envelope: Envelope) -> dict[str, str | int]:
    """The CloudEvents semantic conventions' attributes of an event as received."""
    return {
        **_cloudevent_attributes(envelope.id, envelope.type, envelope.subject),
        "cloudevents.event_source": envelope.source,
    }


def _cloudevent_attributes(event_id: uuid.UUID, event_type: str, subject: str) -> dict[str, str | int]:
    """The CloudEvents semantic conventions' attributes every event has (the subject is the pseudonymous episode
    id)."""
    return {
        "cloudevents.event_id": str(event_id),
        "cloudevents.event_type": event_type,
        "cloudevents.event_subject": subject,
    }


def _messaging(operation: str) -> dict[str, str | int]:
    return {"messaging.system": "kafka", "messaging.operation.type": operation}


def add_trace_ids(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's trace and span ids (W3C hex), when a span is current."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
