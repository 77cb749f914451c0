"""Reporting wiring: settings, projections, routes — the one place the service is built."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting.projections import BATCH_HANDLERS
from services.reporting.routes import episodes, letters, network
from services.reporting.settings import ReportingSettings
from shared.access_log import access_log_router
from shared.service import ServiceDefinition, create_service_app, serve


async def _episode_parties(conn, episode_id):
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM episode_overview WHERE episode_id = $1", episode_id
    )
    return (row["practice_agb"], row["referrer_agb"]) if row else None


def build(settings: ReportingSettings | None = None) -> tuple[FastAPI, ReportingSettings]:
    settings = settings or ReportingSettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat reporting",
        description="Reports to the GP and the regional network's view of quality per practice.",
        routers=[
            episodes.router,
            letters.router,
            network.router,
            network.page_router,
            access_log_router(_episode_parties),
        ],
        batch_handlers=BATCH_HANDLERS,
        migrations_package="services.reporting",
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
