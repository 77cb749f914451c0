"""`/v1/operations/status`: one service process as its operators need to see it (the operator's page shows it
for every service): ready and live with their checks, each supervised loop, the relay's lag, and the consumer's
lag on this worker's partitions, its open dead letters and the episodes parked behind them. Operator role.

The lags are the process's own gauges (what /metrics shows); the dead letters are read from the database, and
are null while it is away (`ready` says why)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.auth import Caller, Role, allow
from shared.consumer.dead_letter_operations import waiting
from shared.db import DATABASE_UNAVAILABLE
from shared.metrics import CONSUMER_LAG, RELAY_LAG
from shared.service import METRICS_QUERY_SECONDS, Runtime, RuntimeDep

Operator = Annotated[Caller, allow(Role.OPERATOR)]


class LoopState(BaseModel):
    name: str
    ready: bool = Field(description="Running without a failure since its last piece of work")
    stalled: bool = Field(description="Has work and made no progress for LOOP_STALL_SECONDS")
    has_work: bool
    seconds_since_progress: float
    restarts: int = Field(description="Restarts after an unexpected error since the process started")
    last_error: str | None


class ConsumerState(BaseModel):
    name: str
    lag: int | None = Field(description="Records on the broker this worker has not consumed (None: none read yet)")
    dead_letters_open: int | None = Field(description="None while the database is away")
    oldest_open_seconds: float | None = Field(description="Age of the oldest open dead letter (None: none)")
    parked_episodes: int | None
    parked_events: int | None


class ServiceStatus(BaseModel):
    service: str
    ready: bool
    live: bool
    checks: dict[str, bool] = Field(description="What /ready checks, each true or false")
    loops: list[LoopState]
    relay_topic: str | None = Field(description="The topic this service publishes its events to (None: none)")
    relay_lag: int | None = Field(description="Events stored and not yet published (None: not measured yet)")
    consumer: ConsumerState | None


def _relay_lag(topic: str) -> int | None:
    samples = [s for metric in RELAY_LAG.collect() for s in metric.samples if s.labels.get("topic") == topic]
    return int(samples[0].value) if samples else None


def _consumer_lag(consumer: str) -> int | None:
    samples = [s for metric in CONSUMER_LAG.collect() for s in metric.samples if s.labels.get("consumer") == consumer]
    return int(sum(s.value for s in samples)) if samples else None


async def _consumer_state(runtime: Runtime) -> ConsumerState | None:
    if runtime.consumer is None:
        return None
    name = runtime.consumer.name
    found = None
    try:
        async with asyncio.timeout(METRICS_QUERY_SECONDS), runtime.pool.acquire() as conn:
            found = await waiting(conn, name)
    except DATABASE_UNAVAILABLE:  # a timed-out query too; /ready says the database is away
        pass
    return ConsumerState(
        name=name,
        lag=_consumer_lag(name),
        dead_letters_open=found.dead_letters_open if found else None,
        oldest_open_seconds=found.oldest_open_seconds if found else None,
        parked_episodes=found.parked_episodes if found else None,
        parked_events=found.parked_events if found else None,
    )


async def service_status(runtime: Runtime) -> ServiceStatus:
    """This service process now: ready and live, each loop, the relay's and the consumer's lag, and what waits
    for an operator in its consumer."""
    checks = await runtime.readiness()
    liveness = runtime.liveness()
    loops = liveness["loops"]
    assert isinstance(loops, dict)
    topic = runtime.relay.config.topic if runtime.relay is not None else None
    return ServiceStatus(
        service=runtime.settings.service_name,
        ready=all(checks.values()),
        live=not liveness["stalled"],
        checks=checks,
        loops=[LoopState(name=name, **state) for name, state in sorted(loops.items())],
        relay_topic=topic,
        relay_lag=_relay_lag(topic) if topic else None,
        consumer=await _consumer_state(runtime),
    )


def status_router() -> APIRouter:
    router = APIRouter(prefix="/v1/operations", tags=["operations"])

    @router.get("/status", operation_id="get_service_status", response_model=ServiceStatus)
    async def get_status(runtime: RuntimeDep, caller: Operator) -> ServiceStatus:
        """This service process now: ready and live, each loop, the relay's and the consumer's lag, and what
        waits for an operator in its consumer."""
        return await service_status(runtime)

    return router


class PracticeAttention(BaseModel):
    """The pathway's counts per practice, as `GET /v1/operations/practices` of the pathway answers them and the
    operator's page (in notifications) reads them."""

    practice_agb: str
    open_escalations: int = Field(description="Episodes not closed with an escalation to the verwijzer")
    overdue_evaluations: int = Field(description="Evaluations gone overdue and not recorded since")
