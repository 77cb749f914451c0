"""The pytest plugin (entry point `pytest11`): fixtures for an integrator's own test suite.

- `ruggengraat` (session): the system. With `RUGGENGRAAT_INTAKE_URL` set, the one running there (see
  `connected`); otherwise the four services started for the session (see `started`) and stopped after it.
- `referrer_client`, `practice_client`, `subscriber_client` (session): a `Caller` per role, acting for the
  verwijzer, the practice, and the GP system's subscriber (scope `referrer:<AGB>`; its id from
  `RUGGENGRAAT_SUBSCRIBER`, default `gp-system-<AGB>`).
- `ruggengraat_sink` (session): a `WebhookSink` subscribed to every event type for the verwijzer's episodes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ruggengraat.testing.sink import WebhookSink
from ruggengraat.testing.system import Caller, Ruggengraat, connected, started


@pytest.fixture(scope="session")
def ruggengraat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ruggengraat]:
    if os.environ.get("RUGGENGRAAT_INTAKE_URL"):
        with connected() as running:
            yield running
    else:
        with started(tmp_path_factory.mktemp("ruggengraat")) as running:
            yield running


@pytest.fixture(scope="session")
def referrer_client(ruggengraat: Ruggengraat) -> Caller:
    return ruggengraat.caller("referrer", ruggengraat.referrer_agb)


@pytest.fixture(scope="session")
def practice_client(ruggengraat: Ruggengraat) -> Caller:
    return ruggengraat.caller("practice", ruggengraat.practice_agb)


@pytest.fixture(scope="session")
def subscriber_client(ruggengraat: Ruggengraat) -> Caller:
    subscriber = os.environ.get("RUGGENGRAAT_SUBSCRIBER", f"gp-system-{ruggengraat.referrer_agb}")
    return ruggengraat.caller("subscriber", subscriber, scope=f"referrer:{ruggengraat.referrer_agb}")


@pytest.fixture(scope="session")
def ruggengraat_sink(subscriber_client: Caller) -> Iterator[WebhookSink]:
    from shared.events import REGISTRY

    sink = WebhookSink()
    try:
        types = [model.event_type for model in REGISTRY.subscribable()]
        subscription = sink.subscribe(subscriber_client.notifications, types)
        try:
            yield sink
        finally:
            subscriber_client.notifications.delete(f"/v1/subscriptions/{subscription['subscription_id']}")
    finally:
        sink.close()
