"""The one dependency every intake route takes besides its caller: `IntakeDep`, the handlers' context (the store,
the settings, the request's correlation id), built from the running service. Routes get their data and write it
only through the handlers they pass it to; who may do what is `domain.access`'s to decide."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from services.intake.handlers import Intake
from services.intake.settings import IntakeSettings
from services.intake.store import IntakeStore
from shared.http import correlation_id_of
from shared.service import RuntimeDep


async def intake(runtime: RuntimeDep, request: Request) -> Intake:  # async: a plain def would hop to a thread
    store = IntakeStore(runtime.pool, runtime.store, runtime.clock)
    return Intake(store, cast(IntakeSettings, runtime.settings), correlation_id_of(request))


IntakeDep = Annotated[Intake, Depends(intake)]
