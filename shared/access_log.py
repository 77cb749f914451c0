"""The NEN 7513 access log: one row per read or write of an episode's data, in the same transaction."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel

from shared.access import episode_not_found, require_episode_access
from shared.auth import Caller, Role, allow
from shared.service import RuntimeDep


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    ERASE = "erase"


@dataclass(frozen=True)
class Access:
    service: str
    action: Action
    route: str
    episode_id: uuid.UUID
    patient_id: uuid.UUID | None = None


_COLUMNS = (
    "at",
    "service",
    "actor_user",
    "actor_role",
    "actor_org",
    "client",
    "action",
    "route",
    "episode_id",
    "patient_id",
)


def _values(caller: Caller, access: Access, at: datetime) -> tuple[Any, ...]:
    """An access-log row's values, in `_COLUMNS` order."""
    return (
        at,
        access.service,
        caller.user,
        caller.role.value,
        caller.org,
        caller.client,
        access.action.value,
        access.route,
        access.episode_id,
        access.patient_id,
    )


@dataclass(frozen=True)
class LogStatement:
    """SQL that writes one access-log row, alone or as a CTE of a larger statement, and its parameters."""

    sql: str
    computed: frozenset[str]
    next_parameter: int  # the first parameter number after those of `sql`, for what follows it in a statement

    def parameters(self, caller: Caller, access: Access, at: datetime) -> list[Any]:
        """The row's values for the parameters of `sql`, in order; the computed columns take none."""
        values = zip(_COLUMNS, _values(caller, access, at), strict=True)
        return [value for column, value in values if column not in self.computed]


def log_statement(first_parameter: int = 1, source: str = "", **computed: str) -> LogStatement:
    """`INSERT INTO access_log (…) SELECT …`: each column is the next parameter from `$first_parameter` on,
    except those in `computed`, given as SQL (e.g. `patient_id="owner.patient_id"`, a column of another CTE);
    `source` follows the select list (e.g. "FROM owner"). A statement that finds what the row needs (the
    episode's patient) can so write the row too, instead of the row costing a round trip of its own."""
    if unknown := computed.keys() - set(_COLUMNS):
        raise ValueError(f"not access_log columns: {sorted(unknown)}")
    numbers = itertools.count(first_parameter)
    select = ", ".join(computed[column] if column in computed else f"${next(numbers)}" for column in _COLUMNS)
    sql = f"INSERT INTO access_log ({', '.join(_COLUMNS)}) SELECT {select} {source}"
    return LogStatement(sql.rstrip(), frozenset(computed), next(numbers))


_ONE_ROW = log_statement()


async def log_access(conn: asyncpg.Connection, caller: Caller, access: Access, at: datetime) -> None:
    await conn.execute(_ONE_ROW.sql, *_ONE_ROW.parameters(caller, access, at))


class AccessLogEntry(BaseModel):
    at: datetime
    service: str
    actor_user: str
    actor_role: str
    actor_org: str
    client: str | None
    action: str
    route: str
    episode_id: uuid.UUID


async def entries_for_episodes(conn: asyncpg.Connection, episode_ids: list[uuid.UUID]) -> list[AccessLogEntry]:
    rows = await conn.fetch(
        "SELECT at, service, actor_user, actor_role, actor_org, client, action, route, episode_id"
        " FROM access_log WHERE episode_id = ANY($1::uuid[]) ORDER BY at, id",
        episode_ids,
    )
    return [AccessLogEntry(**dict(r)) for r in rows]


OwnerLookup = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[tuple[str | None, str | None] | None]]


def access_log_router(owners: OwnerLookup) -> APIRouter:
    """`GET /v1/access-log?episode_id=…`: the episode's practice, or another Ruggengraat service (the
    patient-level listing at intake gathers from every service)."""
    router = APIRouter(prefix="/v1/access-log", tags=["access log"])

    @router.get(
        "",
        operation_id="list_access_log",
        response_model=list[AccessLogEntry],
        responses={404: {"description": "An episode is not known, or not the caller's"}},
    )
    async def list_access_log(
        runtime: RuntimeDep,
        caller: Annotated[Caller, allow(Role.PRACTICE, Role.SERVICE)],
        episode_id: Annotated[list[uuid.UUID], Query(min_length=1, max_length=100)],
    ) -> list[AccessLogEntry]:
        """NEN 7513: who read or changed these episodes' data through this service, and when."""
        async with runtime.pool.acquire() as conn:
            if caller.role is not Role.SERVICE:
                for episode in episode_id:
                    parties = await owners(conn, episode)
                    if parties is None:
                        raise episode_not_found(episode)
                    require_episode_access(caller, episode, *parties)
            return await entries_for_episodes(conn, episode_id)

    return router
