"""Intake command handlers: load the episode, let the domain decide, append what it decided."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.intake.domain.episode import Episode, ReceiveReferral, episode_id_for, receive_referral
from shared.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ReferralResult:
    episode_id: uuid.UUID
    version: int
    created: bool


async def load_episode(uow: UnitOfWork, episode_id: uuid.UUID) -> Episode:
    events = await uow.store.read_stream(uow.conn, str(episode_id))
    return Episode.rebuild(episode_id, (e.payload(uow.store.registry) for e in events))


async def handle_receive_referral(command: ReceiveReferral, uow: UnitOfWork) -> ReferralResult:
    episode_id = episode_id_for(command.practice_agb, command.referral_id)
    episode = await load_episode(uow, episode_id)
    new_events = receive_referral(episode, command)
    await uow.append(str(episode_id), episode.version, new_events)
    return ReferralResult(episode_id, episode.version + len(new_events), created=bool(new_events))
