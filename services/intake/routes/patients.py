"""Patient routes: erasure on the patient's request, the patient's access log, and retention — HTTP to the
handlers and back; only the patient's own practice reaches the first two (`domain.access.owns_patient`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from services.intake import handlers
from services.intake.domain.access import NotFound
from services.intake.handlers import RetentionDue
from services.intake.routes.dependency import IntakeDep
from shared.access_log import AccessLogEntry
from shared.auth import Caller, Role, allow

router = APIRouter(prefix="/v1", tags=["patients"])

PracticeDep = Annotated[Caller, allow(Role.PRACTICE)]


class ErasureDone(BaseModel):
    patient_id: uuid.UUID
    erased_at: datetime
    episodes: list[uuid.UUID]


class PatientAccessLog(BaseModel):
    patient_id: uuid.UUID
    entries: list[AccessLogEntry]
    unreachable_services: list[str]


def _unknown(patient_id: uuid.UUID) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"patient {patient_id} is not known")


@router.post("/patients/{patient_id}/erasure", operation_id="erase_patient_data", response_model=ErasureDone)
async def erase(patient_id: uuid.UUID, intake: IntakeDep, caller: PracticeDep) -> ErasureDone:
    """Erase the patient's personal data on their request (WGBO art. 7:455): the key is destroyed."""
    try:
        result = await handlers.erase_patient(intake, caller, patient_id, "POST /v1/patients/{patient_id}/erasure")
    except NotFound as error:
        raise _unknown(patient_id) from error
    return ErasureDone(patient_id=patient_id, erased_at=result.erased_at, episodes=result.episodes)


@router.get("/patients/{patient_id}/access-log", operation_id="get_patient_access_log", response_model=PatientAccessLog)
async def patient_access_log(patient_id: uuid.UUID, intake: IntakeDep, caller: PracticeDep) -> PatientAccessLog:
    """Who looked at this patient's record, through every service (NEN 7513)."""
    try:
        entries, unreachable = await handlers.patient_access_log(intake, caller, patient_id)
    except NotFound as error:
        raise _unknown(patient_id) from error
    return PatientAccessLog(patient_id=patient_id, entries=entries, unreachable_services=unreachable)


@router.get("/retention/due", operation_id="list_retention_due", response_model=list[RetentionDue])
async def retention_due(
    intake: IntakeDep,
    caller: Annotated[Caller, allow(Role.OPERATOR)],
    # Nothing this system holds is older than 1900; earlier days reached before year 1 counting back (a 500).
    as_of: Annotated[date | None, Query(description="Defaults to today", ge=date(1900, 1, 1))] = None,
) -> list[RetentionDue]:
    """Records due for destruction: 20 years after the last treatment and not erased already."""
    return await handlers.retention_due(intake, as_of)
