"""The published OpenAPI of every service, and its docs page served from this process alone.

FastAPI documents the success answers; what every route can also answer is added here once, from what the
route declares: a bearer token (401, 403), a path parameter (404), an `If-Match` header (412, and 409), parameters or a
body (422), a body (413), and the database (503). Each error answer is problem+json (RFC 9457). The docs page
(`/docs`) loads Swagger UI from the `swagger-ui-bundle-v2` package, so it works without reaching any CDN.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from shared.http import DEFAULT_BODY_LIMIT, PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Problem Details for HTTP APIs (RFC 9457).",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem; about:blank when none."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "The fields at fault, each with what is wrong with it.",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                "additionalProperties": True,
            },
        },
    },
    "additionalProperties": True,
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

ERROR_DESCRIPTIONS = {
    401: "No bearer token, or one that is invalid or expired (`WWW-Authenticate: Bearer`)",
    403: "The token's role may not use this route, or not for this organisation",
    404: "Not known, or not visible to the caller",
    409: "Other requests kept changing the episode while this one was decided; nothing changed; send it again",
    412: "The episode is no longer at the version in If-Match: read it again (the answer names `current_version`)",
    413: "The request body is larger than this route accepts",
    422: "Invalid request: the fields at fault are named in `errors`",
    503: "The database (or a service this one asks) cannot be reached; nothing changed; try again after Retry-After",
}
# The headers those answers carry (shared/auth.py, shared/http.py, and intake's answers when it is away).
ERROR_HEADERS = {
    "401": {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    "412": {"ETag": {"description": 'The episode\'s current version, e.g. `"3"`', "schema": {"type": "string"}}},
    "503": {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}},
}
DOCS_ASSETS = "/docs/assets"


def error_statuses(operation: dict[str, Any]) -> set[int]:
    """What an operation can answer besides its own documented answers, from what it declares."""
    parameters = operation.get("parameters", [])
    statuses = {503}
    if operation.get("security"):
        statuses |= {401, 403}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if any(p["in"] == "header" and p["name"].lower() == "if-match" for p in parameters):
        statuses |= {409, 412}
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.add(413)
    return statuses


def complete(document: dict[str, Any], body_limits: Mapping[str, int]) -> dict[str, Any]:
    """Every operation's error answers, each with the problem+json schema; FastAPI's own validation error
    schemas give way to it (the services answer 422 as problem+json). A 413 says the route's limit."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(operation):
                responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
            if "413" in responses:
                limit = body_limits.get(path, DEFAULT_BODY_LIMIT)
                responses["413"]["description"] = f"{ERROR_DESCRIPTIONS[413]}: {limit} bytes"
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                content = response.get("content", {})
                if status == "422" or not content:
                    # FastAPI's 422 (HTTPValidationError) is not what the services send.
                    response["content"] = {PROBLEM: {**content.get(PROBLEM, {}), "schema": PROBLEM_REF}}
                elif PROBLEM in content:
                    content[PROBLEM].setdefault("schema", PROBLEM_REF)
                if PROBLEM in response["content"] and status in ERROR_HEADERS:
                    response.setdefault("headers", ERROR_HEADERS[status])
    return document


def install_openapi(app: FastAPI, body_limits: Mapping[str, int]) -> None:
    """The completed document at /openapi.json and Swagger UI at /docs with its assets from this process.
    The app is made with `docs_url=None, redoc_url=None` (FastAPI's own pages load from a CDN)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    servers=app.servers,
                ),
                body_limits,
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon-32x32.png",
            # No validator badge: Swagger UI would fetch it from validator.swagger.io.
            swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
        )
