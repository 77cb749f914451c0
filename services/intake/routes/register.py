"""Register routes: practices keep their own entry and physiotherapists, verwijzers theirs, a practice names the
physiotherapist responsible for an episode; reporting reads who writes an episode's letters and to whom."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from services.intake import practice_register as register
from services.intake.domain.register import NotInRegister, check_assignment
from shared.access import episode_not_found
from shared.access_log import Access, Action, log_access
from shared.auth import Caller, Role, allow
from shared.http import DomainRejected
from shared.practice_register import LetterParties, PracticeEntry, ReferrerEntry, TherapistAssignment
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1", tags=["register"])
AgbPath = Annotated[str, Path(pattern=r"^\d{8}$", description="AGB code: 8 digits")]


def _own(caller: Caller, role: Role, agb: str) -> None:
    if caller.role is Role.OPERATOR or caller.acts_for(role, agb):
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"a {role.value} keeps only its own entry in the register")


@router.put("/practices/{practice_agb}", operation_id="register_practice", response_model=PracticeEntry)
async def put_practice(
    practice_agb: AgbPath,
    entry: PracticeEntry,
    runtime: RuntimeDep,
    caller: Annotated[Caller, allow(Role.PRACTICE, Role.OPERATOR)],
) -> PracticeEntry:
    """Register or update a practice: name, address, contact details and its physiotherapists (BIG, AGB)."""
    _own(caller, Role.PRACTICE, practice_agb)
    async with runtime.pool.acquire() as conn:
        await register.save_practice(conn, practice_agb, entry, runtime.clock.now(), caller.user)
    return entry


@router.get("/practices/{practice_agb}", operation_id="get_practice", response_model=PracticeEntry)
async def get_practice(
    practice_agb: AgbPath, runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.PRACTICE, Role.OPERATOR)]
) -> PracticeEntry:
    """A practice's entry in the register."""
    _own(caller, Role.PRACTICE, practice_agb)
    async with runtime.pool.acquire() as conn:
        entry = await register.practice(conn, practice_agb)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"practice {practice_agb} is not in the register")
    return entry


@router.put("/referrers/{referrer_agb}", operation_id="register_referrer", response_model=ReferrerEntry)
async def put_referrer(
    referrer_agb: AgbPath,
    entry: ReferrerEntry,
    runtime: RuntimeDep,
    caller: Annotated[Caller, allow(Role.REFERRER, Role.OPERATOR)],
) -> ReferrerEntry:
    """Register or update a verwijzer: name, practice and address, as letters address them."""
    _own(caller, Role.REFERRER, referrer_agb)
    async with runtime.pool.acquire() as conn:
        await register.save_referrer(conn, referrer_agb, entry, runtime.clock.now(), caller.user)
    return entry


@router.put("/episodes/{episode_id}/therapist", operation_id="assign_therapist", response_model=TherapistAssignment)
async def put_therapist(
    episode_id: uuid.UUID,
    assignment: TherapistAssignment,
    runtime: RuntimeDep,
    caller: Annotated[Caller, allow(Role.PRACTICE)],
) -> TherapistAssignment:
    """Name the physiotherapist responsible for the episode (who signs its letters); one of the practice's own."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        parties = await register.episode_parties(conn, episode_id)
        if parties is None or not caller.acts_for(Role.PRACTICE, parties[0]):
            raise episode_not_found(episode_id)
        try:
            check_assignment(parties[0], await register.practice(conn, parties[0]), assignment.therapist_agb)
        except NotInRegister as error:
            raise DomainRejected(error.reason, error.field) from error
        now = runtime.clock.now()
        await register.assign_therapist(conn, episode_id, assignment.therapist_agb, now, caller.user)
        await log_access(
            conn, caller, Access("intake", Action.UPDATE, "PUT /v1/episodes/{episode_id}/therapist", episode_id), now
        )
    return assignment


@router.get("/episodes/{episode_id}/letter-parties", operation_id="get_letter_parties", response_model=LetterParties)
async def get_letter_parties(
    episode_id: uuid.UUID, runtime: RuntimeDep, caller: Annotated[Caller, allow(Role.SERVICE)]
) -> LetterParties:
    """For reporting, when it shows a letter: the practice, the responsible physiotherapist and the verwijzer,
    each as the register holds them (null when it does not)."""
    async with runtime.pool.acquire() as conn:
        parties = await register.letter_parties(conn, episode_id)
    if parties is None:
        raise episode_not_found(episode_id)
    return parties
