"""A webhook receiver as a GP or practice system would run it: verifies Standard Webhooks signatures,
parses each request with the CloudEvents SDK, and keeps each event once (dedupe by CloudEvent id).

Used by the demo and by the tests as a real HTTP peer; `PUT /_config` sets the secret and how it answers.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class ReceiverConfig(BaseModel):
    secret: str | None = None
    fail_next: int = 0  # answer the next N deliveries with `fail_status`
    fail_status: int = 500
    retry_after: int | None = None


def create_receiver() -> FastAPI:
    app = FastAPI(title="webhook receiver")
    lock = threading.Lock()
    state: dict[str, Any] = {"config": ReceiverConfig(), "events": {}, "order": [], "attempts": 0, "rejected": 0}

    @app.put("/_config")
    async def configure(config: ReceiverConfig) -> dict[str, str]:
        with lock:
            state["config"] = config
        return {"status": "ok"}

    @app.get("/_received")
    async def received() -> dict[str, Any]:
        with lock:
            return {
                "events": [state["events"][i] for i in state["order"]],
                "attempts": state["attempts"],
                "rejected": state["rejected"],
            }

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        with lock:
            state["attempts"] += 1
            config: ReceiverConfig = state["config"]
            if config.secret is None:
                state["rejected"] += 1
                return Response(status_code=503)
            try:
                Webhook(config.secret).verify(body, headers)
            except WebhookVerificationError:
                state["rejected"] += 1
                return Response("bad signature", status_code=401)
            if config.fail_next > 0:
                state["config"] = config.model_copy(update={"fail_next": config.fail_next - 1})
                extra = {"retry-after": str(config.retry_after)} if config.retry_after is not None else {}
                return Response(status_code=config.fail_status, headers=extra)
            event = from_http_event(HTTPMessage(headers=headers, body=body))
            event_id = event.get_id()
            if event_id not in state["events"]:
                state["events"][event_id] = {
                    "id": event_id,
                    "type": event.get_type(),
                    "subject": event.get_subject(),
                    "sequence": int(headers.get("ruggengraat-sequence", "0")),
                    "data": event.get_data(),
                }
                state["order"].append(event_id)
        return Response(status_code=204)

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_receiver(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
