"""Intake command handlers: load the episode, seal personal data, let the domain decide, append."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.intake import personal_data
from services.intake.domain.episode import (
    Episode,
    NotAllowed,
    ReceiveReferral,
    episode_id_for,
    erase_personal_data,
    receive_referral,
)
from shared.events.payload import EventPayload
from shared.events.sealed import Sealed
from shared.store.event_store import ConcurrencyConflict
from shared.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ReferralResult:
    episode_id: uuid.UUID
    patient_id: uuid.UUID
    version: int
    created: bool


@dataclass(frozen=True)
class ErasureResult:
    patient_id: uuid.UUID
    erased_at: datetime
    episodes: list[uuid.UUID]


async def load_episode(uow: UnitOfWork, episode_id: uuid.UUID) -> Episode:
    events = await uow.store.read_stream(uow.conn, str(episode_id))
    return Episode.rebuild(episode_id, (e.payload(uow.store.registry) for e in events))


async def handle_receive_referral(command: ReceiveReferral, uow: UnitOfWork, pseudonym_secret: str) -> ReferralResult:
    episode_id = episode_id_for(command.practice_agb, command.referral_id)
    patient_id = personal_data.patient_pseudonym(pseudonym_secret, command.practice_agb, command.patient.bsn)
    episode = await load_episode(uow, episode_id)
    key = await personal_data.enrol(
        uow.conn, patient_id, episode_id, command.practice_agb, command.referrer_agb, uow.clock.now()
    )
    sealed = personal_data.seal(key, patient_id, command.personal(), context=str(episode_id))
    new_events = receive_referral(episode, command, patient_id, sealed)
    await uow.append(str(episode_id), episode.version, new_events)
    return ReferralResult(episode_id, patient_id, episode.version + len(new_events), created=bool(new_events))


async def personal_view(uow: UnitOfWork, episode: Episode) -> dict[str, Any] | None:
    """The episode's personal data opened with the patient's key, or None once it was erased."""
    assert episode.referral is not None
    key = await personal_data.key_of(uow.conn, episode.referral.patient_id)
    if key is None:
        return None
    return personal_data.open_sealed(key, episode.referral.personal, context=str(episode.id))


async def goals_view(uow: UnitOfWork, episode: Episode) -> str | None:
    """The individual goals agreed in the plan, opened with the patient's key; None when none or erased."""
    assert episode.referral is not None
    if episode.plan is None or episode.plan.goals is None:
        return None
    key = await personal_data.key_of(uow.conn, episode.referral.patient_id)
    if key is None:
        return None
    return personal_data.open_sealed(key, episode.plan.goals, context=str(episode.id)).get("goals")


async def handle_erasure(uow: UnitOfWork, patient_id: uuid.UUID, erased_by: str) -> ErasureResult:
    """Destroy the patient's key and tell every service, per episode, to drop what it derived."""
    now = uow.clock.now()
    row = await uow.conn.fetchrow(
        "UPDATE patients SET data_key = NULL, erased_at = coalesce(erased_at, $2), erased_by = coalesce(erased_by, $3)"
        " WHERE patient_id = $1 RETURNING erased_at",
        patient_id,
        now,
        erased_by,
    )
    if row is None:
        raise LookupError(str(patient_id))
    episodes = [
        r["episode_id"]
        for r in await uow.conn.fetch(
            "SELECT episode_id FROM patient_episodes WHERE patient_id = $1 ORDER BY episode_id", patient_id
        )
    ]
    for episode_id in episodes:
        episode = await load_episode(uow, episode_id)
        await uow.append(str(episode_id), episode.version, erase_personal_data(episode, patient_id, row["erased_at"]))
    return ErasureResult(patient_id, row["erased_at"], episodes)


Decide = Callable[[Episode, "Sealer"], list[EventPayload]]


class Sealer:
    """Seals the free text of one episode with its patient's key; refuses once the key was destroyed."""

    def __init__(self, key: bytes | None, patient_id: uuid.UUID, episode_id: uuid.UUID) -> None:
        self._key, self._patient_id, self._episode_id = key, patient_id, episode_id

    def __call__(self, field: str, text: str | None, **more: str | None) -> Sealed | None:
        values = {field: text, **more}
        if not any(v and v.strip() for v in values.values()):
            return None
        if self._key is None:
            raise NotAllowed(field, "the patient's personal data was erased; no new free text can be kept")
        return personal_data.seal(self._key, self._patient_id, values, context=str(self._episode_id))


@dataclass(frozen=True)
class CommandResult:
    episode_id: uuid.UUID
    version: int
    appended: list[str]


@dataclass(frozen=True)
class EpisodeOwner:
    practice_agb: str
    patient_id: uuid.UUID
    data_key: bytes | None  # None once the patient's data was erased


async def open_for_command(uow: UnitOfWork, episode_id: uuid.UUID) -> EpisodeOwner | None:
    """The episode's practice, patient and key, in one statement that also marks the patient as treated now
    (what retention counts from; a rejected command rolls it back). None for an unknown episode."""
    row = await uow.conn.fetchrow(
        "UPDATE patients p SET last_treatment_at = greatest(p.last_treatment_at, $2)"
        " FROM patient_episodes e WHERE e.episode_id = $1 AND p.patient_id = e.patient_id"
        " RETURNING e.practice_agb, e.patient_id, p.data_key",
        episode_id,
        uow.clock.now(),
    )
    if row is None:
        return None
    key = row["data_key"]
    return EpisodeOwner(row["practice_agb"], row["patient_id"], bytes(key) if key is not None else None)


async def handle_episode_command(
    uow: UnitOfWork, owner: EpisodeOwner, episode_id: uuid.UUID, expected_version: int | None, decide: Decide
) -> CommandResult:
    """Load, check the expected version, let the domain decide, append: one transaction, the caller's."""
    episode = await load_episode(uow, episode_id)
    if expected_version is not None and expected_version != episode.version:
        raise ConcurrencyConflict(str(episode_id), expected_version, episode.version)
    new_events = decide(episode, Sealer(owner.data_key, owner.patient_id, episode_id))
    await uow.append(str(episode_id), episode.version, new_events)
    return CommandResult(episode_id, episode.version + len(new_events), [e.event_type for e in new_events])
