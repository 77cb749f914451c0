"""schemathesis against every service's published OpenAPI, with valid tokens of every role, a forged token
and none: no request may cause a 5xx, and no answer to a stranger may carry another practice's episode."""

from __future__ import annotations

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


async def test_no_route_answers_5xx_or_leaks_an_episode_to_a_stranger(fresh_database, infrastructure, tmp_path):
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
        assert failures == [], "\n".join(sorted(set(failures))[:20])


def fuzz(operation, service: str, base: str, secrets: list[str], failures: list[str]) -> None:
    """Generated requests for one operation, each sent as the owning practice and as every stranger."""

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
            # Bytes, not text: PDFs (letters, the visitation report) are answers too.
            if who != "own practice" and any(s.encode() in response.content for s in secrets):
                failures.append(f"{label}: leaked the episode")

    probe()
