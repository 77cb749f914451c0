"""A webhook sink, as a GP or practice system's endpoint: every delivery is verified with the Standard Webhooks
library (401 when the signature does not match) and parsed with the CloudEvents SDK; tests await an event type
for an episode."""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Delivery:
    """One verified delivery: the CloudEvent (the SDK's object), its headers and the subscription's number."""

    event: Any
    headers: dict[str, str]
    sequence: int

    @property
    def type(self) -> str:
        return self.event.get_type()

    @property
    def subject(self) -> str:
        return self.event.get_subject()

    @property
    def data(self) -> Any:
        return self.event.get_data()


class WebhookSink:
    """An HTTP endpoint in a thread of the test process. `subscribe` registers it with notifications; each
    subscription gets a path of its own and its secret verifies what arrives there.

    It listens on `RUGGENGRAAT_SINK_LISTEN` (host:port, default 127.0.0.1 on a free port) and tells notifications
    to deliver to `RUGGENGRAAT_SINK_URL` (default: where it listens), for a system that reaches it another way.
    """

    def __init__(self, listen: str | None = None, public_url: str | None = None) -> None:
        host, _, port = (listen or os.environ.get("RUGGENGRAAT_SINK_LISTEN", "127.0.0.1:0")).rpartition(":")
        self._secrets: dict[str, str] = {}
        self._lock = threading.Condition()
        self.deliveries: list[Delivery] = []
        self.rejected: list[dict[str, Any]] = []  # requests whose signature did not verify
        self._server = ThreadingHTTPServer((host, int(port)), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True)
        self._thread.start()
        bound_host, bound_port = self._server.server_address[:2]
        if isinstance(bound_host, bytes):  # only for a Unix socket, which this TCP server never has
            bound_host = bound_host.decode()
        self.url = (public_url or os.environ.get("RUGGENGRAAT_SINK_URL") or f"http://{bound_host}:{bound_port}").rstrip(
            "/"
        )

    def subscribe(self, notifications: httpx.Client, event_types: list[str], **body: Any) -> dict[str, Any]:
        """Register this sink for `event_types` with the subscriber's notifications client; the answer (its
        `subscription_id`, `secret`, …). Deliveries that arrive before the secret is known get 503 and come again."""
        path = f"/hooks/{uuid.uuid4().hex}"
        response = notifications.post(
            "/v1/subscriptions", json={"endpoint_url": self.url + path, "event_types": event_types, **body}
        )
        if response.status_code != 201:
            raise AssertionError(f"subscription refused: {response.status_code} {response.text}")
        created = response.json()
        with self._lock:
            self._secrets[path] = created["secret"]
        return created

    def await_event(self, episode_id: str, event_type: str, timeout: float = 30.0) -> Delivery:
        """The first delivery of `event_type` (full, or its last part like "BeloopClassified") for the episode;
        AssertionError after `timeout` seconds, naming what did arrive for it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for delivery in self.deliveries:
                    if delivery.subject == str(episode_id) and _same_type(delivery.type, event_type):
                        return delivery
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [d.type for d in self.deliveries if d.subject == str(episode_id)]
                    raise AssertionError(f"no {event_type} for episode {episode_id} within {timeout} s; got {seen}")
                self._lock.wait(left)

    def events_for(self, episode_id: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.subject == str(episode_id)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        with self._lock:
            secret = self._secrets.get(path)
        if secret is None:
            return 503, {"retry-after": "1"}
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError as error:
            with self._lock:
                self.rejected.append({"path": path, "headers": headers, "error": str(error)})
            return 401, {}
        event = from_http_event(HTTPMessage(headers=headers, body=body))
        delivery = Delivery(event, headers, int(headers.get("ruggengraat-sequence", "0")))
        with self._lock:
            if all(d.event.get_id() != event.get_id() for d in self.deliveries):  # a re-send is kept once
                self.deliveries.append(delivery)
            self._lock.notify_all()
        return 204, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — the name http.server calls
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, extra = sink._receive(self.path, headers, body)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — quiet, as a test's endpoint
                pass

        return Handler


def _same_type(actual: str, wanted: str) -> bool:
    return actual == wanted or actual.endswith("." + wanted)
