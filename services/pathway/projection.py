"""The pathway's episode view: its own decisions folded into one row per episode.

A batch of the log loads the rows of the episodes it touches (`store.episodes.view_rows_for_update`), folds
the events in memory (`domain.episode_view.fold`, pure) and writes the rows back in one pipelined statement
(`store.episodes.save_view_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.pathway.domain.episode_view import ViewRow, fold
from services.pathway.store import episodes as store
from shared.events.payload import EventPayload
from shared.store.event_store import StoredEvent


class EpisodeView:
    name = "pathway.episode_view"
    tables: tuple[str, ...] = ("episode_view",)

    async def apply_batch(self, conn: asyncpg.Connection, events: Sequence[tuple[StoredEvent, EventPayload]]) -> None:
        events = [(event, payload) for event, payload in events if payload.about_episode]  # not the network's own
        episodes = list(dict.fromkeys(event.stream_id for event, _ in events))
        rows: dict[str, ViewRow] = await store.view_rows_for_update(conn, episodes)
        for event, payload in events:
            rows[event.stream_id] = fold(rows.get(event.stream_id), event, payload)
        await store.save_view_rows(conn, [rows[episode] for episode in episodes])
