"""Small helpers the tests share: callers' headers."""

from __future__ import annotations

from deploy.local import dev_headers

PRACTICE_AGB = "04123456"
OTHER_PRACTICE_AGB = "04999999"
REFERRER_AGB = "01234567"
OTHER_REFERRER_AGB = "01999999"


def practice(agb: str = PRACTICE_AGB) -> dict[str, str]:
    return dev_headers("practice", agb, user="fysio-test")


def referrer(agb: str = REFERRER_AGB) -> dict[str, str]:
    return dev_headers("referrer", agb, user="gp-test")


def subscriber(subscriber_id: str = "gp-his", scope: str | None = f"referrer:{REFERRER_AGB}") -> dict[str, str]:
    return dev_headers("subscriber", subscriber_id, scope=scope)
