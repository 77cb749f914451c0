"""Reporting wiring: settings, projections, routes — the one place the service is built."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting.projections import HANDLERS
from services.reporting.routes import episodes
from services.reporting.settings import ReportingSettings
from shared.service import ServiceDefinition, create_service_app, serve


def build(settings: ReportingSettings | None = None) -> tuple[FastAPI, ReportingSettings]:
    settings = settings or ReportingSettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat reporting",
        description="Reports to the GP and the regional network's view of quality per practice.",
        routers=[episodes.router],
        handlers=HANDLERS,
        migrations_package="services.reporting",
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
