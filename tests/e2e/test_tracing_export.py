"""Services started with OTEL_EXPORTER_OTLP_ENDPOINT send their spans by OTLP over HTTP to a collector (here a
receiver of the test's own that keeps in memory what it decodes of the OTLP protobuf): a referral posted with a
W3C `traceparent` is one trace, in the caller's, through all four services — the request, the relay's publishing,
each consumer, the guideline decision and the webhook delivery, whose request carries the trace on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from deploy.local import free_port
from tests.conftest import eventually
from tests.e2e.conftest import Receiver, running_system
from tests.support import gp_referral, referrer, subscriber

pytestmark = pytest.mark.e2e

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int  # opentelemetry.proto Span.SpanKind: 2 server, 3 client, 4 producer, 5 consumer


class Collector:
    """What an OpenTelemetry collector receives at /v1/traces."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — the name http.server calls
                body = self.rfile.read(int(self.headers["content-length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    name = next(a.value.string_value for a in resource.resource.attributes if a.key == "service.name")
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            collector.spans.append(
                                Span(
                                    name,
                                    span.name,
                                    span.trace_id.hex(),
                                    span.span_id.hex(),
                                    span.parent_span_id.hex(),
                                    span.kind,
                                )
                            )
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector()
    found.thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
        found.thread.join(timeout=10)


async def test_a_service_sends_the_span_of_a_request_by_otlp_in_the_callers_trace(
    fresh_database, infrastructure, tmp_path, collector: Collector
):
    with running_system(
        fresh_database,
        infrastructure.bootstrap,
        tmp_path,
        services=("intake",),
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="200",  # ms: the batch goes out soon
    ) as system:
        async with httpx.AsyncClient(timeout=30) as client:
            posted = await client.post(
                f"{system.url('intake')}/v1/referrals",
                json=gp_referral("HIS-TRACE-1", 5),
                headers={**referrer(), "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
            )
            assert posted.status_code == 201, posted.text
            assert (await client.get(f"{system.url('intake')}/ready")).status_code in (200, 503)

        async def arrived() -> list:
            return [s for s in collector.spans if s.name == "POST /v1/referrals"]

        [span] = await eventually(arrived, timeout=30, interval=0.2)
    assert (span.service, span.name, span.trace_id, span.parent_id) == (
        "ruggengraat-intake",
        "POST /v1/referrals",
        TRACE_ID,
        CALLER_SPAN,
    )
    assert not [s for s in collector.spans if s.name.startswith("GET /ready")]  # probes are not traced


REFERRAL = "nl.ruggengraat.intake.ReferralReceived"
SCHEDULED = "nl.ruggengraat.pathway.EvaluationScheduled"
# (service, span name, kind) every referral's trace holds, service by service: intake serves the request and
# publishes the event; pathway consumes it, decides and publishes its decision; reporting consumes both;
# notifications consumes both and delivers both to the GP's subscription.
EXPECTED = {
    ("ruggengraat-intake", "POST /v1/referrals", 2),
    ("ruggengraat-intake", f"publish {REFERRAL}", 4),
    ("ruggengraat-pathway", f"process {REFERRAL}", 5),
    ("ruggengraat-pathway", "guideline decide", 1),
    ("ruggengraat-pathway", f"publish {SCHEDULED}", 4),
    ("ruggengraat-reporting", f"process {REFERRAL}", 5),
    ("ruggengraat-reporting", f"process {SCHEDULED}", 5),
    ("ruggengraat-notifications", f"process {REFERRAL}", 5),
    ("ruggengraat-notifications", f"process {SCHEDULED}", 5),
    ("ruggengraat-notifications", f"deliver {REFERRAL}", 3),
    ("ruggengraat-notifications", f"deliver {SCHEDULED}", 3),
}


async def test_one_referral_is_one_trace_through_all_four_services_and_the_webhook(
    fresh_database, infrastructure, tmp_path, collector: Collector, receiver: Receiver
):
    with running_system(
        fresh_database,
        infrastructure.bootstrap,
        tmp_path,
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="200",
    ) as system:
        async with httpx.AsyncClient(timeout=30) as client:
            created = await client.post(
                f"{system.url('notifications')}/v1/subscriptions",
                json={"endpoint_url": f"{receiver.url}/hook", "event_types": [REFERRAL, SCHEDULED]},
                headers=subscriber(),
            )
            assert created.status_code == 201, created.text
            receiver.configure(secret=created.json()["secret"])
            posted = await client.post(
                f"{system.url('intake')}/v1/referrals",
                json=gp_referral("HIS-TRACE-2", 6),
                headers={**referrer(), "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
            )
            assert posted.status_code == 201, posted.text

        async def whole_trace() -> list[Span] | None:
            spans = [s for s in collector.spans if s.trace_id == TRACE_ID]
            return spans if EXPECTED <= {(s.service, s.name, s.kind) for s in spans} else None

        spans = await eventually(whole_trace, timeout=60, interval=0.5)
        delivered = await eventually(lambda: _delivered(receiver), timeout=30)

    # One tree: the request's span is the caller's child, every other span a child of a span in the trace.
    ids = {s.span_id for s in spans}
    [request] = [s for s in spans if s.name == "POST /v1/referrals"]
    assert request.parent_id == CALLER_SPAN
    assert [s for s in spans if s is not request and s.parent_id not in ids] == []

    def parent(span: Span) -> Span:
        return next(s for s in spans if s.span_id == span.parent_id)

    def one(service: str, name: str) -> Span:
        [found] = [s for s in spans if (s.service, s.name) == (service, name)]
        return found

    # The chain a GP's webhook ends: request → publish → pathway consumes → decides → publishes → delivered.
    published = one("ruggengraat-intake", f"publish {REFERRAL}")
    consumed = one("ruggengraat-pathway", f"process {REFERRAL}")
    decided = one("ruggengraat-pathway", "guideline decide")
    scheduled = one("ruggengraat-pathway", f"publish {SCHEDULED}")
    assert published.parent_id == consumed.parent_id  # both children of the context the event was recorded in
    assert parent(published) is request
    assert parent(decided) is consumed and parent(scheduled) is consumed
    assert parent(one("ruggengraat-notifications", f"deliver {SCHEDULED}")) is consumed

    # The receiver got the delivery attempt's W3C trace context: the trace goes on in the GP's system.
    by_type = {json.loads(d["request"]["body"])["type"]: d["request"]["headers"] for d in delivered}
    for event_type in (REFERRAL, SCHEDULED):
        version, trace_id, span_id, _ = by_type[event_type]["traceparent"].split("-")
        assert (version, trace_id) == ("00", TRACE_ID)
        assert one("ruggengraat-notifications", f"deliver {event_type}").span_id == span_id


async def _delivered(receiver: Receiver) -> list[dict] | None:
    attempts = httpx.get(f"{receiver.url}/_attempts").json()["attempts"]
    kept = [a for a in attempts if 200 <= a.get("status", 0) < 300]
    return kept if len(kept) >= 2 else None
