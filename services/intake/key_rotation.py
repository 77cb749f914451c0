"""Rotation of the key-encryption key: `python -m services.intake.key_rotation` re-wraps every patient's key under
the keyring's current KEK and rewrites the keys' table, after which the retired KEK can leave the keyring.

The procedure (README, "Privacy"): add the new KEK to the keyring as `current`, keeping the old one; restart intake
(new keys are wrapped under the new KEK from then on); run this; remove the old KEK from the keyring, restart, and
destroy every copy of it. WAL segments and backups that still hold keys wrapped under it — an erased patient's
among them — are then of no use to anyone.
"""

from __future__ import annotations

import asyncio
import json

from services.intake.settings import IntakeSettings
from services.intake.store import IntakeStore, patients
from shared.db import create_pool


async def rotate_all(settings: IntakeSettings) -> dict[str, object]:
    """Re-wrap the live keys under the current KEK; what was done, for the operator."""
    pool = await create_pool(settings.require_database_url(), settings.service_name, min_size=1, max_size=1)
    try:
        async with IntakeStore(pool).connection() as conn:
            rewrapped = await patients.rotate(conn, settings.key_encryption())
            compacted = await patients.compact(conn)
            by_kek = await patients.keys_by_kek(conn)
    finally:
        await pool.close()
    current = settings.key_encryption().current
    return {"current": current, "rewrapped": rewrapped, "compacted": compacted, "keys_by_kek": by_kek}


def main() -> None:
    done = asyncio.run(rotate_all(IntakeSettings()))
    print(json.dumps(done))
    if not done["compacted"]:
        raise SystemExit("the keys' table was not rewritten (its lock was not had in time): run this again")


if __name__ == "__main__":
    main()
