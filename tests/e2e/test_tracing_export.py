"""A service started with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans by OTLP over HTTP: a referral posted with a
W3C `traceparent` arrives at the collector (here a receiver of the test's own that decodes the OTLP protobuf) as
a span of the caller's trace, named after the route, under the service's name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from deploy.local import free_port
from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.support import gp_referral, referrer

pytestmark = pytest.mark.e2e

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"


class Collector:
    """What an OpenTelemetry collector receives at /v1/traces: (service.name, span name, trace id, parent id)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str, str]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — the name http.server calls
                body = self.rfile.read(int(self.headers["content-length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    name = next(a.value.string_value for a in resource.resource.attributes if a.key == "service.name")
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            collector.spans.append((name, span.name, span.trace_id.hex(), span.parent_span_id.hex()))
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
            return [s for s in collector.spans if s[1] == "POST /v1/referrals"]

        [span] = await eventually(arrived, timeout=30, interval=0.2)
    assert span == ("ruggengraat-intake", "POST /v1/referrals", TRACE_ID, CALLER_SPAN)
    assert not [s for s in collector.spans if s[1].startswith("GET /ready")]  # probes are not traced
