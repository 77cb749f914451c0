"""Patient routes: erasure on the patient's request, the patient's access log, and retention."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel

from services.intake import key_store
from services.intake.handlers import handle_erasure
from services.intake.retention import RetentionDue, list_retention_due
from shared.access_log import Access, AccessLogEntry, Action, entries_for_episodes, log_access
from shared.auth import Caller, Role, allow, service_headers
from shared.http import correlation_id_of
from shared.logging import get_logger
from shared.service import RuntimeDep
from shared.store.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["patients"])
log = get_logger(__name__)

PracticeDep = Annotated[Caller, allow(Role.PRACTICE)]


class ErasureDone(BaseModel):
    patient_id: uuid.UUID
    erased_at: datetime
    episodes: list[uuid.UUID]


class PatientAccessLog(BaseModel):
    patient_id: uuid.UUID
    entries: list[AccessLogEntry]
    unreachable_services: list[str]


async def _own_patient(conn, caller: Caller, patient_id: uuid.UUID) -> None:
    practice = await conn.fetchval("SELECT practice_agb FROM patients WHERE patient_id = $1", patient_id)
    if practice is None or not caller.acts_for(Role.PRACTICE, practice):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"patient {patient_id} is not known")


@router.post("/patients/{patient_id}/erasure", operation_id="erase_patient_data", response_model=ErasureDone)
async def erase(patient_id: uuid.UUID, runtime: RuntimeDep, request: Request, caller: PracticeDep) -> ErasureDone:
    """Erase the patient's personal data on their request (WGBO art. 7:455): the key is destroyed."""
    async with runtime.pool.acquire() as conn:
        async with conn.transaction():
            await _own_patient(conn, caller, patient_id)
            uow = UnitOfWork(conn, runtime.store, runtime.clock, correlation_id=correlation_id_of(request))
            result = await handle_erasure(uow, patient_id, caller.user)
            for episode_id in result.episodes:
                await log_access(
                    conn,
                    caller,
                    Access("intake", Action.ERASE, "POST /v1/patients/{patient_id}/erasure", episode_id, patient_id),
                    runtime.clock.now(),
                )
        await key_store.compact(conn)  # the deleted key's dead row version leaves the table's files now
    return ErasureDone(patient_id=patient_id, erased_at=result.erased_at, episodes=result.episodes)


@router.get("/patients/{patient_id}/access-log", operation_id="get_patient_access_log", response_model=PatientAccessLog)
async def patient_access_log(patient_id: uuid.UUID, runtime: RuntimeDep, caller: PracticeDep) -> PatientAccessLog:
    """Who looked at this patient's record, through every service (NEN 7513)."""
    async with runtime.pool.acquire() as conn:
        await _own_patient(conn, caller, patient_id)
        episodes = [
            r["episode_id"]
            for r in await conn.fetch("SELECT episode_id FROM patient_episodes WHERE patient_id = $1", patient_id)
        ]
        entries = await entries_for_episodes(conn, episodes) if episodes else []
    unreachable: list[str] = []
    if episodes:
        headers = service_headers(runtime.settings.jwt_secret, "intake")

        async def from_peer(name: str, base: str) -> list[AccessLogEntry]:
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(
                        f"{base}/v1/access-log", params={"episode_id": [str(e) for e in episodes]}, headers=headers
                    )
                response.raise_for_status()
                return [AccessLogEntry(**e) for e in response.json()]
            except httpx.HTTPError as error:
                log.warning("access_log.peer_unreachable", peer=name, error=repr(error))
                unreachable.append(name)
                return []

        # PEER_URLS is one map for every service (compose, k8s, the launcher); intake's own entries were read above
        peers = [(n, url) for n, url in runtime.settings.peer_urls.items() if n != runtime.settings.service_name]
        for found in await asyncio.gather(*(from_peer(name, url) for name, url in peers)):
            entries.extend(found)
    entries.sort(key=lambda e: e.at)
    return PatientAccessLog(patient_id=patient_id, entries=entries, unreachable_services=sorted(unreachable))


@router.get("/retention/due", operation_id="list_retention_due", response_model=list[RetentionDue])
async def retention_due(
    runtime: RuntimeDep,
    caller: Annotated[Caller, allow(Role.OPERATOR)],
    # Nothing this system holds is older than 1900; earlier days reached before year 1 counting back (a 500).
    as_of: Annotated[date | None, Query(description="Defaults to today", ge=date(1900, 1, 1))] = None,
) -> list[RetentionDue]:
    """Records due for destruction: 20 years after the last treatment and not erased already."""
    return await list_retention_due(runtime.pool, as_of or runtime.clock.now().date())
