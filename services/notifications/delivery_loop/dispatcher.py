"""The delivery loop: one lane per subscriber, each with one request in flight, many lanes at once.

A scheduler looks for lanes that are due (their next delivery is due, their breaker lets an attempt
through, nobody else holds their lease) and starts a task per lane. A lane takes a lease on its
subscription (so two processes never send one subscriber's deliveries at once), plans the next deliveries
(domain/ordering.py), numbers them in a committed transaction, then sends them one by one and records
each attempt. It stops at the first failure: when the retry is due, the scheduler starts it again. A
slow or dead endpoint thus holds one lane and one of `delivery_max_concurrency` slots, never the others;
its breaker parks it after repeated failures. Each attempt's outcome is decided in the domain
(domain/outcome.py); every statement it runs is in the store (store/lanes.py). Once a second it also runs
the sweep of held events whose cause is overdue (`handlers.release_overdue`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from cloudevents.core.bindings.http import HTTPMessage
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.notifications import metrics
from services.notifications.delivery_loop.sender import USER_AGENT, AddressGuard, post
from services.notifications.domain.breaker import Breaker
from services.notifications.domain.messages import render, signed, signing_secrets
from services.notifications.domain.ordering import plan
from services.notifications.domain.outcome import DeliveryStatus, decide
from services.notifications.handlers import release_overdue
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore, lanes
from shared import tracing
from shared.clock import Clock
from shared.db import DATABASE_UNAVAILABLE
from shared.logging import get_logger
from shared.service import Runtime
from shared.supervisor import LoopBody, LoopHandle, guarded

log = get_logger(__name__)
# httpx logs every request at INFO through the standard library; the attempt log above says more, once.
logging.getLogger("httpx").setLevel(logging.WARNING)

_SWEEP_EVERY_SECONDS = 1.0
_IDLE_CLIENT_SECONDS = 60.0


class Dispatcher:
    def __init__(
        self,
        store: NotificationsStore,
        clock: Clock,
        settings: NotificationsSettings,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        # One HTTP client per subscriber lane, holding at most one connection: a subscriber's endpoint gets
        # one request at a time and keeps its connection alive between them, and no lane waits on a
        # connection pool shared with slow endpoints.
        self.clients: dict[uuid.UUID, tuple[httpx.AsyncClient, float]] = {}
        self.tls = httpx.create_ssl_context()  # loading the CA bundle takes ~20 ms: once, not per client
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.guard = AddressGuard(allow_loopback=settings.environment == "development")
        self.retry = settings.retry_policy()  # its own seeded random source (RETRY_JITTER_SEED) for the jitter
        self.breaker_policy = settings.breaker_policy()
        self.slots = asyncio.Semaphore(settings.delivery_max_concurrency)
        self.lanes: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.stop = asyncio.Event()
        self.handle = LoopHandle("dispatcher")

    async def run(self, stop: asyncio.Event, handle: LoopHandle | None = None) -> None:
        """Start lanes as they fall due until `stop` is set. Runs under the service's supervisor: an error ends
        this call (after the lanes are stopped and, where the database answers, handed back) and the supervisor
        starts it again after a backoff; the same dispatcher, so its lanes keep their owner."""
        self.stop = stop
        if handle is not None:
            self.handle = handle
        self.handle.busy()  # a look for due lanes is due every `dispatch_idle_seconds`
        # The owner's lock, on a connection of its own while dispatching: the leases of this process count as
        # taken only while it runs (a killed process's lanes are free at once, not after the lease).
        async with self.store.owner_session(self.owner):
            await self._dispatch(stop)

    def _lane_ended(self, subscription_id: uuid.UUID, _task: asyncio.Task[None]) -> None:
        self.lanes.pop(subscription_id, None)

    async def _dispatch(self, stop: asyncio.Event) -> None:
        last_sweep = 0.0
        try:
            while not stop.is_set():
                due = await self.store.run(lanes.due_lanes, self.clock.now(), self.owner, 10_000)
                for subscription_id in due:
                    if subscription_id not in self.lanes:
                        lane = guarded(self.handle, self._lane(subscription_id), subscription_id=str(subscription_id))
                        task = asyncio.create_task(lane, name=f"lane-{subscription_id}")
                        self.lanes[subscription_id] = task
                        task.add_done_callback(functools.partial(self._lane_ended, subscription_id))
                if time.monotonic() - last_sweep >= _SWEEP_EVERY_SECONDS:
                    last_sweep = time.monotonic()
                    await release_overdue(self.store, self.clock.now())
                    await self._close_idle_clients()
                self.handle.progressed()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.dispatch_idle_seconds)
        finally:
            for task in list(self.lanes.values()):
                task.cancel()
            await asyncio.gather(*self.lanes.values(), return_exceptions=True)
            await asyncio.gather(*(client.aclose() for client, _ in self.clients.values()), return_exceptions=True)
            self.clients.clear()
            with contextlib.suppress(*DATABASE_UNAVAILABLE):
                await self.store.run(lanes.release_lanes, self.owner)

    def _client(self, subscription_id: uuid.UUID) -> httpx.AsyncClient:
        found = self.clients.get(subscription_id)
        client = found[0] if found else None
        if client is None:
            timeout = httpx.Timeout(
                self.settings.delivery_timeout_seconds, connect=self.settings.delivery_connect_timeout_seconds
            )
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=_IDLE_CLIENT_SECONDS)
            client = httpx.AsyncClient(
                follow_redirects=False,
                timeout=timeout,
                limits=limits,
                verify=self.tls,
                headers={"user-agent": USER_AGENT},
            )
        self.clients[subscription_id] = (client, time.monotonic())
        return client

    async def _close_idle_clients(self) -> None:
        idle = [
            s
            for s, (_, used) in self.clients.items()
            if s not in self.lanes and time.monotonic() - used > _IDLE_CLIENT_SECONDS
        ]
        for subscription_id in idle:
            client, _ = self.clients.pop(subscription_id)
            await client.aclose()

    async def _lane(self, subscription_id: uuid.UUID) -> None:
        """A lane's work until it runs out of due deliveries; its failure is the dispatcher's (`guarded`)."""
        while not self.stop.is_set() and await self._batch(subscription_id):
            pass

    async def _batch(self, subscription_id: uuid.UUID) -> bool:
        """Take the lane, plan, number and send its next deliveries; True when a full batch went out and
        more may be waiting. The lease stays with this process afterwards (its connection stays warm); it
        is free as soon as the process is gone (its owner's lock goes with it), and is handed back on shutdown."""
        settings = self.settings
        async with self.store.transaction() as conn:
            lane = await lanes.take_lane(conn, subscription_id, self.owner, settings.lane_lease_seconds)
            now = self.clock.now()
            if lane is None or not lane.breaker.allows_attempt(now):
                return False
            window = await lanes.pending_window(conn, subscription_id, max(4 * settings.delivery_batch_size, 200))
            planned = plan(window, now, settings.delivery_batch_size)
            if not planned:
                return False
            outgoing = await lanes.number_and_load(conn, subscription_id, planned)
        breaker = lane.breaker
        for item in outgoing:
            if self.stop.is_set():
                return False
            delivered, breaker = await self._send(lane, breaker, item)
            if not delivered:
                return False
        return len(planned) == settings.delivery_batch_size

    async def _send(self, lane: lanes.Lane, breaker: Breaker, item: lanes.Outgoing) -> tuple[bool, Breaker]:
        secrets = signing_secrets(lane.secret, lane.previous_secret, lane.previous_secret_until, self.clock.now())
        # The signature carries real time, not the service clock: receivers check it against theirs.
        message = signed(
            render(item.envelope, item.sequence, lane.content_mode), str(item.delivery_id), datetime.now(UTC), secrets
        )
        # While traces are on, the attempt is a span of the event's trace and the receiver gets its W3C context.
        with tracing.child_of_event(
            f"deliver {item.envelope.type}", item.envelope, SpanKind.CLIENT, _attempt_attributes(lane, item)
        ) as span:
            if span is not None:
                message = HTTPMessage(
                    headers={**message.headers, "traceparent": str(tracing.traceparent_of())}, body=message.body
                )
            async with self.slots:
                attempt = await post(
                    self._client(lane.subscription_id),
                    self.guard,
                    lane.endpoint_url,
                    message,
                    self.settings.delivery_timeout_seconds,
                )
            if span is not None:
                if attempt.status_code is not None:
                    span.set_attribute("http.response.status_code", attempt.status_code)
                if not attempt.delivered:
                    span.set_status(Status(StatusCode.ERROR, attempt.error))
        now = self.clock.now()
        decision = decide(attempt, item.round_attempts, breaker, now, self.retry, self.breaker_policy)
        state = await self.store.run(
            lanes.record_attempt,
            lane.subscription_id,
            self.owner,
            self.settings.lane_lease_seconds,
            item.delivery_id,
            attempt,
            decision,
            now,
        )
        metrics.attempted(decision.status)
        (log.debug if attempt.delivered else log.info)(
            "notifications.attempt",
            subscription_id=str(lane.subscription_id),
            delivery_id=str(item.delivery_id),
            sequence=item.sequence,
            status=decision.status.value,
            status_code=attempt.status_code,
            latency_ms=round(attempt.latency_ms, 1),
            error=attempt.error,
        )
        if decision.status is DeliveryStatus.DEAD:
            log.error(
                "notifications.dead_lettered",
                subscription_id=str(lane.subscription_id),
                delivery_id=str(item.delivery_id),
            )
        return decision.status is DeliveryStatus.DELIVERED and state == "active", decision.breaker


def _attempt_attributes(lane: lanes.Lane, item: lanes.Outgoing) -> dict[str, str | int]:
    return {
        "http.request.method": "POST",
        "server.address": urlsplit(lane.endpoint_url).hostname or "",
        "ruggengraat.subscription_id": str(lane.subscription_id),
        "ruggengraat.delivery_id": str(item.delivery_id),
        "ruggengraat.delivery_sequence": item.sequence,
    }


def delivery_dispatcher(runtime: Runtime) -> LoopBody:
    """The delivery dispatcher, a loop of the service's supervisor."""
    settings = runtime.settings
    assert isinstance(settings, NotificationsSettings)
    return functools.partial(Dispatcher(NotificationsStore(runtime.pool), runtime.clock, settings).run, runtime.stop)
