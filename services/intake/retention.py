"""Which patient records are due for destruction: the query behind the retention route and command."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg
from pydantic import BaseModel

from services.intake.domain.retention import destruction_due_on


class RetentionDue(BaseModel):
    patient_id: uuid.UUID
    practice_agb: str
    last_treatment_on: date
    destruction_due_on: date


async def list_retention_due(pool: asyncpg.Pool, as_of: date) -> list[RetentionDue]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT patient_id, practice_agb, last_treatment_at FROM patients"
            " WHERE erased_at IS NULL AND last_treatment_at < $1 ORDER BY last_treatment_at",
            # a cheap lower bound (19 full years back); the exact day is decided below
            datetime.combine(date(as_of.year - 19, 1, 1), datetime.min.time()).astimezone(),
        )
    due = []
    for row in rows:
        last = row["last_treatment_at"].date()
        if as_of >= destruction_due_on(last):
            due.append(
                RetentionDue(
                    patient_id=row["patient_id"],
                    practice_agb=row["practice_agb"],
                    last_treatment_on=last,
                    destruction_due_on=destruction_due_on(last),
                )
            )
    return due
