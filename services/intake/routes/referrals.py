"""Referral routes: translate HTTP to intake commands and back."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel

from services.intake.domain.episode import ReceiveReferral, ReferralMismatch
from services.intake.handlers import ReferralResult, handle_receive_referral, load_episode
from shared.access import episode_not_found, require_episode_access
from shared.auth import Caller, Role, allow
from shared.http import DomainRejected, correlation_id_of
from shared.service import RuntimeDep
from shared.store.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["referrals"])

REFERRAL_EXAMPLE = {
    "referral_id": "HIS-2026-000123",
    "route": "gp_referral",
    "practice_agb": "04123456",
    "referrer_agb": "01234567",
    "referred_on": "2026-11-20",
    "symptom_onset": "2026-11-02",
}


class EpisodeCreated(BaseModel):
    episode_id: uuid.UUID
    version: int


class EpisodeView(BaseModel):
    episode_id: uuid.UUID
    version: int
    route: str
    practice_agb: str
    referrer_agb: str | None
    referred_on: str


@router.post(
    "/referrals",
    operation_id="receive_referral",
    status_code=status.HTTP_201_CREATED,
    response_model=EpisodeCreated,
    responses={200: {"description": "The same referral was received before; nothing changed"}},
    openapi_extra={"requestBody": {"content": {"application/json": {"example": REFERRAL_EXAMPLE}}}},
)
async def post_referral(
    command: ReceiveReferral,
    runtime: RuntimeDep,
    request: Request,
    response: Response,
    caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)],
) -> EpisodeCreated:
    """Receive a referral (verwijzing) or direct-access registration and open the episode."""
    if not (
        caller.acts_for(Role.PRACTICE, command.practice_agb) or caller.acts_for(Role.REFERRER, command.referrer_agb)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a practice registers for itself; a verwijzer refers under its own AGB code"
        )
    async with runtime.pool.acquire() as conn, conn.transaction():
        try:
            result: ReferralResult = await handle_receive_referral(
                command,
                UnitOfWork(conn, runtime.store, runtime.clock, correlation_id=correlation_id_of(request)),
            )
        except ReferralMismatch as error:
            field, _, reason = str(error).partition(": ")
            raise DomainRejected(reason, field) from error
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return EpisodeCreated(episode_id=result.episode_id, version=result.version)


@router.get("/episodes/{episode_id}", operation_id="get_intake_episode", response_model=EpisodeView)
async def get_episode(
    episode_id: uuid.UUID, runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.PRACTICE, Role.REFERRER)]
) -> EpisodeView:
    """The episode as intake recorded it."""
    async with runtime.pool.acquire() as conn:
        episode = await load_episode(UnitOfWork(conn, runtime.store, runtime.clock), episode_id)
    if episode.referral is None:
        raise episode_not_found(episode_id)
    require_episode_access(caller, episode_id, episode.referral.practice_agb, episode.referral.referrer_agb)
    return EpisodeView(
        episode_id=episode.id,
        version=episode.version,
        route=episode.referral.route,
        practice_agb=episode.referral.practice_agb,
        referrer_agb=episode.referral.referrer_agb,
        referred_on=episode.referral.referred_on.isoformat(),
    )
