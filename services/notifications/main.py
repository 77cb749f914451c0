"""Notifications wiring: settings, handlers, dispatcher, routes — the one place the service is built."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications.dispatcher import run_dispatcher
from services.notifications.handlers import HANDLERS
from services.notifications.routes import subscriptions
from services.notifications.settings import NotificationsSettings
from shared.service import ServiceDefinition, create_service_app, serve


def build(settings: NotificationsSettings | None = None) -> tuple[FastAPI, NotificationsSettings]:
    settings = settings or NotificationsSettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat notifications",
        description="GP and practice systems subscribe to episode events and receive signed CloudEvents.",
        routers=[subscriptions.router],
        handlers=HANDLERS,
        background=[run_dispatcher],
        migrations_package="services.notifications",
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
