"""What a subscriber may do with its subscription in the state it is in: active, paused, or gone (the
endpoint answered 410 Gone; resuming brings it back)."""

from __future__ import annotations

ACTIVE = "active"
PAUSED = "paused"
GONE = "gone"


def pause_refusal(state: str) -> str | None:
    """Why a subscription in `state` cannot be paused; None when it can."""
    return "a deactivated subscription cannot be paused; resume it first" if state == GONE else None
