"""Intake wiring: settings, routes — the one place the service is built."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.intake import key_store
from services.intake.routes import episode_commands, patients, referrals, register
from services.intake.settings import IntakeSettings
from shared.access_log import access_log_router
from shared.service import ServiceDefinition, create_service_app, serve


async def _episode_parties(conn, episode_id):
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM patient_episodes WHERE episode_id = $1",
        episode_id,
    )
    return (row["practice_agb"], row["referrer_agb"]) if row else None


def build(settings: IntakeSettings | None = None) -> tuple[FastAPI, IntakeSettings]:
    settings = settings or IntakeSettings()
    definition = ServiceDefinition(
        settings=settings,
        title="Ruggengraat intake",
        description="Referrals, history, examination, measurements and consent for low-back-pain episodes.",
        routers=[
            referrals.router,
            episode_commands.router,
            patients.router,
            register.router,
            access_log_router(_episode_parties),
        ],
        migrations_package="services.intake",
        body_limits={"/v1/referrals": referrals.REFERRAL_BODY_LIMIT},
    )
    app = create_service_app(definition)
    shared_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shared_lifespan(app):
            async with app.state.runtime.pool.acquire() as conn:
                await key_store.settle(conn, settings.key_encryption())
            yield

    app.router.lifespan_context = lifespan
    return app, settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
