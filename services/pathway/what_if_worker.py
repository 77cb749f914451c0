"""The what-if's heavy part, run where it does not hold up the service: re-deciding a chunk of episodes under the
protocols that were in force and under a draft (`domain.what_if`), from rows as the store read them. A top-level
function of plain, picklable arguments, so a process pool can run it beside the service's event loop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from services.pathway.domain.episode_decisions import RulesCache
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL, AdoptedProtocol, Protocol, in_force
from services.pathway.domain.what_if import EpisodeDifference, compare, replay
from services.pathway.store.history import HistoryRow, decode_histories
from shared.events import REGISTRY


def redecide(
    rows: Sequence[HistoryRow], adopted: list[AdoptedProtocol], as_written: Protocol, draft: Protocol, now: datetime
) -> list[EpisodeDifference]:
    """What `draft` changes for each episode in `rows` (`as_written`: the guideline's values with the service's
    overdue grace, in force before the network adopted a protocol)."""

    def recorded_on(day: date) -> Protocol:
        protocol = in_force(adopted, day)
        return as_written if protocol is GUIDELINE_PROTOCOL else protocol

    def draft_on(_: date) -> Protocol:
        return draft

    rules = RulesCache()
    return [
        compare(episode, replay(episode, recorded_on, now, rules), replay(episode, draft_on, now, rules))
        for episode in decode_histories(rows, REGISTRY)
    ]
