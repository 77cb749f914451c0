"""The statements of intake's commands on an episode, each one round trip: the referral's (enrol the patient,
read the episode's stream, log the access), an episode command's read (the episode, its patient and key, the
answer stored under the request's Idempotency-Key) and its write (the events, the patient's last treatment, the
access-log row, the answer). They are put together here from the parts the other tables' modules give
(`patients.ENROL`, `idempotency.lookup`/`store`, the shared access log's and event store's statements), so a
reader finds every statement a command sends in one place."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.intake.store import idempotency, patients
from shared.access_log import Access, Action, LogStatement, log_statement
from shared.auth import Caller
from shared.store.event_store import AppendStatement, EventStore, lost_append_race

# Enrols the patient and the episode, reads the episode's stream and logs the access, in one round trip. The
# access is a "create" when the stream is empty, else a "read": receive_referral opens only an episode that
# does not exist yet, and leaves an existing one alone (the same referral again) or refuses the referral,
# which rolls the row back. The same referral again after its patient was erased finds a new patient (the BSN
# no longer leads to the erased one) and is refused as a referral id received before with other content: what
# anyone reusing a referral id of that practice would hear, not a sign of the erasure.
_STREAM = f"${patients.ENROL_PARAMETERS + 1}"
_REFERRAL_LOG = log_statement(
    first_parameter=patients.ENROL_PARAMETERS + 2,
    source="FROM known",
    patient_id="known.patient_id",
    action=f"CASE WHEN EXISTS (SELECT FROM events WHERE stream_id = {_STREAM})"
    f" THEN '{Action.READ}' ELSE '{Action.CREATE}' END",
)
_RECEIVE_REFERRAL = f"""
WITH {patients.ENROL},
logged AS ({_REFERRAL_LOG.sql})
SELECT {EventStore.COLUMNS}, known.patient_id, known.kek_id, known.wrapped_key
FROM known LEFT JOIN events ON events.stream_id = {_STREAM}
ORDER BY events.stream_version
"""


async def receive_referral(
    conn: asyncpg.Connection,
    enrol: Sequence[Any],
    episode_id: uuid.UUID,
    caller: Caller,
    access: Access,
    at: datetime,
) -> list[asyncpg.Record]:
    """Enrol (`enrol`: `patients.enrol_parameters`), read the episode and log the access: the episode's events
    (a row with `stream_id` None when it has none) with the patient's id and wrapped key on each, or no rows when
    another referral for the same new BSN committed meanwhile (nothing was written; run it again). The access
    log's patient is the one enrolment finds; `access`'s is only a placeholder for its parameter."""
    return await conn.fetch(_RECEIVE_REFERRAL, *enrol, str(episode_id), *_REFERRAL_LOG.parameters(caller, access, at))


_OPEN_FOR_COMMAND = f"""
SELECT {EventStore.COLUMNS}, e.patient_id, k.kek_id, k.wrapped_key, replay.*
FROM patient_episodes e
LEFT JOIN patient_keys k ON k.patient_id = e.patient_id
JOIN events ON events.stream_id = e.episode_id::text
LEFT JOIN ({idempotency.lookup("$2", "$3")}) replay ON true
WHERE e.episode_id = $1 AND e.practice_agb = $2
ORDER BY events.stream_version
"""


async def open_for_command(
    conn: asyncpg.Connection, episode_id: uuid.UUID, practice_agb: str, idempotency_key: str | None
) -> list[asyncpg.Record]:
    """The episode's events, each row with its patient, the patient's wrapped key (None once erased) and the answer
    stored under `idempotency_key` (`status_code` None when there is none), in one statement that writes nothing
    and locks nothing. No rows for an unknown episode or one of another practice than `practice_agb`."""
    return await conn.fetch(_OPEN_FOR_COMMAND, episode_id, practice_agb, idempotency_key)


@functools.cache
def _record_sql(append: str, at_expected_version: str, first_parameter: int, keyed: bool) -> tuple[str, LogStatement]:
    """`record_command`'s statement around the append `append` (its parameters before `$first_parameter`),
    then the patient, the time, the access-log row's parameters (those of the LogStatement returned) and, when
    `keyed`, the answer's. The text is the same for every command: built once, and prepared once by asyncpg."""
    patient, at = f"${first_parameter}", f"${first_parameter + 1}"
    log = log_statement(first_parameter + 2, source="FROM treated", patient_id="treated.patient_id")
    writes = [
        f"treated AS (UPDATE patients SET last_treatment_at = greatest(last_treatment_at, {at})"
        f" WHERE patient_id = {patient} AND {at_expected_version} RETURNING patient_id)",
        f"appended AS ({append})",
        f"logged AS ({log.sql})",
    ]
    if keyed:
        writes.append(f"stored AS ({idempotency.store(log.next_parameter, source='FROM treated')})")
    return f"WITH {', '.join(writes)}\nSELECT EXISTS (SELECT FROM treated)", log


async def record_command(
    conn: asyncpg.Connection,
    append: AppendStatement,
    patient_id: uuid.UUID,
    caller: Caller,
    access: Access,
    at: datetime,
    answer: list[Any] | None,
) -> bool:
    """Write everything a decided command writes, in one statement and only if the episode is still at the
    version `append` expects: its events, the patient's last treatment (`at`, what retention counts from), the
    access-log row and, for a request with an Idempotency-Key, its `answer` (`KeyedRequest.answer`). False, with
    nothing written, when the episode moved on.

    Every write hangs off `treated`, the update of the patient row, which happens only when the stream is at
    the expected version (`append` is built with the guard `EXISTS (SELECT FROM treated)`). The events' insert
    waits for it, so the patient row is locked before the stream's index, in the order the referral and the
    erasure take them: a command that waits for one of those on the patient does not deadlock it. An append of
    the same version that committed after this statement's snapshot makes it fail on the stream's unique index
    (or, for a command that appends nothing, a retry with the same key on the key's): the same outcome as a
    failed version check."""
    sql, log = _record_sql(append.sql, append.at_expected_version, len(append.parameters) + 1, answer is not None)
    parameters = [*append.parameters, patient_id, at, *log.parameters(caller, access, at), *(answer or [])]
    try:
        return await conn.fetchval(sql, *parameters)
    except asyncpg.UniqueViolationError as error:
        if lost_append_race(error) or idempotency.taken(error):
            return False
        raise


# The guard `record_command` expects on its append.
RECORD_GUARD = "EXISTS (SELECT FROM treated)"
