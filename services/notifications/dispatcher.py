"""The background loop that sends due deliveries."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from services.notifications.deliveries import dispatch_once
from services.notifications.settings import NotificationsSettings
from shared.logging import get_logger
from shared.service import Runtime

log = get_logger(__name__)


async def run_dispatcher(runtime: Runtime) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotificationsSettings)
    async with httpx.AsyncClient(follow_redirects=False) as client:
        while not runtime.stop.is_set():
            try:
                sent = await dispatch_once(
                    runtime.pool,
                    client,
                    runtime.clock,
                    settings.delivery_batch_size,
                    settings.delivery_timeout_seconds,
                )
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                log.warning("notifications.dispatch_failed", error=repr(error))
                sent = 0
            if sent == 0:
                try:
                    await asyncio.wait_for(runtime.stop.wait(), settings.dispatch_idle_seconds)
                except TimeoutError:
                    pass
