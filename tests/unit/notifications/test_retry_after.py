"""Retry-After as a receiver writes it (RFC 9110 §10.2.3): delay-seconds or an HTTP-date in any of its forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cloudevents.core.bindings.http import HTTPMessage

from services.notifications.delivery_loop.sender import AddressGuard, post
from services.notifications.domain.retry_policy import parse_retry_after

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("value", "delay"),
    [
        ("10", timedelta(seconds=10)),
        (" 120 ", timedelta(seconds=120)),
        ("0", timedelta(0)),
        ("Mon, 23 Nov 2026 10:00:10 GMT", timedelta(seconds=10)),  # IMF-fixdate, the preferred form
        ("Monday, 23-Nov-26 10:00:10 GMT", timedelta(seconds=10)),  # obsolete RFC 850 form
        ("Mon Nov 23 10:00:10 2026", timedelta(seconds=10)),  # obsolete asctime form: no zone, yet UTC
        ("Mon, 23 Nov 2026 10:00:10 -0000", timedelta(seconds=10)),
        ("Mon, 23 Nov 2026 11:00:10 +0100", timedelta(seconds=10)),
        ("Mon, 23 Nov 2026 09:59:00 GMT", timedelta(0)),  # already past: now
    ],
)
def test_both_forms_read_as_a_delay_from_now(value: str, delay: timedelta):
    assert parse_retry_after(value, NOW) == delay


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "-5", "1.5", "10s", "+10", "Mon, 99 Foo 2026"])
def test_what_is_neither_form_is_no_retry_after(value: str | None):
    assert parse_retry_after(value, NOW) is None


@pytest.mark.parametrize("digits", [13, 30, 5000])
def test_an_absurdly_long_delay_reads_as_very_long_not_as_an_error(digits: int):
    delay = parse_retry_after("9" * digits, NOW)
    assert delay is not None and delay >= timedelta(days=3650)


async def test_an_answer_with_an_absurd_retry_after_is_a_failed_attempt_that_says_when():
    """Before, `timedelta(seconds=int("9" * 30))` raised OverflowError out of post(): the lane task died
    without recording the attempt, and the scheduler started it again at once, over and over."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "9" * 30})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        attempt = await post(
            client, AddressGuard(allow_loopback=True), "http://127.0.0.1:9/hook", HTTPMessage({}, b"{}"), 1.0
        )
    assert attempt.status_code == 503 and not attempt.delivered
    assert attempt.retry_after is not None and attempt.retry_after >= timedelta(days=3650)


async def test_an_http_date_is_read_against_real_time():
    when = datetime.now(UTC) + timedelta(seconds=30)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        attempt = await post(
            client, AddressGuard(allow_loopback=True), "http://127.0.0.1:9/hook", HTTPMessage({}, b"{}"), 1.0
        )
    assert attempt.retry_after is not None
    assert timedelta(seconds=28) <= attempt.retry_after <= timedelta(seconds=30)
