"""Notifications wiring: settings, handlers, the delivery loop, routes — the one place the service is built.

The layout: `domain/` the pure decisions (which subscriptions get an event, holds, a lane's order, what an
attempt means, retries, the breaker, signing), `store/` every SQL statement, `handlers.py` the consumed
batches and the hold sweep (load → decide → write), `delivery_loop/` the dispatcher and its HTTP sender,
`access.py` who may reach what, `routes/` HTTP through one dependency (`routes/dependencies.py`).
"""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications import metrics
from services.notifications.delivery_loop.dispatcher import delivery_dispatcher
from services.notifications.handlers import batch_handler_for
from services.notifications.routes import deliveries, escalations, operations, subscriptions
from services.notifications.settings import NotificationsSettings
from services.notifications.store import episodes
from shared.access_log import access_log_router
from shared.service import ServiceDefinition, create_service_app, serve


async def _episode_parties(conn, episode_id):
    parties = await episodes.parties_of(conn, str(episode_id))
    return (parties.practice_agb, parties.referrer_agb) if parties else None


def build(settings: NotificationsSettings | None = None) -> tuple[FastAPI, NotificationsSettings]:
    settings = settings or NotificationsSettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat notifications",
        description="GP and practice systems subscribe to episode events and receive signed CloudEvents.",
        routers=[
            subscriptions.router,
            deliveries.router,
            deliveries.operations,
            escalations.router,
            operations.router,
            operations.page_router,
            access_log_router(_episode_parties),
        ],
        handlers=[batch_handler_for(settings)],
        background=[delivery_dispatcher],
        migrations_package="services.notifications",
        metrics=[metrics.refresh],
    )
    return create_service_app(definition), settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
