"""A Ruggengraat to test against: started here (`started`) or already running elsewhere (`connected`), with a
client per role and helpers to send a referral as our JSON or as a FHIR ServiceRequest."""

from __future__ import annotations

import contextlib
import json
import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

SERVICES = ("intake", "pathway", "reporting", "notifications")
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"
BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"


class Caller:
    """One role acting for one organisation: an httpx client per service, each sending the caller's token."""

    def __init__(self, urls: dict[str, str], token: str) -> None:
        self.token = token
        headers = {"authorization": f"Bearer {token}"}
        clients = {name: httpx.Client(base_url=urls[name], headers=headers, timeout=30) for name in SERVICES}
        self.intake, self.pathway, self.reporting, self.notifications = (clients[name] for name in SERVICES)

    def close(self) -> None:
        for client in (self.intake, self.pathway, self.reporting, self.notifications):
            client.close()


class Ruggengraat:
    """The four services' URLs and the secret that signs the callers' tokens; the practice and verwijzer (AGB
    codes) the tests act for."""

    def __init__(
        self,
        urls: dict[str, str],
        jwt_secret: str,
        *,
        practice_agb: str = "04123456",
        referrer_agb: str = "01234567",
    ) -> None:
        self.urls = urls
        self.jwt_secret = jwt_secret
        self.practice_agb = practice_agb
        self.referrer_agb = referrer_agb
        self._callers: list[Caller] = []

    def token(self, role: str, org: str, *, user: str = "integrator-test", scope: str | None = None) -> str:
        from shared.auth import Role, issue_token

        return issue_token(self.jwt_secret, Role(role), org, user, scope=scope)

    def caller(self, role: str, org: str, *, scope: str | None = None) -> Caller:
        """Clients for `role` (practice, referrer, subscriber, network, operator) acting for `org`."""
        caller = Caller(self.urls, self.token(role, org, scope=scope))
        self._callers.append(caller)
        return caller

    def referral(self, **overrides: Any) -> dict[str, Any]:
        """A valid referral (our JSON) from the verwijzer to the practice: a new referral id and patient each time."""
        today = datetime.now(UTC).date().isoformat()
        body = {
            "referral_id": f"KIT-{uuid.uuid4().hex[:12]}",
            "route": "gp_referral",
            "practice_agb": self.practice_agb,
            "referrer_agb": self.referrer_agb,
            "referred_on": today,
            "patient": {"name": "J. Testpatiënt", "bsn": random_bsn(), "birth_date": "1970-05-17"},
            "request_for_help": "Weer kunnen fietsen",
            "reason": "Aspecifieke lage rugpijn",
        }
        return {**body, **overrides}

    def send_referral(self, body: dict[str, Any], caller: Caller) -> dict[str, Any]:
        """POST a referral, ours or a FHIR ServiceRequest (sent as application/fhir+json); the answer
        (`episode_id`, `patient_id`, `version`). AssertionError with the problem when it is not accepted."""
        fhir = body.get("resourceType") == "ServiceRequest"
        content_type = "application/fhir+json" if fhir else "application/json"
        response = caller.intake.post("/v1/referrals", content=json.dumps(body), headers={"content-type": content_type})
        if response.status_code not in (200, 201):
            raise AssertionError(f"referral refused: {response.status_code} {response.text}")
        return response.json()

    def close(self) -> None:
        for caller in self._callers:
            caller.close()
        self._callers.clear()

    def __enter__(self) -> Ruggengraat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def as_service_request(referral: dict[str, Any]) -> dict[str, Any]:
    """Our referral as the FHIR R4 ServiceRequest a GP system sends (with the patient contained)."""
    given, _, family = referral["patient"]["name"].rpartition(" ")
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "urn:oid:2.16.528.1.1007.3.3.1234567.1", "value": referral["referral_id"]}],
        "status": "active",
        "intent": "order",
        "subject": {"reference": "#patient"},
        "authoredOn": referral["referred_on"],
        "requester": {"identifier": {"system": AGB_SYSTEM, "value": referral["referrer_agb"]}},
        "performer": [{"identifier": {"system": AGB_SYSTEM, "value": referral["practice_agb"]}}],
        "reasonCode": [{"text": referral["reason"]}],
        "note": [{"text": referral["request_for_help"]}],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": BSN_SYSTEM, "value": referral["patient"]["bsn"]}],
                "name": [{"family": family, "given": [given]} if given else {"text": family}],
                "birthDate": referral["patient"]["birth_date"],
            }
        ],
    }
    return request


def random_bsn() -> str:
    """A random BSN that passes the elfproef (test data)."""
    while True:
        prefix = f"{random.randrange(10_000_000, 99_999_999):08d}"
        total = sum(int(d) * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
        if total % 11 < 10 and total != total % 11:
            return prefix + str(total % 11)


@contextlib.contextmanager
def started(run_dir: Path, **env: str) -> Iterator[Ruggengraat]:
    """The four services as processes, on PostgreSQL and a broker chosen as the project's own tests choose them
    (DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS, else testcontainers when a Docker engine answers, else embedded
    PostgreSQL and tansu); their logs in `run_dir`. Every process it starts, it stops."""
    from deploy.local import LocalSystem, chosen_infrastructure
    from shared.auth import DEVELOPMENT_SECRET

    with chosen_infrastructure(run_dir) as infrastructure:
        env = {"KAFKA_TOPIC_PREFIX": f"kit{uuid.uuid4().hex[:8]}.", **env}
        system = LocalSystem(infrastructure.database_url, infrastructure.bootstrap, run_dir, extra_env=env)
        try:
            system.start()
            with Ruggengraat({name: system.url(name) for name in SERVICES}, DEVELOPMENT_SECRET) as ruggengraat:
                yield ruggengraat
        finally:
            system.stop()


def connected() -> Ruggengraat:
    """A system already running elsewhere: `RUGGENGRAAT_<SERVICE>_URL` for each service, `RUGGENGRAAT_JWT_SECRET`
    (the installation's JWT_SECRET; the development one when unset), and the AGB codes to act for
    (`RUGGENGRAAT_PRACTICE_AGB`, `RUGGENGRAAT_REFERRER_AGB`)."""
    from shared.auth import DEVELOPMENT_SECRET

    names = {name: f"RUGGENGRAAT_{name.upper()}_URL" for name in SERVICES}
    missing = [variable for variable in names.values() if not os.environ.get(variable)]
    if missing:
        raise RuntimeError(f"a running Ruggengraat needs {', '.join(missing)}")
    return Ruggengraat(
        {name: os.environ[variable].rstrip("/") for name, variable in names.items()},
        os.environ.get("RUGGENGRAAT_JWT_SECRET", DEVELOPMENT_SECRET),
        practice_agb=os.environ.get("RUGGENGRAAT_PRACTICE_AGB", "04123456"),
        referrer_agb=os.environ.get("RUGGENGRAAT_REFERRER_AGB", "01234567"),
    )
