"""The register's SQL: practices with their physiotherapists, verwijzers, and the physiotherapist responsible for
an episode; and the parties of an episode's letters as reporting asks for them."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from shared.practice_register import LetterParties, PracticeEntry, ReferrerEntry


async def save_practice(conn: asyncpg.Connection, agb: str, entry: PracticeEntry, at: datetime, by: str) -> None:
    await conn.execute(
        "INSERT INTO register_practices (practice_agb, entry, updated_at, updated_by) VALUES ($1, $2::jsonb, $3, $4)"
        " ON CONFLICT (practice_agb) DO UPDATE SET entry = $2::jsonb, updated_at = $3, updated_by = $4",
        agb,
        entry.model_dump_json(),
        at,
        by,
    )


async def practice(conn: asyncpg.Connection, agb: str) -> PracticeEntry | None:
    raw = await conn.fetchval("SELECT entry::text FROM register_practices WHERE practice_agb = $1", agb)
    return PracticeEntry.model_validate_json(raw) if raw else None


async def save_referrer(conn: asyncpg.Connection, agb: str, entry: ReferrerEntry, at: datetime, by: str) -> None:
    await conn.execute(
        "INSERT INTO register_referrers (referrer_agb, entry, updated_at, updated_by) VALUES ($1, $2::jsonb, $3, $4)"
        " ON CONFLICT (referrer_agb) DO UPDATE SET entry = $2::jsonb, updated_at = $3, updated_by = $4",
        agb,
        entry.model_dump_json(),
        at,
        by,
    )


async def referrer(conn: asyncpg.Connection, agb: str) -> ReferrerEntry | None:
    raw = await conn.fetchval("SELECT entry::text FROM register_referrers WHERE referrer_agb = $1", agb)
    return ReferrerEntry.model_validate_json(raw) if raw else None


async def episode_parties(conn: asyncpg.Connection, episode_id: uuid.UUID) -> tuple[str, str | None] | None:
    """(practice AGB, verwijzer AGB) of the episode, or None when intake does not know it."""
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM patient_episodes WHERE episode_id = $1", episode_id
    )
    return (row["practice_agb"], row["referrer_agb"]) if row else None


async def assign_therapist(
    conn: asyncpg.Connection, episode_id: uuid.UUID, therapist_agb: str, at: datetime, by: str
) -> None:
    await conn.execute(
        "INSERT INTO episode_therapists (episode_id, therapist_agb, assigned_at, assigned_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (episode_id) DO UPDATE SET therapist_agb = $2, assigned_at = $3, assigned_by = $4",
        episode_id,
        therapist_agb,
        at,
        by,
    )


async def letter_parties(conn: asyncpg.Connection, episode_id: uuid.UUID) -> LetterParties | None:
    parties = await episode_parties(conn, episode_id)
    if parties is None:
        return None
    practice_agb, referrer_agb = parties
    entry = await practice(conn, practice_agb)
    therapist_agb = await conn.fetchval(
        "SELECT therapist_agb FROM episode_therapists WHERE episode_id = $1", episode_id
    )
    therapist = next((t for t in entry.physiotherapists if t.agb == therapist_agb), None) if entry else None
    return LetterParties(
        practice_agb=practice_agb,
        practice=entry,
        therapist_agb=therapist_agb,
        therapist=therapist,
        referrer_agb=referrer_agb,
        referrer=await referrer(conn, referrer_agb) if referrer_agb else None,
    )
