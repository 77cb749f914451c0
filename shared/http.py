"""HTTP pieces every service has: problem+json errors (RFC 9457), request body limits, /health, /ready,
/metrics."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import DATABASE_UNAVAILABLE
from shared.logging import correlation, get_logger
from shared.store.event_store import ConcurrencyConflict, VersionNotCurrent

PROBLEM = "application/problem+json"
# What a 503 for an unreachable database asks the caller to wait: the services reconnect by themselves, and
# a PostgreSQL restart or failover takes seconds.
DATABASE_RETRY_AFTER_SECONDS = 5
# The most a request body may hold unless its route says otherwise (a service's `body_limits`): every
# command is a small JSON document; a 20 MB body would otherwise be read whole before it is refused.
DEFAULT_BODY_LIMIT = 256 * 1024

log = get_logger(__name__)


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class DomainRejected(Exception):
    """A command the current state does not allow (→ 422), with the field it concerns when there is one."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


CORRELATION_HEADER = "x-correlation-id"


def install_correlation(app: FastAPI) -> None:
    """Every request gets a correlation id (the caller's, when it sends a valid one), bound to every log line
    and to the events the request appends, and echoed in the response."""
    app.add_middleware(CorrelationMiddleware)


class CorrelationMiddleware:
    """Plain ASGI (Starlette's BaseHTTPMiddleware costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(CORRELATION_HEADER, "")
        try:
            correlation_id = uuid.UUID(given)
        except ValueError:
            correlation_id = uuid.uuid4()
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        echoed = str(correlation_id).encode()

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (CORRELATION_HEADER.encode(), echoed)]
            await send(message)

        with correlation(str(correlation_id)):
            await self.app(scope, receive, send_with_header)


class BodyLimitMiddleware:
    """Request bodies no larger than their route accepts: `limits` by path template (a service's
    `body_limits`), DEFAULT_BODY_LIMIT elsewhere. A `Content-Length` above it is answered 413 problem+json
    before the app runs; a body sent without one (chunked) is counted as it is read, and the read that passes
    the limit raises a 413 HTTPException, which the problem handler answers. (The server itself holds a body
    with a `Content-Length` to that length.)"""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limits = [(compile_path(path)[0], limit) for path, limit in limits.items()]
        self.smallest = min([DEFAULT_BODY_LIMIT, *limits.values()])

    def limit_of(self, path: str) -> int:
        return next((limit for regex, limit in self.limits if regex.match(path)), DEFAULT_BODY_LIMIT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.smallest:
            limit = self.limit_of(scope["path"])
            if int(length) > limit:
                detail = f"the body has {int(length)} bytes; at most {limit} are read"
                await problem(413, "Content Too Large", detail)(scope, receive, send)
                return
        elif b"transfer-encoding" in headers:
            receive = _counted(receive, self.limit_of(scope["path"]))
        await self.app(scope, receive, send)


def _counted(receive: Receive, limit: int) -> Receive:
    read = 0

    async def counting() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > limit:
                raise StarletteHTTPException(413, f"the body is larger than the {limit} bytes this route reads")
        return message

    return counting


def correlation_id_of(request: Request) -> uuid.UUID:
    return getattr(request.state, "correlation_id", None) or uuid.uuid4()


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body") or "body", "reason": e["msg"]}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else None
        response = problem(error.status_code, _title(error.status_code), detail)
        response.headers.update(error.headers or {})  # Retry-After, WWW-Authenticate: what the raiser set
        return response

    @app.exception_handler(ConcurrencyConflict)
    async def _conflict(request: Request, error: ConcurrencyConflict) -> JSONResponse:
        extra = {"current_version": error.actual_version} if error.actual_version is not None else {}
        return problem(409, "Concurrent change", str(error), **extra)

    @app.exception_handler(VersionNotCurrent)
    async def _precondition_failed(request: Request, error: VersionNotCurrent) -> JSONResponse:
        # RFC 9110 13.1.1: a failed If-Match is a 412; the ETag says the version to read and decide on.
        detail = f"The episode is at version {error.actual_version}, not {error.expected_version}: read it again"
        response = problem(412, "Precondition Failed", detail, current_version=error.actual_version)
        response.headers["etag"] = f'"{error.actual_version}"'
        return response

    async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("http.database_unavailable", path=request.url.path, error=repr(error))
        response = problem(
            503,
            "Service Unavailable",
            "The database cannot be reached right now; nothing was changed. Try again after Retry-After seconds.",
        )
        response.headers["retry-after"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    for error_class in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error_class, _database_unavailable)

    @app.exception_handler(DomainRejected)
    async def _rejected(request: Request, error: DomainRejected) -> JSONResponse:
        errors = [{"field": error.field, "reason": error.reason}] if error.field else []
        return problem(422, "Not allowed in the episode's current state", error.reason, errors=errors)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_JSON: dict[str, Any] = {"content": {"application/json": {}}}  # /health and /ready answer their checks, not a problem


def install_http_metrics(app: FastAPI) -> None:
    """Requests per route (the path template, never an id), method and status, and their latency:
    `ruggengraat_http_requests_total` and `ruggengraat_http_request_duration_seconds`, by
    prometheus-fastapi-instrumentator. The probes and /metrics itself are left out; a path no route matches
    is not counted (it would make a series per probed URL)."""
    Instrumentator(
        should_group_status_codes=False,
        should_ignore_untemplated=True,
        excluded_handlers=["/health", "/ready", "/metrics"],
    ).add(_http_metrics()).instrument(app)


@functools.cache
def _http_metrics() -> Callable[[metrics.Info], None]:
    """The library's default HTTP metrics, made once per process: every app built in it (tests build many)
    counts into the same series, where a second set would be refused as a duplicate and count nothing."""
    made = metrics.default(metric_namespace="ruggengraat")
    assert made is not None
    return made


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", operation_id="health", responses={503: {"description": "A loop has stalled", **_JSON}})
    async def health(request: Request) -> Response:
        """Liveness: no loop of the service has had work without progress for `LOOP_STALL_SECONDS` (a
        database or broker outage is no stall; `/ready` says that). 503 asks the orchestrator to restart."""
        liveness = request.app.state.runtime.liveness()
        status = 503 if liveness["stalled"] else 200
        return JSONResponse({"status": "ok" if status == 200 else "stalled", **liveness}, status)

    @router.get("/ready", operation_id="ready", responses={503: {"description": "A dependency is down", **_JSON}})
    async def ready(request: Request) -> Response:
        """Readiness: Postgres and the broker answer, the consumer (if any) has joined its group, and no loop
        is failing."""
        checks = await request.app.state.runtime.readiness()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"status": "ready" if status == 200 else "not ready", "checks": checks}, status)

    @router.get("/metrics", operation_id="metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        await request.app.state.runtime.refresh_metrics()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON Schema with its `$defs` inlined, for hand-written OpenAPI request bodies (where a
    `#/$defs/...` reference would point into the OpenAPI document itself and dangle)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    inlined: dict[str, Any] = resolve(schema)
    return inlined
