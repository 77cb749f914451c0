"""Pathway wiring: settings, handlers, routes — the one place the service is built."""

from __future__ import annotations

import functools

from fastapi import APIRouter, FastAPI

from services.pathway import access
from services.pathway.handlers import INTAKE_EVENTS
from services.pathway.projection import EpisodeView
from services.pathway.routes import episodes, escalations, guideline, operations, protocols
from services.pathway.scheduler import refresh_metrics, timer_scheduler
from services.pathway.settings import PathwaySettings
from services.pathway.store import episodes as episode_tables
from shared.access_log import access_log_router
from shared.auth import allow
from shared.service import Runtime, ServiceDefinition, create_service_app, serve
from shared.store.projection import ProjectionRunner
from shared.supervisor import LoopBody

# Decision support holds no patient identity; practices and verwijzers use it, nobody anonymous.
guarded_guideline = APIRouter(dependencies=[allow(*access.READERS)])
guarded_guideline.include_router(guideline.router)


async def _episode_parties(conn, episode_id):
    return await episode_tables.parties_of(conn, str(episode_id))


def episode_view(runtime: Runtime) -> LoopBody:
    """The episode view's projection runner, a loop of the service's supervisor."""
    return functools.partial(ProjectionRunner(runtime.pool, runtime.store, EpisodeView()).run, runtime.stop)


def build(settings: PathwaySettings | None = None) -> tuple[FastAPI, PathwaySettings]:
    settings = settings or PathwaySettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat pathway",
        description="Applies the KNGF low-back-pain guideline to each episode and plans its evaluations.",
        routers=[
            episodes.router,
            escalations.router,
            operations.router,
            protocols.router,
            protocols.page_router,
            guarded_guideline,
            access_log_router(_episode_parties),
        ],
        handlers=[INTAKE_EVENTS],
        background=[timer_scheduler, episode_view],
        migrations_package="services.pathway",
        metrics=[refresh_metrics],
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
