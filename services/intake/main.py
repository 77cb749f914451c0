"""Intake wiring: settings, routes — the one place the service is built."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake.routes import referrals
from services.intake.settings import IntakeSettings
from shared.service import ServiceDefinition, create_service_app, serve


def build(settings: IntakeSettings | None = None) -> tuple[FastAPI, IntakeSettings]:
    settings = settings or IntakeSettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat intake",
        description="Referrals, history, examination, measurements and consent for low-back-pain episodes.",
        routers=[referrals.router],
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
