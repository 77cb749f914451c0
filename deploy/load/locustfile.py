"""Load test of a Ruggengraat installation with Locust: GP and practice systems driving episodes, and GP
systems' subscribers reading catch-up pages and acknowledging escalations.

The mix, per GP-and-practice user: referrals (a share as FHIR ServiceRequests), then each episode's history,
assessment, intake measurement, treatment plan, sessions, evaluation measurement and closing, in order (a
normal, a deviating or a radicular course, the last escalated to the verwijzer); between them the practice
reads the pathway's decisions and the letters. Per subscriber user (one in five): a subscription whose signed
deliveries reach a sink inside this process (verified with Standard Webhooks, counted as `WEBHOOK <type>`
requests with the event's age on arrival as their time), catch-up pages read from where it was, and its open
escalations acknowledged.

Environment (defaults: the local system of `./ruggengraat up` / `demo`):
  RUGGENGRAAT_INTAKE_URL, _PATHWAY_URL, _REPORTING_URL, _NOTIFICATIONS_URL   http://127.0.0.1:8001 … 8004
  RUGGENGRAAT_JWT_SECRET        signs a token per role and organisation (the development secret when unset)
  RUGGENGRAAT_TOKEN_PRACTICE, _REFERRER, _SUBSCRIBER   tokens to use instead (then give one AGB each below)
  RUGGENGRAAT_PRACTICE_AGBS, RUGGENGRAAT_REFERRER_AGBS  comma-separated AGB codes to spread episodes over
  RUGGENGRAAT_FHIR_SHARE        share of referrals sent as FHIR ServiceRequest (0.25)
  RUGGENGRAAT_SINK_LISTEN       host:port the webhook sink listens on (127.0.0.1:0, a free port)
  RUGGENGRAAT_SINK_URL          the sink's URL as the installation reaches it (default: where it listens)

Headless, with CSV and HTML reports (exit code 1 when any request failed):
  .venv/bin/locust -f deploy/load/locustfile.py --headless -u 20 -r 5 -t 2m --csv load --html load.html
With Locust's web UI: .venv/bin/locust -f deploy/load/locustfile.py, then open http://localhost:8089.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from gevent.pywsgi import WSGIServer
from locust import HttpUser, between, events, task
from locust.runners import MasterRunner
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.auth import DEVELOPMENT_SECRET, Role, issue_token

URLS = {
    name: os.environ.get(f"RUGGENGRAAT_{name.upper()}_URL", f"http://127.0.0.1:{port}").rstrip("/")
    for name, port in (("intake", 8001), ("pathway", 8002), ("reporting", 8003), ("notifications", 8004))
}
PRACTICES = os.environ.get("RUGGENGRAAT_PRACTICE_AGBS", "04123456,04222222,04333333").split(",")
REFERRERS = os.environ.get("RUGGENGRAAT_REFERRER_AGBS", "01234567,01222222").split(",")
FHIR_SHARE = float(os.environ.get("RUGGENGRAAT_FHIR_SHARE", "0.25"))
AGB_SYSTEM = "http://fhir.nl/fhir/NamingSystem/agb-z"
SUBSCRIBED = [
    f"nl.ruggengraat.{t}"
    for t in (
        "intake.ReferralReceived",
        "pathway.BeloopClassified",
        "pathway.TreatmentPlanProposed",
        "pathway.EvaluationScheduled",
        "pathway.EscalatedToReferrer",
        "reporting.ReportSent",
    )
]

NORMAL = {
    "complaints": "decreasing",
    "rest_moments_per_day": "decreasing",
    "analgesic_use": "stopped",
    "activities_or_participation_resumed": True,
    "asks_for_specialist_care": False,
    "activities_participation_increased": True,
}
DEVIATING = {
    "complaints": "same",
    "rest_moments_per_day": "increasing",
    "analgesic_use": "continuing",
    "activities_or_participation_resumed": False,
    "asks_for_specialist_care": False,
    "activities_participation_increased": False,
}
CARE = {"weight_or_nutrition_concern": False, "pain_medication_questions": False, "work_problems": False}
WITHIN = {
    "general_illness_signs": [],
    "radicular_signs_suspected": False,
    "neurological_exam": None,
    "specific_cause_suspected": False,
}
RADICULAR = {
    **WITHIN,
    "radicular_signs_suspected": True,
    "neurological_exam": {
        "lasegue_positive": True,
        "muscle_strength_reduced": False,
        "sensibility_disturbed": False,
        "tendon_reflexes_abnormal": False,
    },
}


def token(role: str, org: str, scope: str | None = None) -> str:
    given = os.environ.get(f"RUGGENGRAAT_TOKEN_{role.upper()}")
    secret = os.environ.get("RUGGENGRAAT_JWT_SECRET", DEVELOPMENT_SECRET)
    return given or issue_token(secret, Role(role), org, f"load-{role}", scope=scope, ttl=timedelta(days=1))


def bearer(role: str, org: str, scope: str | None = None) -> dict[str, str]:
    return {"authorization": f"Bearer {token(role, org, scope)}"}


def random_bsn() -> str:
    while True:
        prefix = f"{random.randrange(10_000_000, 99_999_999):08d}"
        total = sum(int(d) * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
        if total % 11 < 10 and total != total % 11:
            return prefix + str(total % 11)


def referral(practice: str, referrer: str, onset_days: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "referral_id": f"LOAD-{uuid.uuid4().hex[:12]}",
        "route": "gp_referral",
        "practice_agb": practice,
        "referrer_agb": referrer,
        "referred_on": today.isoformat(),
        "symptom_onset": (today - timedelta(days=onset_days)).isoformat(),
        "patient": {"name": "L. Belasting", "bsn": random_bsn(), "birth_date": "1972-03-14"},
        "request_for_help": "Weer kunnen werken zonder rugpijn.",
        "reason": "Lage rugpijn zonder rode vlaggen.",
    }


def service_request(body: dict[str, Any]) -> dict[str, Any]:
    """The same referral as the FHIR R4 ServiceRequest a GP system sends."""
    return {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "urn:oid:2.16.528.1.1007.3.3.1234567.1", "value": body["referral_id"]}],
        "status": "active",
        "intent": "order",
        "subject": {"reference": "#p"},
        "authoredOn": body["referred_on"],
        "requester": {"identifier": {"system": AGB_SYSTEM, "value": body["referrer_agb"]}},
        "performer": [{"identifier": {"system": AGB_SYSTEM, "value": body["practice_agb"]}}],
        "reasonCode": [{"text": body["reason"]}],
        "note": [{"text": body["request_for_help"]}],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": body["patient"]["bsn"]}],
                "name": [{"text": body["patient"]["name"]}],
                "birthDate": body["patient"]["birth_date"],
            }
        ],
    }


def episode_steps(course: str, onset_days: int) -> list[tuple[str, dict[str, Any]]]:
    """What the practice records after the referral, in order, for a normal, deviating or radicular course."""
    today = datetime.now(UTC).date()
    day = today.isoformat()
    history = {
        "taken_on": day,
        "onset_date": (today - timedelta(days=onset_days)).isoformat(),
        "course": NORMAL if course == "normal" else DEVIATING,
        "care_context": CARE,
    }
    if course == "radicular":
        return [
            ("history", history),
            ("assessment", {"assessed_on": day, "scope": RADICULAR}),
            ("closing", {"closed_on": day, "reason": "escalated_to_verwijzer"}),
        ]
    modality = "information_advice" if course == "normal" else "exercise_therapy"
    sessions = 2 if course == "normal" else 5

    def measured(occasion: str, score: int, nprs: int) -> dict[str, Any]:
        body = {"occasion": occasion, "measurement": {"taken_on": day, "qbpds": {"items": [score] * 20}, "nprs": nprs}}
        return body | ({"evaluation_number": 1} if occasion == "evaluation" else {})

    plan = {
        "agreed_on": day,
        "start_date": day,
        "planned_sessions": sessions,
        "interventions": [{"modality": modality, "main_component": True}],
    }
    return [
        ("history", history),
        ("assessment", {"assessed_on": day, "scope": WITHIN}),
        ("measurements", measured("intake", 3, 6)),
        ("treatment-plan", plan),
        *[("sessions", {"session_on": day})] * (sessions - 1),
        ("measurements", measured("evaluation", 1, 3)),
        ("sessions", {"session_on": day}),
        ("closing", {"closed_on": day, "reason": "goals_met"}),
    ]


class GpAndPractice(HttpUser):
    """A GP system refers; the practice's system records each episode's steps and reads decisions and letters."""

    host = URLS["intake"]
    weight = 4
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.episodes: list[dict[str, Any]] = []

    @task(2)
    def refer(self) -> None:
        practice, referrer = random.choice(PRACTICES), random.choice(REFERRERS)
        course = random.choices(("normal", "deviating", "radicular"), weights=(5, 4, 1))[0]
        onset_days = {"normal": 20, "deviating": 100, "radicular": 30}[course]
        body = referral(practice, referrer, onset_days)
        fhir = random.random() < FHIR_SHARE
        content_type = "application/fhir+json" if fhir else "application/json"
        headers = {**bearer("referrer", referrer), "content-type": content_type}
        content = json.dumps(service_request(body) if fhir else body)
        name = "/v1/referrals (FHIR)" if fhir else "/v1/referrals"
        with self.client.post("/v1/referrals", data=content, headers=headers, name=name, catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            created = r.json()
        self.episodes.append(
            {
                "id": created["episode_id"],
                "version": created["version"],
                "practice": practice,
                "steps": episode_steps(course, onset_days),
            }
        )

    @task(12)
    def record_next_step(self) -> None:
        if not self.episodes:
            return self.refer()
        episode = random.choice(self.episodes)
        command, body = episode["steps"].pop(0)
        headers = {
            **bearer("practice", episode["practice"]),
            "If-Match": f'"{episode["version"]}"',
            "Idempotency-Key": str(uuid.uuid4()),
        }
        path = f"/v1/episodes/{episode['id']}/{command}"
        name = f"/v1/episodes/[id]/{command}"
        with self.client.post(path, json=body, headers=headers, name=name, catch_response=True) as r:
            if r.status_code not in (200, 201):
                r.failure(f"{r.status_code}: {r.text[:200]}")
                self.episodes.remove(episode)
                return
            episode["version"] = r.json()["version"]
        if not episode["steps"]:
            self.episodes.remove(episode)

    @task(3)
    def read_decisions(self) -> None:
        self._read("pathway", "/v1/episodes/{}", "/v1/episodes/[id] (pathway)")

    @task(1)
    def read_letters(self) -> None:
        self._read("reporting", "/v1/episodes/{}/letters", "/v1/episodes/[id]/letters")

    def _read(self, service: str, path: str, name: str) -> None:
        """A read by the practice; 404 while the service has not yet seen the episode's referral is no failure."""
        if not self.episodes:
            return
        episode = random.choice(self.episodes)
        url = URLS[service] + path.format(episode["id"])
        headers = bearer("practice", episode["practice"])
        with self.client.get(url, headers=headers, name=name, catch_response=True) as r:
            if r.status_code in (200, 404):
                r.success()
            else:
                r.failure(f"{r.status_code}: {r.text[:200]}")


class GpSubscriber(HttpUser):
    """A GP system's subscription: deliveries to the sink, catch-up pages, escalations acknowledged."""

    host = URLS["notifications"]
    weight = 1
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        referrer = random.choice(REFERRERS)
        self.headers = bearer("subscriber", f"load-gp-{uuid.uuid4().hex[:8]}", scope=f"referrer:{referrer}")
        self.since = 0
        self.subscription = None
        path = f"/hooks/{uuid.uuid4().hex}"
        body = {"endpoint_url": SINK.url + path, "event_types": SUBSCRIBED}
        with self.client.post("/v1/subscriptions", json=body, headers=self.headers, catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            self.subscription = r.json()["subscription_id"]
            SINK.secrets[path] = r.json()["secret"]

    def on_stop(self) -> None:
        if self.subscription is not None:
            self.client.delete(
                f"/v1/subscriptions/{self.subscription}", headers=self.headers, name="/v1/subscriptions/[id]"
            )

    @task(4)
    def catch_up(self) -> None:
        """Read pages from where this subscriber was, up to five per turn."""
        if self.subscription is None:
            return
        for _ in range(5):
            page = self.client.get(
                f"/v1/subscriptions/{self.subscription}/events",
                params={"since_sequence": self.since, "limit": 50},
                headers=self.headers,
                name="/v1/subscriptions/[id]/events",
            )
            if page.status_code != 200:
                return
            body = page.json()
            if body["events"]:
                self.since = body["events"][-1]["sequence"]
            if body["next_since_sequence"] is None:
                return

    @task(1)
    def acknowledge_escalations(self) -> None:
        open_ones = self.client.get("/v1/escalations", headers=self.headers)
        if open_ones.status_code != 200:
            return
        for escalation in open_ones.json():
            self.client.post(
                f"/v1/escalations/{escalation['event_id']}/acknowledge",
                headers=self.headers,
                name="/v1/escalations/[id]/acknowledge",
            )


class Sink:
    """The subscribers' webhook endpoint in this process: verifies each delivery with its subscription's secret
    and reports it to Locust (a bad signature is a failed request)."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.url = ""
        self.server: WSGIServer | None = None

    def start(self, environment) -> None:
        host, _, port = os.environ.get("RUGGENGRAAT_SINK_LISTEN", "127.0.0.1:0").rpartition(":")
        self.environment = environment
        self.server = WSGIServer((host, int(port)), self.app, log=None)
        self.server.start()
        bound = f"http://{host}:{self.server.server_port}"
        self.url = os.environ.get("RUGGENGRAAT_SINK_URL", bound).rstrip("/")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(timeout=2)

    def app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        body = environ["wsgi.input"].read()
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        secret = self.secrets.get(path)
        if secret is None:  # a delivery ahead of the subscription's answer: it comes again
            start_response("503 Service Unavailable", [("retry-after", "1")])
            return [b""]
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError as error:
            self._report("invalid signature", 0.0, len(body), error)
            start_response("401 Unauthorized", [])
            return [b""]
        event = from_http_event(HTTPMessage(headers=headers, body=body))
        occurred = event.get_time() or datetime.now(UTC)
        age_ms = (datetime.now(UTC) - occurred.replace(tzinfo=occurred.tzinfo or UTC)).total_seconds() * 1000
        self._report(event.get_type().rsplit(".", 1)[-1], max(age_ms, 0.0), len(body))
        start_response("204 No Content", [])
        return [b""]

    def _report(self, name: str, milliseconds: float, length: int, error: Exception | None = None) -> None:
        self.environment.events.request.fire(
            request_type="WEBHOOK",
            name=name,
            response_time=milliseconds,
            response_length=length,
            exception=error,
            context={},
        )


SINK = Sink()


@events.init.add_listener
def _start_sink(environment, **_: Any) -> None:
    if not isinstance(environment.runner, MasterRunner):
        SINK.start(environment)


@events.quit.add_listener
def _stop_sink(**_: Any) -> None:
    SINK.stop()
