"""Intake command handlers: load the episode, seal personal data, let the domain decide, append."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.intake import idempotency, key_store, personal_data
from services.intake.domain.activity_labels import NO_ACTIVITIES, ActivityLabels
from services.intake.domain.episode import (
    Episode,
    NotAllowed,
    ReceiveReferral,
    episode_id_for,
    erase_personal_data,
    receive_referral,
)
from services.intake.key_encryption import KeyEncryption
from shared.access_log import Access, Action, LogStatement, log_statement
from shared.auth import Caller
from shared.events.payload import EventPayload
from shared.events.sealed import Sealed
from shared.store.event_store import ConcurrencyConflict, EventStore, StoredEvent, lost_append_race
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
    return _rebuild(uow, episode_id, await uow.store.read_stream(uow.conn, str(episode_id)))


def _rebuild(uow: UnitOfWork, episode_id: uuid.UUID, events: list[StoredEvent]) -> Episode:
    return Episode.rebuild(episode_id, (e.payload(uow.store.registry) for e in events))


# Enrols the patient and the episode, reads the episode's stream and logs the access, in one round trip. The
# access is a "create" when the stream is empty, else a "read": receive_referral opens only an episode that
# does not exist yet, and leaves an existing one alone (the same referral again) or refuses the referral,
# which rolls the row back. The same referral again after its patient was erased finds a new patient (the BSN
# no longer leads to the erased one) and is refused as a referral id received before with other content: what
# anyone reusing a referral id of that practice would hear, not a sign of the erasure.
_STREAM = f"${key_store.ENROL_PARAMETERS + 1}"
_REFERRAL_LOG = log_statement(
    first_parameter=key_store.ENROL_PARAMETERS + 2,
    source="FROM known",
    patient_id="known.patient_id",
    action=f"CASE WHEN EXISTS (SELECT FROM events WHERE stream_id = {_STREAM})"
    f" THEN '{Action.READ}' ELSE '{Action.CREATE}' END",
)
_RECEIVE_REFERRAL = f"""
WITH {key_store.ENROL},
logged AS ({_REFERRAL_LOG.sql})
SELECT {EventStore.COLUMNS}, known.patient_id, known.kek_id, known.wrapped_key
FROM known LEFT JOIN events ON events.stream_id = {_STREAM}
ORDER BY events.stream_version
"""


async def handle_receive_referral(
    command: ReceiveReferral,
    uow: UnitOfWork,
    pseudonym_secret: str,
    keys: KeyEncryption,
    caller: Caller,
    route: str,
    at: datetime,
) -> ReferralResult:
    """Enrol, read the episode, log the access (one statement), let the domain decide, append."""
    episode_id = episode_id_for(command.practice_agb, command.referral_id)
    lookup = personal_data.bsn_lookup(pseudonym_secret, command.practice_agb, command.patient.bsn)
    for _ in range(_ENROL_ATTEMPTS):
        enrol = await key_store.enrol_parameters(
            keys, lookup, episode_id, command.practice_agb, command.referrer_agb, uow.clock.now()
        )
        # the access log's patient is the one `known` finds; this one's is only a placeholder for its parameter
        access = Access("intake", Action.CREATE, route, episode_id, None)
        rows = await uow.conn.fetch(
            _RECEIVE_REFERRAL, *enrol, str(episode_id), *_REFERRAL_LOG.parameters(caller, access, at)
        )
        if rows:
            break
    else:
        raise ConcurrencyConflict(str(episode_id), 0, None)
    patient_id = rows[0]["patient_id"]
    key = await key_store.unwrap(keys, patient_id, rows[0]["kek_id"], rows[0]["wrapped_key"])
    assert key is not None  # `known` holds the key's row
    episode = _rebuild(uow, episode_id, [uow.store.from_row(r) for r in rows if r["stream_id"] is not None])
    sealed = personal_data.seal(key, patient_id, command.personal(), context=str(episode_id))
    new_events = receive_referral(episode, command, patient_id, sealed)
    await uow.append(str(episode_id), episode.version, new_events)
    return ReferralResult(episode_id, patient_id, episode.version + len(new_events), created=bool(new_events))


# Enrolment sees no key row only when a referral for the same new BSN committed while its statement ran; the
# next statement sees that row.
_ENROL_ATTEMPTS = 3


async def personal_view(uow: UnitOfWork, keys: KeyEncryption, episode: Episode) -> dict[str, Any] | None:
    """The episode's personal data opened with the patient's key, or None once it was erased."""
    assert episode.referral is not None
    key = await key_store.key_of(uow.conn, keys, episode.referral.patient_id)
    if key is None:
        return None
    return personal_data.open_sealed(key, episode.referral.personal, context=str(episode.id))


async def goals_view(uow: UnitOfWork, keys: KeyEncryption, episode: Episode) -> str | None:
    """The individual goals agreed in the plan, opened with the patient's key; None when none or erased."""
    assert episode.referral is not None
    if episode.plan is None or episode.plan.goals is None:
        return None
    key = await key_store.key_of(uow.conn, keys, episode.referral.patient_id)
    if key is None:
        return None
    return personal_data.open_sealed(key, episode.plan.goals, context=str(episode.id)).get("goals")


async def handle_erasure(uow: UnitOfWork, patient_id: uuid.UUID, erased_by: str) -> ErasureResult:
    """Destroy the patient's key (and with it the BSN lookup) and tell every service, per episode, to drop what
    it derived. After the commit the caller runs `key_store.compact`, which removes the key's dead row version."""
    now = uow.clock.now()
    await key_store.delete_key(uow.conn, patient_id)
    row = await uow.conn.fetchrow(
        "UPDATE patients SET erased_at = coalesce(erased_at, $2), erased_by = coalesce(erased_by, $3)"
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

    def activities(self, field: str, labels: Iterable[str]) -> ActivityLabels:
        """References for a command's activity labels, and the labels sealed by reference."""
        labels = list(labels)
        if not labels:
            return NO_ACTIVITIES
        if self._key is None:
            raise NotAllowed(field, "the patient's personal data was erased; no new activity labels can be kept")
        references = {label: personal_data.activity_reference(self._key, label) for label in labels}
        by_reference = {reference: label for label, reference in references.items()}
        sealed = personal_data.seal(self._key, self._patient_id, by_reference, context=str(self._episode_id))
        return ActivityLabels(references, sealed)


async def activity_labels_view(uow: UnitOfWork, keys: KeyEncryption, episode: Episode) -> dict[str, str]:
    """The patient's own activity labels by reference, opened with the patient's key from every event of the
    episode that sealed some; empty when there are none or the key was erased."""
    assert episode.referral is not None
    if not episode.activity_labels:
        return {}
    key = await key_store.key_of(uow.conn, keys, episode.referral.patient_id)
    if key is None:
        return {}
    labels: dict[str, str] = {}
    for sealed in episode.activity_labels:  # the first wording of an activity is the one shown (the plan's)
        for reference, label in personal_data.open_sealed(key, sealed, context=str(episode.id)).items():
            labels.setdefault(reference, label)
    return labels


@dataclass(frozen=True)
class CommandResult:
    episode_id: uuid.UUID
    version: int
    appended: list[str]


@dataclass(frozen=True)
class OpenedEpisode:
    """What `open_for_command` found for a command on an episode."""

    patient_id: uuid.UUID
    data_key: bytes | None  # None once the patient's data was erased (unwrapped)
    events: list[StoredEvent]  # the episode's stream
    replay: Mapping[str, Any] | None  # the answer stored under the request's Idempotency-Key, if any


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
    uow: UnitOfWork, keys: KeyEncryption, caller: Caller, episode_id: uuid.UUID, idempotency_key: str | None
) -> OpenedEpisode | None:
    """What an episode command needs before the domain decides, read in one statement that writes nothing and
    locks nothing: the episode's patient and key, its events and the answer stored under `idempotency_key`.
    None for an unknown episode or one of another practice than the caller's (the routes admit only
    practices). What the command writes follows in `record_command`, only if the episode is still as read
    here; a command rejected in between has written nothing."""
    rows = await uow.conn.fetch(_OPEN_FOR_COMMAND, episode_id, caller.org, idempotency_key)
    if not rows:
        return None
    first = rows[0]
    key = await key_store.unwrap(keys, first["patient_id"], first["kek_id"], first["wrapped_key"])
    replay = first if first["status_code"] is not None else None
    events = [uow.store.from_row(r) for r in rows]
    return OpenedEpisode(first["patient_id"], key, events, replay)


@dataclass(frozen=True)
class DecidedCommand:
    """What the domain decided on an episode at `based_on`: the events to append after that version."""

    based_on: int
    new_events: list[EventPayload]
    result: CommandResult


def handle_episode_command(
    uow: UnitOfWork, opened: OpenedEpisode, episode_id: uuid.UUID, expected_version: int | None, decide: Decide
) -> DecidedCommand:
    """Check the expected version and let the domain decide on the episode `open_for_command` read. Writes
    nothing: `record_command` does, if the episode is still at that version."""
    episode = _rebuild(uow, episode_id, opened.events)
    if expected_version is not None and expected_version != episode.version:
        raise ConcurrencyConflict(str(episode_id), expected_version, episode.version)
    new_events = decide(episode, Sealer(opened.data_key, opened.patient_id, episode_id))
    result = CommandResult(episode_id, episode.version + len(new_events), [e.event_type for e in new_events])
    return DecidedCommand(episode.version, new_events, result)


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
    uow: UnitOfWork,
    opened: OpenedEpisode,
    decided: DecidedCommand,
    caller: Caller,
    access: Access,
    at: datetime,
    answer: list[Any] | None = None,
) -> bool:
    """Write everything a decided command writes, in one statement and only if the episode is still at the
    version it was decided on: its events, the patient's last treatment (`at`, what retention counts from), the
    access-log row and, for a request with an Idempotency-Key, its `answer` (`KeyedRequest.answer`). False,
    with nothing written, when the episode moved on since `open_for_command` read it: the caller reads again.

    Every write hangs off `treated`, the update of the patient row, which happens only when the stream is at
    the expected version. The events' insert waits for it (its guard), so the patient row is locked before the
    stream's index, in the order the referral and the erasure take them: a command that waits for one of those
    on the patient does not deadlock it. An append of the same version that committed after this statement's
    snapshot makes it fail on the stream's unique index (or, for a command that appends nothing, a retry with
    the same key on the key's): the same outcome as a failed version check."""
    append = uow.append_statement(
        str(decided.result.episode_id), decided.based_on, decided.new_events, guard="EXISTS (SELECT FROM treated)"
    )
    sql, log = _record_sql(append.sql, append.at_expected_version, len(append.parameters) + 1, answer is not None)
    parameters = [*append.parameters, opened.patient_id, at, *log.parameters(caller, access, at), *(answer or [])]
    try:
        written = await uow.conn.fetchval(sql, *parameters)
    except asyncpg.UniqueViolationError as error:
        if lost_append_race(error) or idempotency.taken(error):
            return False
        raise
    if written:
        uow.count(decided.new_events)
    return written


# How many times a command reads and decides when the episode keeps moving on before its write, before it gives
# up with a 409. Each lost pass means another command got through; with If-Match the second pass is the last
# (the version no longer matches, or the request's first answer is found).
ATTEMPTS = 5


async def execute_episode_command(
    uow: UnitOfWork,
    keys: KeyEncryption,
    caller: Caller,
    access: Access,
    idempotency_key: str | None,
    request: tuple[str, Any],
    expected_version: int | None,
    decide: Decide,
    at: datetime,
    answer_of: Callable[[CommandResult], tuple[int, Any]],
) -> tuple[int, Any] | None:
    """A command on an episode in two round trips, no transaction: `open_for_command` reads the episode, its
    owner and the answer stored under the Idempotency-Key (a replay ends there), the domain decides, and
    `record_command` writes what the command writes if the episode is still at the version read. Returns the
    answer (`answer_of` the result, stored under the key with `request`, the route and body it is kept for), or
    None for an episode unknown to the caller.

    When the episode moved on in between, the command starts over from the read, so it decides on what the
    other command wrote: with If-Match that read makes it a 409 (the version no longer matches), a retry that
    raced its first request finds that one's answer, and any other command decides again, at most `ATTEMPTS`
    times. Raises NotAllowed when the domain refuses."""
    episode_id = access.episode_id
    for _ in range(ATTEMPTS):
        opened = await open_for_command(uow, keys, caller, episode_id, idempotency_key)
        if opened is None:
            return None
        keyed = idempotency.keyed(caller, idempotency_key, *request)
        if keyed is not None and (replayed := keyed.replay(opened.replay)) is not None:
            return replayed
        decided = handle_episode_command(uow, opened, episode_id, expected_version, decide)
        code, body = answer_of(decided.result)
        stored = keyed.answer(code, body, at) if keyed is not None else None
        if await record_command(uow, opened, decided, caller, access, at, stored):
            return code, body
    raise ConcurrencyConflict(str(episode_id), decided.based_on, None)
