"""The pathway's episode tables: who may see each episode, its copy of intake's events, and the episode view.

Every function takes a connection (inside the caller's transaction where it writes) and issues one statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from services.pathway.access import Party
from services.pathway.domain.episode_view import COLUMNS, ViewRow
from shared.consumer.idempotent import ConsumedEvent
from shared.events.intake import EpisodeClosed, ReferralReceived

_PARTY_COLUMN: dict[Party, str] = {"practice": "practice_agb", "referrer": "referrer_agb"}


# Parties: the practice and the verwijzer, learned from the referral.


async def record_parties(conn: asyncpg.Connection, referrals: Sequence[tuple[str, ReferralReceived]]) -> None:
    """Keep the parties of each (episode id, referral); an episode's first referral decides."""
    if referrals:
        await conn.execute(
            "INSERT INTO episode_parties (episode_id, practice_agb, referrer_agb)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (episode_id) DO NOTHING",
            [episode_id for episode_id, _ in referrals],
            [referral.practice_agb for _, referral in referrals],
            [referral.referrer_agb for _, referral in referrals],
        )


async def parties_of(conn: asyncpg.Connection, episode_id: str) -> tuple[str, str | None] | None:
    """(practice AGB, referrer AGB) of the episode, or None for one the pathway does not know."""
    row = await conn.fetchrow(
        "SELECT practice_agb, referrer_agb FROM episode_parties WHERE episode_id = $1", episode_id
    )
    return (row["practice_agb"], row["referrer_agb"]) if row else None


async def parties_of_episodes(
    conn: asyncpg.Connection, episode_ids: Sequence[str]
) -> dict[str, tuple[str, str | None]]:
    """(practice AGB, referrer AGB) of each of these episodes the pathway knows."""
    rows = await conn.fetch(
        "SELECT episode_id, practice_agb, referrer_agb FROM episode_parties WHERE episode_id = ANY($1::text[])",
        list(episode_ids),
    )
    return {row["episode_id"]: (row["practice_agb"], row["referrer_agb"]) for row in rows}


# The pathway's copy of intake's events.


async def keep_intake_copies(conn: asyncpg.Connection, events: Sequence[ConsumedEvent]) -> None:
    """Copy the batch's intake events, in one statement; a copy kept before stays as it was."""
    await conn.execute(
        "INSERT INTO intake_events (episode_id, stream_version, event_id, event_type, data_version, occurred_at,"
        " data) SELECT e, v, i, t, d, o, j::jsonb"
        " FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::text[])"
        " AS c(e, v, i, t, d, o, j) ON CONFLICT DO NOTHING",
        [e.envelope.subject for e in events],
        [e.envelope.streamversion for e in events],
        [e.envelope.id for e in events],
        [e.envelope.type for e in events],
        [e.envelope.dataversion for e in events],
        [e.envelope.time for e in events],
        [json.dumps(e.envelope.data) for e in events],
    )


async def intake_events_of(conn: asyncpg.Connection, episode_ids: Sequence[str]) -> list[asyncpg.Record]:
    """The kept intake events of these episodes (episode id, stream version, occurred at, type, data version,
    data as JSON text), each episode's in stream order."""
    return await conn.fetch(
        "SELECT episode_id, stream_version, occurred_at, event_type, data_version, data::text AS data"
        " FROM intake_events WHERE episode_id = ANY($1::text[]) ORDER BY episode_id, stream_version",
        list(episode_ids),
    )


async def intake_facts_of(conn: asyncpg.Connection, episode_id: str) -> list[asyncpg.Record]:
    """What the timeline shows of the episode's intake events: id, type, time and stream version, no data."""
    return await conn.fetch(
        "SELECT event_id, event_type, occurred_at, stream_version FROM intake_events WHERE episode_id = $1",
        episode_id,
    )


# The episode view (the projection's table).

_SELECT_VIEW = f"SELECT {', '.join(COLUMNS)}, escalations::text AS escalations_json FROM episode_view"
_UPSERT_VIEW = (
    f"INSERT INTO episode_view ({', '.join(COLUMNS)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))})"
    " ON CONFLICT (episode_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "episode_id")
)


async def view_rows_for_update(conn: asyncpg.Connection, episode_ids: Sequence[str]) -> dict[str, ViewRow]:
    """The view rows of these episodes, locked until the caller's transaction ends."""
    rows: dict[str, ViewRow] = {}
    for record in await conn.fetch(
        f"{_SELECT_VIEW} WHERE episode_id = ANY($1::text[]) ORDER BY episode_id FOR UPDATE", list(episode_ids)
    ):
        values = {c: record[c] for c in COLUMNS}
        values.update(
            plan_components=list(values["plan_components"]),
            flagged_modalities=list(values["flagged_modalities"]),
            consults=list(values["consults"]),
            overdue_open=list(values["overdue_open"]),
            escalations=json.loads(record["escalations_json"]),
        )
        rows[record["episode_id"]] = ViewRow(**values)
    return rows


async def save_view_rows(conn: asyncpg.Connection, rows: Sequence[ViewRow]) -> None:
    """Insert or replace the rows, in one pipelined statement."""
    await conn.executemany(_UPSERT_VIEW, [_values(row) for row in rows])


def _values(row: ViewRow) -> tuple:
    """The row's values in `COLUMNS` order, escalations as JSON (a shallow read: `astuple` deep-copies every
    list, measured at 5 % of the pathway's CPU)."""
    return tuple(json.dumps(row.escalations) if c == "escalations" else getattr(row, c) for c in COLUMNS)


async def view_row_of(conn: asyncpg.Connection, episode_id: str) -> dict | None:
    """The episode's view row, its escalations decoded; None until the guideline decided anything."""
    row = await conn.fetchrow("SELECT * FROM episode_view WHERE episode_id = $1", episode_id)
    return None if row is None else {**dict(row), "escalations": json.loads(row["escalations"])}


async def open_escalations(conn: asyncpg.Connection, party: Party, agb: str) -> list[tuple[str, list[dict]]]:
    """(episode id, escalations) of every episode with escalations that `agb` is the `party` of (as
    `access.escalations_scope` decided) and that intake has not closed (no `EpisodeClosed` among the pathway's
    copies of its events), oldest activity first."""
    column = _PARTY_COLUMN[party]
    rows = await conn.fetch(
        f"SELECT v.episode_id, v.escalations::text AS escalations FROM episode_view v"
        f" JOIN episode_parties p USING (episode_id)"
        f" WHERE p.{column} = $1 AND jsonb_array_length(v.escalations) > 0"
        f" AND NOT EXISTS (SELECT 1 FROM intake_events c WHERE c.episode_id = v.episode_id AND c.event_type = $2)"
        f" ORDER BY v.last_event_at",
        agb,
        EpisodeClosed.event_type,
    )
    return [(row["episode_id"], json.loads(row["escalations"])) for row in rows]


async def attention_by_practice(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Per practice with any, among its episodes intake has not closed: those with an escalation, and the
    evaluations gone overdue and not recorded since (the episode view's `overdue_open`), by AGB code."""
    return list(
        await conn.fetch(
            "SELECT p.practice_agb,"
            " count(*) FILTER (WHERE jsonb_array_length(v.escalations) > 0) AS open_escalations,"
            " coalesce(sum(cardinality(v.overdue_open)), 0)::int AS overdue_evaluations"
            " FROM episode_view v JOIN episode_parties p USING (episode_id)"
            " WHERE (jsonb_array_length(v.escalations) > 0 OR cardinality(v.overdue_open) > 0)"
            " AND NOT EXISTS (SELECT 1 FROM intake_events c WHERE c.episode_id = v.episode_id AND c.event_type = $1)"
            " GROUP BY p.practice_agb ORDER BY p.practice_agb",
            EpisodeClosed.event_type,
        )
    )


async def is_closed(conn: asyncpg.Connection, episode_id: str) -> bool:
    """Whether intake closed the episode: an `EpisodeClosed` among the pathway's copies of its events."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM intake_events WHERE episode_id = $1 AND event_type = $2)",
            episode_id,
            EpisodeClosed.event_type,
        )
    )
