"""Reporting wiring: settings, batch handlers, routes — the one place the service is built.

The layout: `domain/` decides (pure), `store/` holds every SQL statement, `handlers` load → decide → write,
`routes/` translate HTTP through one dependency (`routes.dependencies`, access decided in `access`),
`documents/` render letters, the visitation report and the dashboard page, `intake_client` asks intake for
what a letter shows and reporting never stores."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting.handlers import BATCH_HANDLERS
from services.reporting.routes import episodes, letters, network
from services.reporting.settings import ReportingSettings
from services.reporting.store.overview import episode_parties
from shared.access_log import access_log_router
from shared.service import ServiceDefinition, create_service_app, serve


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
            access_log_router(episode_parties),
        ],
        handlers=BATCH_HANDLERS,
        migrations_package="services.reporting",
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
