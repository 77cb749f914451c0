"""Intake wiring: settings, routes — the one place the service is built.

The layout: `domain/` decides (the episode, its commands, who may see what in `domain/access.py`, the register's
and retention's rules, idempotency), pure; `store/` holds every SQL statement; `handlers.py` loads, lets the domain
decide and writes; `routes/` translates HTTP through one dependency (`routes/dependency.py`); `keys/` wraps
patients' data keys and seals their data (no SQL); `key_rotation.py` is the KEK rotation's command."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.intake.routes import episode_commands, patients, referrals, register
from services.intake.settings import IntakeSettings
from services.intake.store import IntakeStore
from services.intake.store import patients as patients_store
from services.intake.store import register as register_store
from shared.access_log import access_log_router
from shared.service import ServiceDefinition, create_service_app, serve


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
            access_log_router(register_store.episode_parties),
        ],
        migrations_package="services.intake",
        body_limits={"/v1/referrals": referrals.REFERRAL_BODY_LIMIT},
    )
    app = create_service_app(definition)
    shared_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shared_lifespan(app):
            async with IntakeStore(app.state.runtime.pool).connection() as conn:
                await patients_store.settle(conn, settings.key_encryption())
            yield

    app.router.lifespan_context = lifespan
    return app, settings


def run() -> None:
    app, settings = build()
    serve(app, settings)
