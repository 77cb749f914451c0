"""Pathway wiring: settings, handlers, routes — the one place the service is built."""

from __future__ import annotations

from fastapi import FastAPI

from services.pathway.handlers import HANDLERS
from services.pathway.routes import episodes, guideline
from services.pathway.settings import PathwaySettings
from shared.service import ServiceDefinition, create_service_app, serve


def build(settings: PathwaySettings | None = None) -> tuple[FastAPI, PathwaySettings]:
    settings = settings or PathwaySettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat pathway",
        description="Applies the KNGF low-back-pain guideline to each episode and plans its evaluations.",
        routers=[episodes.router, guideline.router],
        handlers=HANDLERS,
        migrations_package="services.pathway",
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
