"""A webhook receiver as a GP or practice system would run it: verifies Standard Webhooks signatures,
parses each request with the CloudEvents SDK, and keeps each event once (dedupe by CloudEvent id).

Used by the demo, the tests and the benchmark as a real HTTP peer. `POST /hook` is the default endpoint;
`POST /hook/{name}` gives any number of independent endpoints (own secret, behaviour and store) in one
process. `PUT /_config[/{name}]` sets the secret and how it answers, `GET /_received[/{name}]` shows what
it kept, `GET /_attempts[/{name}]` every request it got (with the raw request, to replay or tamper with).
With `--store FILE` the kept events survive a restart (an idempotent store on disk, one JSON line each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from deploy.local import free_port, kill_process, stop_process, wait_for_port

DEFAULT = "default"


class ReceiverConfig(BaseModel):
    secret: str | None = None
    fail_next: int = 0  # answer the next N deliveries with `fail_status`
    fail_status: int = 500
    retry_after: int | None = None
    delay_seconds: float = 0.0  # answer this much later (a slow endpoint)


@dataclass
class Endpoint:
    config: ReceiverConfig = field(default_factory=ReceiverConfig)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    attempts: int = 0
    rejected: int = 0
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20_000))


def create_receiver(store: Path | None = None) -> FastAPI:
    app = FastAPI(title="webhook receiver")
    lock = threading.Lock()
    endpoints: dict[str, Endpoint] = {}

    def endpoint(name: str) -> Endpoint:
        return endpoints.setdefault(name, Endpoint())

    if store is not None and store.exists():
        for line in store.read_text().splitlines():
            if line.strip():
                kept = json.loads(line)
                target = endpoint(kept.pop("endpoint"))
                if kept["id"] not in target.events:
                    target.events[kept["id"]] = kept
                    target.order.append(kept["id"])

    def keep(name: str, event: dict[str, Any]) -> None:
        target = endpoint(name)
        target.events[event["id"]] = event
        target.order.append(event["id"])
        if store is not None:
            with store.open("a") as out:
                out.write(json.dumps({"endpoint": name, **event}) + "\n")

    async def configure(config: ReceiverConfig, name: str = DEFAULT) -> dict[str, str]:
        with lock:
            endpoint(name).config = config
        return {"status": "ok"}

    async def received(name: str = DEFAULT) -> dict[str, Any]:
        with lock:
            target = endpoint(name)
            return {
                "events": [target.events[i] for i in target.order],
                "attempts": target.attempts,
                "rejected": target.rejected,
            }

    async def attempts(name: str = DEFAULT) -> dict[str, Any]:
        with lock:
            return {"attempts": list(endpoint(name).log)}

    async def hook(request: Request, name: str = DEFAULT) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        arrived = time.time()
        with lock:
            config = endpoint(name).config
        if config.delay_seconds > 0:
            await asyncio.sleep(config.delay_seconds)
        with lock:
            status, answer = _answer(endpoint(name), config, body, headers, arrived, lambda e: keep(name, e))
        return answer if answer is not None else Response(status_code=status)

    app.put("/_config")(configure)
    app.put("/_config/{name}")(configure)
    app.get("/_received")(received)
    app.get("/_received/{name}")(received)
    app.get("/_attempts")(attempts)
    app.get("/_attempts/{name}")(attempts)
    app.post("/hook")(hook)
    app.post("/hook/{name}")(hook)
    return app


def _answer(target: Endpoint, config: ReceiverConfig, body: bytes, headers: dict[str, str], arrived: float, keep):
    target.attempts += 1
    entry: dict[str, Any] = {
        "at": arrived,
        "webhook_id": headers.get("webhook-id"),
        "sequence": int(headers.get("ruggengraat-sequence", "0")),
        "request": {"headers": headers, "body": body.decode(errors="replace")},
    }
    target.log.append(entry)

    def answer(status: int, text: str = "", extra: dict[str, str] | None = None) -> tuple[int, Response]:
        entry["status"] = status
        return status, Response(text, status_code=status, headers=extra)

    if config.secret is None:
        target.rejected += 1
        return answer(503)
    try:
        Webhook(config.secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        target.rejected += 1
        entry["verified"] = False
        return answer(401, "bad signature")
    entry["verified"] = True
    if config.fail_next > 0:
        target.config = config.model_copy(update={"fail_next": config.fail_next - 1})
        extra = {"retry-after": str(config.retry_after)} if config.retry_after is not None else None
        return answer(config.fail_status, extra=extra)
    event = from_http_event(HTTPMessage(headers=headers, body=body))
    event_id = event.get_id()
    entry["event_id"] = event_id
    if event_id not in target.events:
        keep(
            {
                "id": event_id,
                "type": event.get_type(),
                "subject": event.get_subject(),
                "sequence": int(headers.get("ruggengraat-sequence", "0")),
                "mode": "binary" if "ce-id" in headers else "structured",
                "time": event_time.isoformat() if (event_time := event.get_time()) else None,
                "causationid": event.get_extension("causationid"),
                "received_at": arrived,
                "data": event.get_data(),
            }
        )
    return answer(204)


class ReceiverProcess:
    """This receiver as its own process (tests, benchmark); it can be stopped and started again on one port."""

    def __init__(self, run_dir: Path, name: str = "receiver", *, store: bool = True) -> None:
        self.port = free_port()
        self.log_path = run_dir / f"{name}.log"
        self.store = run_dir / f"{name}.jsonl" if store else None
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        args = [sys.executable, "-m", "deploy.receiver", "--port", str(self.port)]
        if self.store is not None:
            args += ["--store", str(self.store)]
        self.process = subprocess.Popen(
            args,
            stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # noqa: SIM115
        )
        wait_for_port("127.0.0.1", self.port, 20)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            kill_process(self.process)
            self.process = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        return f"{self.base}/hook/{name}"

    def configure(self, name: str, **config: Any) -> None:
        httpx.put(f"{self.base}/_config/{name}", json=config).raise_for_status()

    def received(self, name: str) -> dict[str, Any]:
        return httpx.get(f"{self.base}/_received/{name}").json()

    def attempts(self, name: str) -> list[dict[str, Any]]:
        return httpx.get(f"{self.base}/_attempts/{name}").json()["attempts"]

    def post(self, name: str, headers: dict[str, str], body: bytes) -> int:
        return httpx.post(self.url(name), headers=headers, content=body).status_code


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, default=None, help="keep received events in this file")
    args = parser.parse_args()
    uvicorn.run(create_receiver(args.store), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
