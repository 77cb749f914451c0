"""The one dependency of reporting's routes: who calls (admitted by role, `access.READERS`,
`access.CORRECTORS`, `access.NETWORK_READERS`), with the store, the clock and intake (for a letter's personal data and
parties) the handlers need.

No `from __future__ import annotations` here: FastAPI reads the inner dependency's annotations, which name
the roles of its closure."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from services.reporting import access
from services.reporting.intake_client import IntakeClient
from services.reporting.store import ReportingStore
from shared.auth import Caller, Role, allow
from shared.clock import Clock
from shared.service import RuntimeDep


@dataclass(frozen=True)
class Reporting:
    caller: Caller
    store: ReportingStore
    clock: Clock
    intake: IntakeClient


def _reporting(*roles: Role) -> Any:
    async def reporting(runtime: RuntimeDep, caller: Annotated[Caller, allow(*roles)]) -> Reporting:
        return Reporting(
            caller,
            ReportingStore(runtime.pool, runtime.store),
            runtime.clock,
            IntakeClient.from_settings(runtime.settings),
        )

    return Depends(reporting)


ReaderDep = Annotated[Reporting, _reporting(*access.READERS)]
CorrectorDep = Annotated[Reporting, _reporting(*access.CORRECTORS)]
NetworkReaderDep = Annotated[Reporting, _reporting(*access.NETWORK_READERS)]
