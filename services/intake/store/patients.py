"""The patients' tables: `patients` (the pseudonym, the practice, the last treatment retention counts from, the
erasure), `patient_episodes` (which episodes are whose, and who may see them) and `patient_keys`, the patients'
data keys at rest: written once and wrapped, found by BSN lookup, deleted and compacted away on erasure,
re-wrapped on a KEK rotation. Every statement on them is here; the one-round-trip statements of a referral and
of an episode command (`store.episodes`) take theirs from here too.

Why the keys have a table of their own: every command on an episode rewrites the patient's row in `patients` (its
last treatment, which retention counts from); a key in that row left a copy in every dead row version, in the
table's file and in the WAL (eight copies of one key in the audit of issue 22). Here a key's row is inserted
once and never updated by ordinary commands, and erasure deletes it and rewrites the table at once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.intake.keys.encryption import KeyEncryption, WrappedKey
from shared.logging import get_logger

log = get_logger(__name__)

# The patient a referral is for, creating them on first sight, with their wrapped key and the episode linked to
# them: CTEs `known` (patient_id, kek_id, wrapped_key of the patient), `patient` and `episode`, with the
# parameters $1 to $8 that `enrol_parameters` gives. A referral's statement runs them along with what else it
# needs (from `known`); a referral that is then refused rolls it all back.
#
# The patient's pseudonym is random, not derived from the BSN: the only link from a BSN to a patient is the
# `lookup` on the key's row, which erasure deletes with the key. After that the same BSN enrols a new patient
# with a fresh pseudonym and key, exactly as a first referral does: intake keeps of the erased patient only what
# honours the erasure for the practice (the random pseudonym, when and by whom it was erased, the episodes and
# who may see them, and the access log NEN 7513 asks for), and nothing that a BSN leads to.
#
# `known` is empty only when another referral enrolled the same BSN after this statement's snapshot was taken
# (its insert then conflicts and the select does not see the row yet): every write here hangs off `known`, so
# nothing was written, and the referral runs the statement again. The select counts only when nothing was
# inserted: an erasure that deleted the key after the snapshot leaves the old row visible to it, while the
# insert (which waited for the erasure to commit) found no conflict and enrolled a new patient.
ENROL = (
    "fresh AS ("
    " INSERT INTO patient_keys (lookup, patient_id, kek_id, wrapped_key, created_at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (lookup) DO NOTHING RETURNING patient_id, kek_id, wrapped_key),"
    " known AS (SELECT patient_id, kek_id, wrapped_key FROM fresh UNION ALL"
    " SELECT patient_id, kek_id, wrapped_key FROM patient_keys WHERE lookup = $1 AND NOT EXISTS (SELECT FROM fresh)),"
    " patient AS ("
    " INSERT INTO patients (patient_id, practice_agb, created_at, last_treatment_at) SELECT patient_id, $6, $5, $5"
    " FROM known ON CONFLICT (patient_id) DO UPDATE"
    " SET last_treatment_at = greatest(patients.last_treatment_at, excluded.last_treatment_at)),"
    " episode AS (INSERT INTO patient_episodes (episode_id, patient_id, practice_agb, referrer_agb)"
    " SELECT $7, patient_id, $6, $8 FROM known ON CONFLICT DO NOTHING)"
)
ENROL_PARAMETERS = 8


async def enrol_parameters(
    keys: KeyEncryption,
    lookup: uuid.UUID,
    episode_id: uuid.UUID,
    practice_agb: str,
    referrer_agb: str | None,
    now: datetime,
) -> tuple[Any, ...]:
    """$1 to $8 of `ENROL`: a fresh pseudonym and a fresh wrapped key, used only if the BSN is not known."""
    patient_id = uuid.uuid4()
    wrapped = await keys.wrap(AESGCM.generate_key(bit_length=256), patient_id)
    return lookup, patient_id, wrapped.kek_id, wrapped.blob, now, practice_agb, episode_id, referrer_agb


async def unwrap(
    keys: KeyEncryption, patient_id: uuid.UUID, kek_id: str | None, wrapped_key: bytes | None
) -> bytes | None:
    """The data key of a `patient_keys` row (as joined: None when the row is gone, i.e. erased)."""
    if kek_id is None or wrapped_key is None:
        return None
    return await keys.unwrap(WrappedKey(kek_id, bytes(wrapped_key)), patient_id)


async def key_of(conn: asyncpg.Connection, keys: KeyEncryption, patient_id: uuid.UUID) -> bytes | None:
    """The patient's data key, or None once it was erased."""
    row = await conn.fetchrow("SELECT kek_id, wrapped_key FROM patient_keys WHERE patient_id = $1", patient_id)
    return await unwrap(keys, patient_id, row["kek_id"], row["wrapped_key"]) if row else None


async def delete_key(conn: asyncpg.Connection, patient_id: uuid.UUID) -> None:
    """Erasure: the key and the BSN lookup go. Commit, then `compact`, so that no dead version stays behind."""
    await conn.execute("DELETE FROM patient_keys WHERE patient_id = $1", patient_id)


# VACUUM FULL writes the live rows to a new file and empties the old one at commit (it is unlinked at the next
# checkpoint): no dead version of a deleted or re-wrapped key stays in the table's files. A plain VACUUM only
# marks the space free and compacts the page, leaving old bytes in its free space: measured on PostgreSQL 16
# with 200 rows, three deleted and the table vacuumed and checkpointed, plain VACUUM left one of the three in
# the file (the page's last-inserted row), VACUUM FULL none. It holds an exclusive
# lock on the small table for as long as the rewrite takes (one row of ~130 bytes per patient); it waits at most
# this long for the lock, so that requests never queue behind it for long.
_COMPACT_LOCK_TIMEOUT = "5s"
_COMPACT_ATTEMPTS = 3


async def compact(conn: asyncpg.Connection, table: str = "patient_keys") -> bool:
    """Rewrite `table` without its dead row versions; outside a transaction. False when the lock was not had in
    time (after a few tries): the dead versions then stay until the next erasure, rotation or start compacts."""
    for attempt in range(1, _COMPACT_ATTEMPTS + 1):
        await conn.execute(f"SET lock_timeout = '{_COMPACT_LOCK_TIMEOUT}'")
        try:
            await conn.execute(f"VACUUM (FULL) {table}")
            return True
        except asyncpg.LockNotAvailableError:
            log.warning("key_store.compact_lock_timeout", table=table, attempt=attempt)
        finally:
            await conn.execute("RESET lock_timeout")
    log.error("key_store.compact_failed", table=table)
    return False


async def rotate(conn: asyncpg.Connection, keys: KeyEncryption, batch: int = 500) -> int:
    """Re-wrap every live key not wrapped under the current KEK (the retired one must still be held); `compact`
    after, so the table's files hold no key wrapped under the retired KEK. Returns how many were re-wrapped.
    Safe while the service runs: a key erased meanwhile is simply not re-wrapped (its row is gone)."""
    rewrapped = 0
    while True:
        rows = await conn.fetch(
            "SELECT patient_id, kek_id, wrapped_key FROM patient_keys WHERE kek_id <> $1 LIMIT $2", keys.current, batch
        )
        if not rows:
            break
        updates = []
        for row in rows:
            data_key = await keys.unwrap(WrappedKey(row["kek_id"], bytes(row["wrapped_key"])), row["patient_id"])
            wrapped = await keys.wrap(data_key, row["patient_id"])
            updates.append((row["patient_id"], wrapped.kek_id, wrapped.blob, row["kek_id"], row["wrapped_key"]))
        await conn.executemany(
            "UPDATE patient_keys SET kek_id = $2, wrapped_key = $3"
            " WHERE patient_id = $1 AND kek_id = $4 AND wrapped_key = $5",
            updates,
        )
        rewrapped += len(updates)
    return rewrapped


async def adopt_unwrapped_keys(conn: asyncpg.Connection, keys: KeyEncryption) -> int:
    """Wrap the keys stored in clear before `patient_keys` existed (patients.unwrapped_key), move them to their
    own table and rewrite `patients` so their clear copies leave its files. Their pseudonym was the BSN lookup
    itself (an HMAC of practice and BSN), so it stays their lookup; for them alone, after erasure, whoever holds
    PSEUDONYM_SECRET can still tell their BSN from their pseudonym. Idempotent; returns how many moved."""
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT patient_id, unwrapped_key, created_at FROM patients WHERE unwrapped_key IS NOT NULL FOR UPDATE"
        )
        moved = []
        for row in rows:
            wrapped = await keys.wrap(bytes(row["unwrapped_key"]), row["patient_id"])
            moved.append((row["patient_id"], wrapped.kek_id, wrapped.blob, row["created_at"]))
        await conn.executemany(
            "INSERT INTO patient_keys (lookup, patient_id, kek_id, wrapped_key, created_at)"
            " VALUES ($1, $1, $2, $3, $4) ON CONFLICT DO NOTHING",
            moved,
        )
        await conn.execute("UPDATE patients SET unwrapped_key = NULL WHERE unwrapped_key IS NOT NULL")
    if moved:
        await compact(conn, "patients")
        log.info("key_store.adopted_unwrapped_keys", count=len(moved))
    return len(moved)


class KeyringIncomplete(RuntimeError):
    """Keys in the database are wrapped under a KEK the keyring does not hold: serving would fail for them."""


async def settle(conn: asyncpg.Connection, keys: KeyEncryption) -> None:
    """Before intake serves: refuse a keyring that lacks a KEK live keys are wrapped under (retired before the
    rotation re-wrapped them: every request for those patients would fail), wrap any key stored in clear before
    keys were wrapped, and rewrite the keys' table, so that a compaction an erasure could not finish is done."""
    in_use = await keys_by_kek(conn)
    if missing := {kek_id: n for kek_id, n in in_use.items() if not await keys.holds(kek_id)}:
        raise KeyringIncomplete(
            f"key_encryption_keys: the keyring lacks {sorted(missing)}, which wrap {sum(missing.values())} patients'"
            " keys; put it back and run the rotation (python -m services.intake.key_rotation) before retiring it"
        )
    await adopt_unwrapped_keys(conn, keys)
    await compact(conn)


async def keys_by_kek(conn: asyncpg.Connection) -> dict[str, int]:
    """How many live keys each KEK wraps."""
    return dict(await conn.fetch("SELECT kek_id, count(*) FROM patient_keys GROUP BY kek_id"))


async def mark_erased(conn: asyncpg.Connection, patient_id: uuid.UUID, at: datetime, by: str) -> datetime | None:
    """Record the erasure on the patient's row (the first one stays); when it was erased, None for no such
    patient."""
    return await conn.fetchval(
        "UPDATE patients SET erased_at = coalesce(erased_at, $2), erased_by = coalesce(erased_by, $3)"
        " WHERE patient_id = $1 RETURNING erased_at",
        patient_id,
        at,
        by,
    )


async def episodes_of(conn: asyncpg.Connection, patient_id: uuid.UUID, *, ordered: bool = False) -> list[uuid.UUID]:
    """The patient's episodes (`ordered`: by id)."""
    sql = "SELECT episode_id FROM patient_episodes WHERE patient_id = $1"
    return [r["episode_id"] for r in await conn.fetch(f"{sql} ORDER BY episode_id" if ordered else sql, patient_id)]


async def practice_of(conn: asyncpg.Connection, patient_id: uuid.UUID) -> str | None:
    """The practice the patient is registered with, None for no such patient."""
    return await conn.fetchval("SELECT practice_agb FROM patients WHERE patient_id = $1", patient_id)


async def treated_before(conn: asyncpg.Connection, as_of: date) -> list[asyncpg.Record]:
    """Patients not erased whose last treatment lies more than 19 full years before `as_of`'s year: a cheap lower
    bound of those due for destruction (the exact day is `domain.retention`'s), oldest first."""
    return await conn.fetch(
        "SELECT patient_id, practice_agb, last_treatment_at FROM patients"
        " WHERE erased_at IS NULL AND last_treatment_at < $1 ORDER BY last_treatment_at",
        datetime.combine(date(as_of.year - 19, 1, 1), datetime.min.time()).astimezone(),
    )
