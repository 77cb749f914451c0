"""What the operator's page says of a service it cannot ask: unreachable with the reason, never an empty status;
and what it reads of one that answers, with the operator's token passed on."""

from __future__ import annotations

import httpx
import pytest

from deploy.local import free_port
from services.notifications import peers as peers_module
from services.notifications.peers import Peers, PeerUnreachable, practice_attention, statuses

STATUS = {
    "service": "pathway",
    "ready": False,
    "live": True,
    "checks": {"postgres": False, "broker": True},
    "loops": [],
    "relay_topic": "pathway.events",
    "relay_lag": 12,
    "consumer": None,
}


async def test_a_service_without_an_address_or_an_answer_is_unreachable_with_the_reason():
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    cards = await statuses(Peers({"intake": closed, "pathway": closed}, timeout=2), "Bearer t")
    assert [(c.service, c.status) for c in cards] == [
        ("intake", None),
        ("pathway", None),
        ("reporting", None),
        ("notifications", None),
    ]
    assert cards[0].error == "intake cannot be reached: ConnectError"
    assert cards[2].error == "reporting cannot be reached: no address in PEER_URLS"
    assert await practice_attention(Peers({}), "Bearer t") == (
        None,
        "pathway cannot be reached: no address in PEER_URLS",
    )
    with pytest.raises(PeerUnreachable):
        await Peers({}).call("intake", "GET", "/v1/operations/status", "Bearer t")


async def test_statuses_are_read_with_the_operators_token_and_a_refusal_is_named(monkeypatch):
    seen: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["authorization"]))
        if request.url.host == "pathway":
            return httpx.Response(200, json=STATUS)
        return httpx.Response(403, json={"detail": "operators only"})

    real_client = httpx.AsyncClient
    monkeypatch.setattr(
        peers_module.httpx,
        "AsyncClient",
        lambda **kwargs: real_client(transport=httpx.MockTransport(answer), **kwargs),
    )
    urls = {name: f"http://{name}" for name in ("intake", "pathway", "reporting", "notifications")}
    cards = await statuses(Peers(urls), "Bearer operator-token")
    pathway = next(c for c in cards if c.service == "pathway")
    assert pathway.status is not None and (pathway.status.relay_lag, pathway.status.checks["postgres"]) == (12, False)
    assert next(c for c in cards if c.service == "intake").error == "intake answered 403"
    assert sorted(seen) == sorted((f"{url}/v1/operations/status", "Bearer operator-token") for url in urls.values())
