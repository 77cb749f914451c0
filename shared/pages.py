"""The browser pages a service serves (the network dashboard, the operator's page): an HTML shell that holds no
data, and its own scripts and styles, under a content security policy that lets the page load only those and
talk only to the service that served it. The data comes from the service's API, with the token the person enters
in the page."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import HTMLResponse

# No CDN, no inline script; connections only to this service.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self';"
    " img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SHARED_ASSETS = resources.files("shared") / "page_assets"
SHARED_FILES = ("token.js",)  # the entered token, kept per tab (every page loads it before its own script)
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def static_page_router(path: str, folder: Traversable, html: str, files: Sequence[str], tag: str) -> APIRouter:
    """`GET {path}`: the shell `html` from `folder`; `GET {path}/static/{name}`: the page's own files, only those
    named in `files` (name → media type). Both open: they hold no data."""
    router = APIRouter(tags=[tag])

    @router.get(path, include_in_schema=False, response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        shell = (folder / html).read_text(encoding="utf-8")
        return HTMLResponse(shell, headers={"content-security-policy": PAGE_POLICY, "cache-control": "no-store"})

    @router.get(path + "/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        source = folder if name in files else SHARED_ASSETS if name in SHARED_FILES else None
        if source is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such file: {name}")
        return Response(
            (source / name).read_bytes(),
            media_type=MEDIA_TYPES[PurePosixPath(name).suffix],
            headers={"cache-control": "public, max-age=3600"},
        )

    return router
