"""Whether a consumed event can be fanned out to subscriptions now, or must wait.

Notifications reads two topics; a pathway event can arrive before the intake event that caused it.
- Without the episode's parties (known from `ReferralReceived`) nobody can be told which subscriber it is
  for: it waits for them, however long it takes.
- An event never overtakes an earlier event of the same episode from the same source that is waiting.
- An event whose cause has not been fanned out yet waits for it, but only up to a deadline: a cause that
  never reaches this service (another topic, a dead-lettered record) must not hold an event for ever.
"""

from __future__ import annotations

from enum import StrEnum


class HoldReason(StrEnum):
    PARTIES = "parties"
    ORDER = "order"
    CAUSE = "cause"


def hold_reason(
    *,
    parties_known: bool,
    earlier_of_same_source_held: bool,
    cause_pending: bool,
    cause_deadline_passed: bool = False,
) -> HoldReason | None:
    if not parties_known:
        return HoldReason.PARTIES
    if earlier_of_same_source_held:
        return HoldReason.ORDER
    if cause_pending and not cause_deadline_passed:
        return HoldReason.CAUSE
    return None
