"""Notification delivery rules: retries span more than a day, Retry-After wins, endpoints are checked."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from services.notifications.domain import retry_policy
from services.notifications.domain.endpoints import check_endpoint_url


def test_retries_are_spread_over_more_than_24_hours():
    assert retry_policy.RetryPolicy(rng=random.Random(1)).total_span() > timedelta(hours=24)


def test_backoff_grows_and_is_capped_with_jitter():
    policy = retry_policy.RetryPolicy(rng=random.Random(1))
    delays = [policy.delay_after(a) for a in range(1, retry_policy.MAX_ATTEMPTS)]
    assert delays[0] < delays[3] < delays[6]
    assert max(delays) <= retry_policy.CAP * 1.2
    assert min(delays) >= retry_policy.BASE * 0.8


def test_the_retry_after_from_the_receiver_wins_longer_or_shorter():
    policy = retry_policy.RetryPolicy(rng=random.Random(1))
    assert policy.delay_after(1, timedelta(minutes=10)) == timedelta(minutes=10)
    assert policy.delay_after(8, timedelta(seconds=1)) == timedelta(seconds=1)


@pytest.mark.parametrize(
    ("url", "loopback_allowed", "refused_because"),
    [
        ("https://his.example.nl/hook", False, None),
        ("http://his.example.nl/hook", False, "https"),
        ("http://127.0.0.1:9000/hook", True, None),
        ("http://localhost:9000/hook", False, "development"),
        ("https://10.1.2.3/hook", False, "private"),
        ("https://169.254.169.254/latest", False, "link-local"),
        ("ftp://his.example.nl/hook", True, "http(s)"),
        ("not a url", True, "http(s)"),
    ],
)
def test_endpoint_urls_are_checked(url: str, loopback_allowed: bool, refused_because: str | None):
    reason = check_endpoint_url(url, allow_loopback=loopback_allowed)
    if refused_because is None:
        assert reason is None
    else:
        assert reason is not None and refused_because in reason
