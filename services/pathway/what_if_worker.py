"""The what-if's heavy part, run where it does not hold up the service: each episode of a chunk re-decided under a
draft (`domain.what_if.replay`) and compared with the decisions the pathway recorded, from rows as the store read
them. A top-level function of plain, picklable arguments, so a process pool can run it beside the service's event
loop."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from datetime import date, datetime

from services.pathway.domain.episode_decisions import RulesCache
from services.pathway.domain.protocol import Protocol
from services.pathway.domain.what_if import Cell, EpisodeDifference, PracticeCounts, compare, replay, summarise
from services.pathway.store.history import (
    HistoryRow,
    RecordedRow,
    decode_histories,
    decode_recorded,
    recorded_by_episode,
)
from shared.events import REGISTRY


def worker_started() -> None:
    """A worker process's start, with this module (and so all that re-deciding needs) imported: those long-lived
    objects are moved out of the cyclic collector's way (`gc.freeze`), which otherwise walks them again and again
    while a replay allocates; measured, a tenth of a worker's time."""
    gc.freeze()


def redecide(
    rows: Sequence[HistoryRow], recorded_rows: Sequence[RecordedRow], draft: Protocol, now: datetime, listed: bool
) -> tuple[dict[Cell, PracticeCounts], list[EpisodeDifference]]:
    """What `draft` changes for the episodes in `rows` (their intake events) against what was recorded for them
    (`recorded_rows`), up to `now`: the counts per practice and month, and — when `listed` — the episodes that
    would differ (only what is asked for goes back to the service)."""

    def draft_on(_: date) -> Protocol:
        return draft

    rules = RulesCache()
    recorded = recorded_by_episode(recorded_rows)
    differing: list[EpisodeDifference] = []

    def differences() -> Iterator[EpisodeDifference]:
        for episode in decode_histories(rows, REGISTRY):
            as_recorded = decode_recorded(recorded.get(episode.episode_id, []), REGISTRY)
            difference = compare(episode, as_recorded, replay(episode, draft_on, now, rules))
            if listed and difference.differs:
                differing.append(difference)
            yield difference

    return summarise(differences()), differing
