"""What every service process is built from: pool, store, relay, consumer and HTTP, wired in one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import asyncpg
import faust
from aiokafka import AIOKafkaClient
from fastapi import APIRouter, Depends, FastAPI, Request
from opentelemetry import trace

from shared import tracing
from shared.clock import Clock
from shared.consumer import dead_letter_operations
from shared.consumer.faust_worker import attach_consumer, create_faust_app
from shared.consumer.idempotent import BatchHandler, IdempotentConsumer
from shared.db import DATABASE_UNAVAILABLE, DatabaseAddress, create_pool, open_service_database
from shared.events import REGISTRY
from shared.events.topics import TOPICS, dead_letter_topic, topic_produced_by, topics_consumed_by
from shared.http import (
    BodyLimitMiddleware,
    install_correlation,
    install_http_metrics,
    install_problem_handlers,
    operations_router,
)
from shared.logging import configure_logging, get_logger
from shared.metrics import DEAD_LETTER_OLDEST_SECONDS, DEAD_LETTERS_OPEN, PARKED_EPISODES, PARKED_EVENTS
from shared.openapi import install_openapi
from shared.settings import ServiceSettings
from shared.store.event_store import EventStore
from shared.store.migrate import Migration, event_store_migrations, migrations_in
from shared.store.relay import Relay, RelayConfig
from shared.supervisor import LoopBody, Supervisor
from shared.tracing import install_tracing, provider_from_environment

log = get_logger(__name__)

METRICS_QUERY_SECONDS = 2.0  # the longest a scrape waits for the database's gauges

# Builds, once, a loop that runs for the life of the service under its supervisor (shared/supervisor.py),
# which runs the body again after each failure; the loop is named after the builder.
BackgroundTask = Callable[["Runtime"], LoopBody]
# Sets gauges from the service's database (a connection, the service clock's now) when /metrics is scraped.
MetricsRefresh = Callable[[asyncpg.Connection, datetime], Awaitable[None]]


@dataclass
class Runtime:
    """The things a running service holds; routes reach it through the `RuntimeDep` dependency."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    store: EventStore
    clock: Clock
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    supervisor: Supervisor = field(init=False)
    relay: Relay | None = None
    faust_app: faust.App | None = None
    consumer: IdempotentConsumer | None = None
    consumer_ready: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Sequence[MetricsRefresh] = ()  # the service's own gauges read from its database at a scrape

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.stop, stall_seconds=self.settings.loop_stall_seconds)

    def database_address(self) -> DatabaseAddress:
        """Where the service's pool works (its own schema, named after the service): for a process beside the
        service that opens a connection of its own there."""
        return DatabaseAddress(self.settings.require_database_url(), self.settings.service_name)

    async def readiness(self) -> dict[str, bool]:
        """What must hold for the service to do its work: the database and the broker answer, the consumer
        joined its group, and no loop is failing (a loop restarting after an error is not ready)."""
        checks = {"postgres": await _postgres_answers(self.pool), "broker": await _broker_answers(self.settings)}
        if self.faust_app is not None:
            checks["consumer"] = self.consumer_ready.is_set()
        checks.update({f"loop:{name}": ready for name, ready in self.supervisor.ready().items()})
        return checks

    async def refresh_metrics(self) -> None:
        """Set the gauges read from the database (what waits for an operator) before /metrics answers; with
        the database away they keep their last values (`/ready` says why)."""
        if self.consumer is None and not self.metrics:
            return
        found = None
        try:
            async with asyncio.timeout(METRICS_QUERY_SECONDS):
                async with self.pool.acquire() as conn:
                    if self.consumer is not None:
                        found = await dead_letter_operations.waiting(conn, self.consumer.name)
                    for refresh in self.metrics:
                        await refresh(conn, self.clock.now())
        except DATABASE_UNAVAILABLE as error:  # a timed-out query too (TimeoutError is an OSError)
            log.info("metrics.database_unavailable", error=repr(error))
            return
        if self.consumer is None or found is None:
            return
        name = self.consumer.name
        DEAD_LETTERS_OPEN.labels(name).set(found.dead_letters_open)
        DEAD_LETTER_OLDEST_SECONDS.labels(name).set(found.oldest_open_seconds or 0.0)
        PARKED_EVENTS.labels(name).set(found.parked_events)
        PARKED_EPISODES.labels(name).set(found.parked_episodes)

    def liveness(self) -> dict[str, object]:
        """Stalled loops (work and no progress for `loop_stall_seconds`) make the process not live."""
        return {"stalled": self.supervisor.stalled(), "loops": self.supervisor.describe()}


async def _postgres_answers(pool: asyncpg.Pool) -> bool:
    try:
        async with asyncio.timeout(2):
            async with pool.acquire() as conn:
                answer: int | None = await conn.fetchval("SELECT 1")
                return answer == 1
    except Exception:  # noqa: BLE001 — any failure means "not ready"
        return False


async def _broker_answers(settings: ServiceSettings) -> bool:
    client = AIOKafkaClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=2000)
    try:
        async with asyncio.timeout(3):
            await client.bootstrap()
        return True
    except Exception:  # noqa: BLE001
        return False
    finally:
        await client.close()


async def get_runtime(request: Request) -> Runtime:  # async: a plain def would hop to a thread per request
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@dataclass
class ServiceDefinition:
    """What makes one service different from the others; everything else is shared wiring."""

    settings: ServiceSettings
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    handlers: Sequence[BatchHandler] = ()  # what the service's consumer does with the events it consumes
    background: Sequence[BackgroundTask] = ()
    migrations_package: str | None = None  # the service's own `migrations/` folder
    metrics: Sequence[MetricsRefresh] = ()  # sets the service's own gauges from its database at a scrape
    # Routes (path templates) that take more than shared.http.DEFAULT_BODY_LIMIT bytes of body.
    body_limits: Mapping[str, int] = field(default_factory=dict)

    def migrations(self) -> list[Migration]:
        own = migrations_in(self.migrations_package) if self.migrations_package else []
        return event_store_migrations() + own


def create_service_app(definition: ServiceDefinition) -> FastAPI:
    settings = definition.settings
    name = settings.service_name

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level)
        pool = await open_service_database(settings.require_database_url(), name, definition.migrations())
        runtime = Runtime(settings, pool, EventStore(name, REGISTRY), settings.clock(), metrics=definition.metrics)
        stop, supervisor = runtime.stop, runtime.supervisor
        app.state.runtime = runtime
        tasks: list[asyncio.Task[None]] = []
        produced = topic_produced_by(name)
        if produced is not None:
            # The relay's own connections: on the shared pool it queued behind the requests being served
            # (measured in intake with 24 clients: 45 ms to read a batch, 65 ms to record one).
            # Two: one holds the topic's lock (one relay per topic publishes), the other does the work.
            relay_pool = await create_pool(settings.require_database_url(), name, min_size=1, max_size=2)
            runtime.relay = Relay(
                relay_pool,
                runtime.store,
                settings.kafka_bootstrap_servers,
                RelayConfig(
                    topic=settings.topic(produced),
                    consumer_groups=[settings.group(c) for c in TOPICS[produced].consumers],
                    partitions=settings.kafka_topic_partitions,
                    batch_size=settings.relay_batch_size,
                    idle_sleep_seconds=settings.relay_idle_sleep_seconds,
                    reset_check_seconds=settings.relay_reset_check_seconds,
                ),
            )
            relay = runtime.relay
            supervisor.start("relay", lambda handle: relay.run(stop, handle), reset=relay.reset)
        if definition.handlers:
            runtime.faust_app = create_faust_app(settings)
            runtime.consumer = IdempotentConsumer(
                name,
                pool,
                runtime.store,
                REGISTRY,
                definition.handlers,
                runtime.clock,
                max_attempts=settings.consumer_max_attempts,
                handle=supervisor.track("consumer"),
            )
            attach_consumer(
                runtime.faust_app,
                runtime.consumer,
                [settings.topic(t) for t in topics_consumed_by(name)],
                settings.topic(dead_letter_topic(name)),
                settings.consumer_batch_wait_ms,
            )
            tasks.append(asyncio.create_task(_run_faust(runtime), name="faust"))
        for background in definition.background:
            supervisor.start(background.__name__, background(runtime), reset=pool.expire_connections)
        settle_garbage_collector()
        log.info("service.started", port=settings.http_port)
        try:
            yield
        finally:
            runtime.stop.set()
            if runtime.faust_app is not None:
                with contextlib.suppress(Exception):
                    await runtime.faust_app.stop()
            await supervisor.wait_stopped()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if runtime.relay is not None:
                await runtime.relay.close()
                await runtime.relay.pool.close()
            await pool.close()
            if tracer_provider is not None:
                tracing.disable()
                tracer_provider.shutdown()  # the spans still queued go out
            log.info("service.stopped")

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="1",
        lifespan=lifespan,
        docs_url=None,  # install_openapi serves the docs page without a CDN
        redoc_url=None,
    )
    app.state.jwt_secret = settings.jwt_secret
    tracer_provider = provider_from_environment(name)
    if tracer_provider is not None:  # OTEL_* says where traces go; off otherwise (shared/tracing.py)
        trace.set_tracer_provider(tracer_provider)
        tracing.enable(tracer_provider)
        install_tracing(app, tracer_provider)
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limits=definition.body_limits)
    install_http_metrics(app)
    install_correlation(app)  # the outermost: every answer names its correlation id, a 413 too
    install_openapi(app, definition.body_limits)
    app.include_router(operations_router())
    from shared.status_routes import status_router  # it builds on this module's RuntimeDep

    app.include_router(status_router())
    if definition.handlers:  # a consuming service's operators settle its dead letters
        from shared.dead_letter_routes import consumer_operations_router  # it builds on this module's RuntimeDep

        app.include_router(consumer_operations_router())
    for router in definition.routers:
        app.include_router(router)
    return app


# Collections of the youngest generation run once this many container objects more were made than freed
# (CPython's default: 700). A request or a consumed batch makes thousands, so at 700 the collector ran several
# times per request; most of what it found was still in use.
GC_YOUNG_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Leave what start-up made (modules, routes, models, pools) out of every later collection, and collect
    the youngest generation less often. Profiles put 3–9 % of each service's CPU in the collector."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


async def _run_faust(runtime: Runtime) -> None:
    """Start the faust app (it joins the group, which takes seconds on tansu) without holding up HTTP.

    faust retries an absent broker by itself; a faust app cannot be started twice, so a failure here is
    final for this process and shows as not ready.
    """
    assert runtime.faust_app is not None
    try:
        await runtime.faust_app.start()
    except Exception as error:
        log.error("consumer.start_failed", error=repr(error))
        raise
    runtime.consumer_ready.set()
    log.info("consumer.started")


def use_uvloop_everywhere() -> None:
    """Every event loop the process makes is uvloop's. uvicorn runs its own loop on uvloop, but a loop made
    elsewhere comes from the policy: faust runs its Kafka consumer on a loop of its own, in a thread (mode's
    ServiceThread calls asyncio.new_event_loop()), which was asyncio's pure-Python loop. Measured in four
    interleaved episode-flow pairs: 10.6 → 10.1, 10.5 → 10.3, 10.1 → 9.8, 9.9 → 9.9 ms of CPU per episode."""
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    import uvicorn

    use_uvloop_everywhere()

    # X-Forwarded-For is trusted only when a proxy in front is configured: the access log records the client.
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        log_config=None,  # uvicorn's lines go through the root logger: JSON like every other (shared.logging)
        lifespan="on",
        loop="uvloop",
        http="httptools",
        access_log=False,  # the NEN 7513 access log and structlog record what matters; uvicorn's line is noise
        proxy_headers=settings.trusted_proxies is not None,
        forwarded_allow_ips=settings.trusted_proxies,
    )
