"""schemathesis against every service's published OpenAPI, with valid tokens of every role, a forged token
and none: no request may cause a 5xx or get an answer its operation does not document, and no answer to a
stranger may carry another practice's episode. Then the inputs that got through or cost too much before:
a 20 MB body and a referral dated years ahead."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from deploy.local import SERVICES, dev_headers
from tests.e2e.conftest import running_system
from tests.support import OTHER_PRACTICE_AGB, OTHER_REFERRER_AGB, patient, practice, referrer

pytestmark = pytest.mark.e2e

STRANGERS = {
    "other practice": dev_headers("practice", OTHER_PRACTICE_AGB),
    "other referrer": dev_headers("referrer", OTHER_REFERRER_AGB),
    "network": dev_headers("network", "network-1"),
    "subscriber": dev_headers("subscriber", "someone", scope=f"practice:{OTHER_PRACTICE_AGB}"),
    "operator": dev_headers("operator", "ops"),
    "service": dev_headers("service", "fuzzer"),
    "forged": {"authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoib3BlcmF0b3IifQ.c2lnbmF0dXJl"},
    "anonymous": {},
}


async def test_no_route_answers_5xx_or_undocumented_or_leaks_an_episode_to_a_stranger(
    fresh_database, infrastructure, tmp_path
):
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path) as system:
        created = httpx.post(
            f"{system.url('intake')}/v1/referrals",
            json={
                "referral_id": "FUZZ-1",
                "route": "gp_referral",
                "practice_agb": "04123456",
                "referrer_agb": "01234567",
                "referred_on": "2026-11-20",
                "patient": patient(7),
            },
            headers=referrer(),
        ).json()
        # The pseudonym may appear on the operator's retention list; the episode and identity never may.
        secrets = [created["episode_id"], patient(7)["bsn"], patient(7)["name"]]
        failures: list[str] = []
        operations = 0
        for service in SERVICES:
            base = system.url(service)
            schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
            for result in schema.get_all_operations():
                operations += 1
                fuzz(result.ok(), service, base, secrets, failures)
        assert operations >= 15
        assert failures == [], "\n".join(sorted(set(failures))[:80])
        refuses_a_huge_body_before_reading_it(system.url("intake"))
        refuses_a_referral_dated_in_the_future(system.url("intake"))


def fuzz(operation, service: str, base: str, secrets: list[str], failures: list[str]) -> None:
    """Generated requests for one operation, each sent as the owning practice and as every stranger."""
    documented = set(operation.definition.raw["responses"])

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def probe(case) -> None:
        for who, headers in [("own practice", practice()), *STRANGERS.items()]:
            response = case.call(base_url=base, headers={**(case.headers or {}), **headers}, timeout=10)
            label = f"{service} {case.method} {case.formatted_path} as {who}"
            if response.status_code >= 500:
                failures.append(f"{label}: {response.status_code}")
            elif str(response.status_code) not in documented:
                failures.append(f"{label}: {response.status_code} is not documented ({sorted(documented)})")
            # Bytes, not text: PDFs (letters, the visitation report) are answers too.
            if who != "own practice" and any(s.encode() in response.content for s in secrets):
                failures.append(f"{label}: leaked the episode")

    probe()


TWENTY_MB = 20 * 1024 * 1024


def refuses_a_huge_body_before_reading_it(intake: str) -> None:
    """A 20 MB body is refused from its Content-Length: the 413 arrives before one byte of it was sent."""
    address = urlsplit(intake)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        head = (
            f"POST /v1/referrals HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: application/json\r\n"
            f"Authorization: {referrer()['authorization']}\r\nContent-Length: {TWENTY_MB}\r\n\r\n"
        )
        connection.sendall(head.encode())
        answer = connection.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "content-type: application/problem+json" in answer.lower()

    def twenty_megabytes():  # chunked, no Content-Length: refused once the limit is passed
        for _ in range(20):
            yield b" " * (1024 * 1024)

    streamed = httpx.post(
        f"{intake}/v1/episodes/00000000-0000-0000-0000-000000000001/history",
        content=twenty_megabytes(),
        headers={**practice(), "content-type": "application/json"},
        timeout=30,
    )
    assert streamed.status_code == 413, streamed.text
    assert streamed.headers["content-type"] == "application/problem+json"


def refuses_a_referral_dated_in_the_future(intake: str) -> None:
    future = date.today() + timedelta(days=3 * 365)
    refused = httpx.post(
        f"{intake}/v1/referrals",
        json={
            "referral_id": "FUZZ-FUTURE",
            "route": "gp_referral",
            "practice_agb": "04123456",
            "referrer_agb": "01234567",
            "referred_on": future.isoformat(),
            "patient": patient(8),
        },
        headers=referrer(),
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["referred_on"]
