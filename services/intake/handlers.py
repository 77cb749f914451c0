"""Intake's handlers: load (`store`) → decide (`domain`) → write (`store`), one function per command or query.

Each command has two levels: `handle_…` works in a unit of work its caller holds (what tests drive step by step),
and the function the routes call (`receive_referral`, `run_episode_command`, `erase_patient`, …) takes the
`Intake` context, gets its connection or unit of work from the store and answers in domain terms
(`access.NotFound`, `NotAllowed`, `ReferralMismatch`, …), which the routes translate to HTTP. No SQL here: every
statement is the store's, and every command sends the same statements as before it had a store of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import httpx
from pydantic import BaseModel

from services.intake.domain import access
from services.intake.domain import idempotency as keyed_requests
from services.intake.domain.activity_labels import NO_ACTIVITIES, ActivityLabels
from services.intake.domain.episode import (
    Episode,
    NotAllowed,
    ReceiveReferral,
    episode_id_for,
    erase_personal_data,
)
from services.intake.domain.episode import receive_referral as decide_referral
from services.intake.domain.register import check_assignment
from services.intake.domain.retention import destruction_due_on
from services.intake.keys import sealing
from services.intake.keys.encryption import KeyEncryption
from services.intake.settings import IntakeSettings
from services.intake.store import IntakeStore, episodes, patients, register
from services.intake.store import idempotency as stored_answers
from shared.access_log import Access, AccessLogEntry, Action, entries_for_episodes, log_access
from shared.auth import Caller, service_headers
from shared.events.payload import EventPayload
from shared.events.sealed import Sealed
from shared.logging import get_logger
from shared.practice_register import LetterParties, PracticeEntry, ReferrerEntry
from shared.store.event_store import ConcurrencyConflict, StoredEvent, VersionNotCurrent
from shared.store.unit_of_work import UnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True)
class Intake:
    """What the handlers the routes call work with: the store, the settings (keys, pseudonym secret, peers) and
    the request's correlation id. Built per request by the routes' one dependency (`routes.dependency`)."""

    store: IntakeStore
    settings: IntakeSettings
    correlation_id: uuid.UUID | None = None

    @property
    def keys(self) -> KeyEncryption:
        return self.settings.key_encryption()

    def now(self) -> datetime:
        assert self.store.clock is not None
        return self.store.clock.now()


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
    lookup = sealing.bsn_lookup(pseudonym_secret, command.practice_agb, command.patient.bsn)
    for _ in range(_ENROL_ATTEMPTS):
        enrol = await patients.enrol_parameters(
            keys, lookup, episode_id, command.practice_agb, command.referrer_agb, uow.clock.now()
        )
        # the access log's patient is the one enrolment finds; this one's is only a placeholder for its parameter
        logged = Access("intake", Action.CREATE, route, episode_id, None)
        rows = await episodes.receive_referral(uow.conn, enrol, episode_id, caller, logged, at)
        if rows:
            break
    else:
        raise ConcurrencyConflict(str(episode_id), 0, None)
    patient_id = rows[0]["patient_id"]
    key = await patients.unwrap(keys, patient_id, rows[0]["kek_id"], rows[0]["wrapped_key"])
    assert key is not None  # `known` holds the key's row
    episode = _rebuild(uow, episode_id, [uow.store.from_row(r) for r in rows if r["stream_id"] is not None])
    sealed = sealing.seal(key, patient_id, command.personal(), context=str(episode_id))
    new_events = decide_referral(episode, command, patient_id, sealed)
    await uow.append(str(episode_id), episode.version, new_events)
    return ReferralResult(episode_id, patient_id, episode.version + len(new_events), created=bool(new_events))


# Enrolment sees no key row only when a referral for the same new BSN committed while its statement ran; the
# next statement sees that row.
_ENROL_ATTEMPTS = 3


async def personal_view(uow: UnitOfWork, keys: KeyEncryption, episode: Episode) -> dict[str, Any] | None:
    """The episode's personal data opened with the patient's key, or None once it was erased."""
    assert episode.referral is not None
    key = await patients.key_of(uow.conn, keys, episode.referral.patient_id)
    if key is None:
        return None
    return sealing.open_sealed(key, episode.referral.personal, context=str(episode.id))


async def goals_view(uow: UnitOfWork, keys: KeyEncryption, episode: Episode) -> str | None:
    """The individual goals agreed in the plan, opened with the patient's key; None when none or erased."""
    assert episode.referral is not None
    if episode.plan is None or episode.plan.goals is None:
        return None
    key = await patients.key_of(uow.conn, keys, episode.referral.patient_id)
    if key is None:
        return None
    return sealing.open_sealed(key, episode.plan.goals, context=str(episode.id)).get("goals")


async def handle_erasure(uow: UnitOfWork, patient_id: uuid.UUID, erased_by: str) -> ErasureResult:
    """Destroy the patient's key (and with it the BSN lookup) and tell every service, per episode, to drop what
    it derived. After the commit the caller runs `patients.compact`, which removes the key's dead row version."""
    now = uow.clock.now()
    await patients.delete_key(uow.conn, patient_id)
    erased_at = await patients.mark_erased(uow.conn, patient_id, now, erased_by)
    if erased_at is None:
        raise LookupError(str(patient_id))
    erased = await patients.episodes_of(uow.conn, patient_id, ordered=True)
    for episode_id in erased:
        episode = await load_episode(uow, episode_id)
        await uow.append(str(episode_id), episode.version, erase_personal_data(episode, patient_id, erased_at))
    return ErasureResult(patient_id, erased_at, erased)


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
        return sealing.seal(self._key, self._patient_id, values, context=str(self._episode_id))

    def activities(self, field: str, labels: Iterable[str]) -> ActivityLabels:
        """References for a command's activity labels, and the labels sealed by reference."""
        labels = list(labels)
        if not labels:
            return NO_ACTIVITIES
        if self._key is None:
            raise NotAllowed(field, "the patient's personal data was erased; no new activity labels can be kept")
        references = {label: sealing.activity_reference(self._key, label) for label in labels}
        by_reference = {reference: label for label, reference in references.items()}
        sealed = sealing.seal(self._key, self._patient_id, by_reference, context=str(self._episode_id))
        return ActivityLabels(references, sealed)


async def activity_labels_view(uow: UnitOfWork, keys: KeyEncryption, episode: Episode) -> dict[str, str]:
    """The patient's own activity labels by reference, opened with the patient's key from every event of the
    episode that sealed some; empty when there are none or the key was erased."""
    assert episode.referral is not None
    if not episode.activity_labels:
        return {}
    key = await patients.key_of(uow.conn, keys, episode.referral.patient_id)
    if key is None:
        return {}
    labels: dict[str, str] = {}
    for sealed in episode.activity_labels:  # the first wording of an activity is the one shown (the plan's)
        for reference, label in sealing.open_sealed(key, sealed, context=str(episode.id)).items():
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


async def open_for_command(
    uow: UnitOfWork, keys: KeyEncryption, caller: Caller, episode_id: uuid.UUID, idempotency_key: str | None
) -> OpenedEpisode | None:
    """What an episode command needs before the domain decides, read in one statement that writes nothing and
    locks nothing: the episode's patient and key, its events and the answer stored under `idempotency_key`.
    None for an unknown episode or one of another practice than the caller's (the routes admit only
    practices). What the command writes follows in `record_command`, only if the episode is still as read
    here; a command rejected in between has written nothing."""
    rows = await episodes.open_for_command(uow.conn, episode_id, access.command_scope(caller), idempotency_key)
    if not rows:
        return None
    first = rows[0]
    key = await patients.unwrap(keys, first["patient_id"], first["kek_id"], first["wrapped_key"])
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
        raise VersionNotCurrent(str(episode_id), expected_version, episode.version)
    new_events = decide(episode, Sealer(opened.data_key, opened.patient_id, episode_id))
    result = CommandResult(episode_id, episode.version + len(new_events), [e.event_type for e in new_events])
    return DecidedCommand(episode.version, new_events, result)


async def record_command(
    uow: UnitOfWork,
    opened: OpenedEpisode,
    decided: DecidedCommand,
    caller: Caller,
    logged: Access,
    at: datetime,
    answer: list[Any] | None = None,
) -> bool:
    """Write everything a decided command writes, in one statement and only if the episode is still at the
    version it was decided on: its events, the patient's last treatment (`at`, what retention counts from), the
    access-log row and, for a request with an Idempotency-Key, its `answer` (`KeyedRequest.answer`). False,
    with nothing written, when the episode moved on since `open_for_command` read it: the caller reads again.

    The statement and why it cannot deadlock or lose an update: `store.episodes.record_command`."""
    append = uow.append_statement(
        str(decided.result.episode_id), decided.based_on, decided.new_events, guard=episodes.RECORD_GUARD
    )
    written = await episodes.record_command(uow.conn, append, opened.patient_id, caller, logged, at, answer)
    if written:
        uow.count(decided.new_events)
    return written


# How many times a command reads and decides when the episode keeps moving on before its write, before it gives
# up with a 409. Each lost pass means another command got through; with If-Match the second pass is the last
# (the version no longer matches: a 412, or the request's first answer is found).
ATTEMPTS = 5


async def run_episode_command(
    intake: Intake,
    caller: Caller,
    logged: Access,
    idempotency_key: str | None,
    request: tuple[str, Any],
    expected_version: int | None,
    decide: Decide,
    at: datetime,
    answer_of: Callable[[CommandResult], tuple[int, Any]],
) -> tuple[int, Any]:
    """A command on an episode in two round trips, no transaction: `open_for_command` reads the episode, its
    owner and the answer stored under the Idempotency-Key (a replay ends there), the domain decides, and
    `record_command` writes what the command writes if the episode is still at the version read. Returns the
    answer (`answer_of` the result, stored under the key with `request`, the route and body it is kept for);
    raises access.NotFound for an episode unknown to the caller (`logged.episode_id`).

    When the episode moved on in between, the command starts over from the read, so it decides on what the
    other command wrote: with If-Match that read makes it a 412 (the version no longer matches), a retry that
    raced its first request finds that one's answer, and any other command decides again, at most `ATTEMPTS`
    times. Raises NotAllowed when the domain refuses."""
    episode_id = logged.episode_id
    async with intake.store.unit_of_work(intake.correlation_id, transaction=False) as uow:
        for _ in range(ATTEMPTS):
            opened = await open_for_command(uow, intake.keys, caller, episode_id, idempotency_key)
            if opened is None:
                raise access.NotFound(episode_id)
            keyed = keyed_requests.keyed(caller, idempotency_key, *request)
            if keyed is not None and (replayed := keyed.replay(opened.replay)) is not None:
                return replayed
            decided = handle_episode_command(uow, opened, episode_id, expected_version, decide)
            code, body = answer_of(decided.result)
            stored = keyed.answer(code, body, at) if keyed is not None else None
            if await record_command(uow, opened, decided, caller, logged, at, stored):
                return code, body
    raise ConcurrencyConflict(str(episode_id), decided.based_on, None)


Produce = Callable[[], Awaitable[tuple[int, Any]]]


async def once(
    uow: UnitOfWork, caller: Caller, key: str | None, route: str, body: Any, now: datetime, produce: Produce
) -> tuple[int, Any]:
    """Run `produce` unless this key was seen, and store its answer under the key; in the command's transaction."""
    request = keyed_requests.keyed(caller, key, route, body)
    if request is None:
        return await produce()
    if (replayed := request.replay(await stored_answers.find_answer(uow.conn, caller.org, request.key))) is not None:
        return replayed
    status, answer = await produce()
    await stored_answers.store_answer(uow.conn, request.answer(status, answer, now))
    return status, answer


REFERRAL_ROUTE = "POST /v1/referrals"


async def receive_referral(
    intake: Intake,
    command: ReceiveReferral,
    caller: Caller,
    idempotency_key: str | None,
    at: datetime,
    answer_of: Callable[[ReferralResult], tuple[int, Any]],
) -> tuple[int, Any]:
    """A referral in one transaction: its answer (`answer_of` the result), or the one stored under the
    Idempotency-Key. Raises ReferralMismatch when the domain refuses it (nothing is kept)."""
    async with intake.store.unit_of_work(intake.correlation_id) as uow:

        async def produce() -> tuple[int, Any]:
            result = await handle_receive_referral(
                command, uow, intake.settings.pseudonym_secret, intake.keys, caller, REFERRAL_ROUTE, at
            )
            return answer_of(result)

        return await once(uow, caller, idempotency_key, "POST referrals", command, at, produce)


async def erase_patient(intake: Intake, caller: Caller, patient_id: uuid.UUID, route: str) -> ErasureResult:
    """The erasure in one transaction, each episode's access logged; then the keys' table is compacted, so the
    deleted key's dead row version leaves its files. Raises access.NotFound for a patient not the caller's."""
    async with intake.store.connection() as conn:
        async with conn.transaction():
            if not access.owns_patient(caller, await patients.practice_of(conn, patient_id)):
                raise access.NotFound(patient_id)
            result = await handle_erasure(intake.store.on(conn, intake.correlation_id), patient_id, caller.user)
            for episode_id in result.episodes:
                await log_access(
                    conn, caller, Access("intake", Action.ERASE, route, episode_id, patient_id), intake.now()
                )
        await patients.compact(conn)
    return result


async def patient_access_log(
    intake: Intake, caller: Caller, patient_id: uuid.UUID
) -> tuple[list[AccessLogEntry], list[str]]:
    """Who looked at the patient's record, through every service (NEN 7513), oldest first, and the services that
    could not be asked. Raises access.NotFound for a patient not the caller's."""
    async with intake.store.connection() as conn:
        if not access.owns_patient(caller, await patients.practice_of(conn, patient_id)):
            raise access.NotFound(patient_id)
        episode_ids = await patients.episodes_of(conn, patient_id)
        entries = await entries_for_episodes(conn, episode_ids) if episode_ids else []
    unreachable: list[str] = []
    if episode_ids:
        settings = intake.settings
        headers = service_headers(settings.jwt_secret, "intake")

        async def from_peer(name: str, base: str) -> list[AccessLogEntry]:
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(
                        f"{base}/v1/access-log", params={"episode_id": [str(e) for e in episode_ids]}, headers=headers
                    )
                response.raise_for_status()
                return [AccessLogEntry(**e) for e in response.json()]
            except httpx.HTTPError as error:
                log.warning("access_log.peer_unreachable", peer=name, error=repr(error))
                unreachable.append(name)
                return []

        # PEER_URLS is one map for every service (compose, k8s, the launcher); intake's own entries were read above
        peers = [(n, url) for n, url in settings.peer_urls.items() if n != settings.service_name]
        for found in await asyncio.gather(*(from_peer(name, url) for name, url in peers)):
            entries.extend(found)
    entries.sort(key=lambda e: e.at)
    return entries, sorted(unreachable)


async def episode_view(
    intake: Intake, caller: Caller, episode_id: uuid.UUID, route: str
) -> tuple[Episode, dict[str, Any] | None]:
    """The episode and its patient's personal data (None once erased), the read logged. Raises access.NotFound
    for an episode unknown to the caller."""
    async with intake.store.unit_of_work() as uow:
        episode = await load_episode(uow, episode_id)
        referral = episode.referral
        if referral is None or not access.may_see_episode(caller, referral.practice_agb, referral.referrer_agb):
            raise access.NotFound(episode_id)
        personal = await personal_view(uow, intake.keys, episode)
        await log_access(
            uow.conn, caller, Access("intake", Action.READ, route, episode_id, referral.patient_id), intake.now()
        )
    return episode, personal


class PersonalDataErased(Exception):
    """The patient's personal data was erased at their request."""


@dataclass(frozen=True)
class LetterData:
    personal: dict[str, Any]
    goals: str | None
    activities: dict[str, str]


async def letter_data(intake: Intake, caller: Caller, episode_id: uuid.UUID, route: str) -> LetterData:
    """What reporting shows in a letter and never stores: the personal data, the goals and the activity labels,
    the read logged. Raises access.NotFound for an unknown episode, PersonalDataErased once erased."""
    async with intake.store.unit_of_work() as uow:
        episode = await load_episode(uow, episode_id)
        if episode.referral is None:
            raise access.NotFound(episode_id)
        personal = await personal_view(uow, intake.keys, episode)
        if personal is None:
            raise PersonalDataErased(episode_id)
        goals = await goals_view(uow, intake.keys, episode)
        activities = await activity_labels_view(uow, intake.keys, episode)
        read = Access("intake", Action.READ, route, episode_id, episode.referral.patient_id)
        await log_access(uow.conn, caller, read, intake.now())
    return LetterData(personal, goals, activities)


async def save_practice(intake: Intake, agb: str, entry: PracticeEntry, by: str) -> None:
    async with intake.store.connection() as conn:
        await register.save_practice(conn, agb, entry, intake.now(), by)


async def practice(intake: Intake, agb: str) -> PracticeEntry | None:
    async with intake.store.connection() as conn:
        return await register.practice(conn, agb)


async def save_referrer(intake: Intake, agb: str, entry: ReferrerEntry, by: str) -> None:
    async with intake.store.connection() as conn:
        await register.save_referrer(conn, agb, entry, intake.now(), by)


async def assign_therapist(
    intake: Intake, caller: Caller, episode_id: uuid.UUID, therapist_agb: str, route: str
) -> None:
    """Name the episode's physiotherapist, the access logged, in one transaction. Raises access.NotFound for an
    episode not of the caller's practice, NotInRegister for a therapist not registered with it."""
    async with intake.store.connection() as conn, conn.transaction():
        parties = await register.episode_parties(conn, episode_id)
        if parties is None or not access.may_act_on_episode(caller, parties[0]):
            raise access.NotFound(episode_id)
        check_assignment(parties[0], await register.practice(conn, parties[0]), therapist_agb)
        now = intake.now()
        await register.assign_therapist(conn, episode_id, therapist_agb, now, caller.user)
        await log_access(conn, caller, Access("intake", Action.UPDATE, route, episode_id), now)


async def letter_parties(intake: Intake, episode_id: uuid.UUID) -> LetterParties:
    """Who writes the episode's letters and to whom. Raises access.NotFound for an unknown episode."""
    async with intake.store.connection() as conn:
        parties = await register.letter_parties(conn, episode_id)
    if parties is None:
        raise access.NotFound(episode_id)
    return parties


class RetentionDue(BaseModel):
    patient_id: uuid.UUID
    practice_agb: str
    last_treatment_on: date
    destruction_due_on: date


async def retention_due(intake: Intake, as_of: date | None) -> list[RetentionDue]:
    """Patient records due for destruction on `as_of` (today when None), not erased already."""
    return await _retention_due(intake.store, as_of or intake.now().date())


async def list_retention_due(pool: asyncpg.Pool, as_of: date) -> list[RetentionDue]:
    """`retention_due` for the `retention-due` command, on a pool of its own."""
    return await _retention_due(IntakeStore(pool), as_of)


async def _retention_due(store: IntakeStore, as_of: date) -> list[RetentionDue]:
    async with store.connection() as conn:
        rows = await patients.treated_before(conn, as_of)
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
