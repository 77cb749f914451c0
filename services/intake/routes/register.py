"""Register routes: practices keep their own entry and physiotherapists, verwijzers theirs, a practice names the
physiotherapist responsible for an episode; reporting reads who writes an episode's letters and to whom. Who
keeps which entry: `domain.access`; the register's rules: `domain.register`; its SQL: `store.register`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from services.intake import handlers
from services.intake.domain import access
from services.intake.domain.register import NotInRegister
from services.intake.routes.dependency import IntakeDep
from shared.access import episode_not_found
from shared.auth import Caller, Role, allow
from shared.http import DomainRejected
from shared.practice_register import LetterParties, PracticeEntry, ReferrerEntry, TherapistAssignment

router = APIRouter(prefix="/v1", tags=["register"])
AgbPath = Annotated[str, Path(pattern=r"^\d{8}$", description="AGB code: 8 digits")]


def _own(caller: Caller, role: Role, agb: str) -> None:
    if access.may_keep_entry(caller, role, agb):
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"a {role.value} keeps only its own entry in the register")


@router.put("/practices/{practice_agb}", operation_id="register_practice", response_model=PracticeEntry)
async def put_practice(
    practice_agb: AgbPath,
    entry: PracticeEntry,
    intake: IntakeDep,
    caller: Annotated[Caller, allow(Role.PRACTICE, Role.OPERATOR)],
) -> PracticeEntry:
    """Register or update a practice: name, address, contact details and its physiotherapists (BIG, AGB)."""
    _own(caller, Role.PRACTICE, practice_agb)
    await handlers.save_practice(intake, practice_agb, entry, caller.user)
    return entry


@router.get("/practices/{practice_agb}", operation_id="get_practice", response_model=PracticeEntry)
async def get_practice(
    practice_agb: AgbPath, intake: IntakeDep, caller: Annotated[Caller, allow(Role.PRACTICE, Role.OPERATOR)]
) -> PracticeEntry:
    """A practice's entry in the register."""
    _own(caller, Role.PRACTICE, practice_agb)
    entry = await handlers.practice(intake, practice_agb)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"practice {practice_agb} is not in the register")
    return entry


@router.put("/referrers/{referrer_agb}", operation_id="register_referrer", response_model=ReferrerEntry)
async def put_referrer(
    referrer_agb: AgbPath,
    entry: ReferrerEntry,
    intake: IntakeDep,
    caller: Annotated[Caller, allow(Role.REFERRER, Role.OPERATOR)],
) -> ReferrerEntry:
    """Register or update a verwijzer: name, practice and address, as letters address them."""
    _own(caller, Role.REFERRER, referrer_agb)
    await handlers.save_referrer(intake, referrer_agb, entry, caller.user)
    return entry


@router.put("/episodes/{episode_id}/therapist", operation_id="assign_therapist", response_model=TherapistAssignment)
async def put_therapist(
    episode_id: uuid.UUID,
    assignment: TherapistAssignment,
    intake: IntakeDep,
    caller: Annotated[Caller, allow(Role.PRACTICE)],
) -> TherapistAssignment:
    """Name the physiotherapist responsible for the episode (who signs its letters); one of the practice's own."""
    route = "PUT /v1/episodes/{episode_id}/therapist"
    try:
        await handlers.assign_therapist(intake, caller, episode_id, assignment.therapist_agb, route)
    except access.NotFound as error:
        raise episode_not_found(episode_id) from error
    except NotInRegister as error:
        raise DomainRejected(error.reason, error.field) from error
    return assignment


@router.get("/episodes/{episode_id}/letter-parties", operation_id="get_letter_parties", response_model=LetterParties)
async def get_letter_parties(
    episode_id: uuid.UUID, intake: IntakeDep, caller: Annotated[Caller, allow(Role.SERVICE)]
) -> LetterParties:
    """For reporting, when it shows a letter: the practice, the responsible physiotherapist and the verwijzer,
    each as the register holds them (null when it does not)."""
    try:
        return await handlers.letter_parties(intake, episode_id)
    except access.NotFound as error:
        raise episode_not_found(episode_id) from error
