"""The network's quality figures over HTTP: JSON and CSV for callers with a token, and the dashboard page.

Access is decided here, never by the page: the network role sees every practice; a practice sees only its
own figures (asking for another practice is 403). The page and its scripts hold no data and are open.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from services.reporting.network import store
from services.reporting.network.figures import SMALL_COUNT_THRESHOLD, QualityRow, quality_rows, to_csv
from shared.auth import Caller, Role, allow
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1/network", tags=["network"])
page_router = APIRouter(tags=["network"])

MONTH = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"  # a real year: 0000 is no date
CallerDep = Annotated[Caller, allow(Role.NETWORK, Role.PRACTICE)]
FromMonth = Annotated[
    str | None, Query(alias="from", pattern=MONTH, description="First month of referral, YYYY-MM (inclusive).")
]
ToMonth = Annotated[str | None, Query(alias="to", pattern=MONTH, description="Last month of referral, YYYY-MM.")]
Practice = Annotated[str | None, Query(pattern=r"^\d{8}$", description="AGB code of one practice.")]


class QualityReport(BaseModel):
    scope: Literal["network", "practice"]
    period_from: str | None
    period_to: str | None
    practice: str | None
    suppression_threshold: int
    rows: list[QualityRow]


def _month(value: str | None) -> date | None:
    return date.fromisoformat(f"{value}-01") if value else None


async def _report(
    runtime: RuntimeDep, caller: Caller, period_from: str | None, period_to: str | None, practice: str | None
) -> QualityReport:
    first, last = _month(period_from), _month(period_to)
    if first and last and first > last:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "to: must not be before from")
    if caller.role is Role.PRACTICE:
        if practice is not None and practice != caller.org:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "a practice sees only its own figures")
        practice = caller.org
    async with runtime.pool.acquire() as conn:
        episodes = await store.summaries(conn, first, last, practice)
    return QualityReport(
        scope="network" if caller.role is Role.NETWORK else "practice",
        period_from=period_from,
        period_to=period_to,
        practice=practice,
        suppression_threshold=SMALL_COUNT_THRESHOLD,
        rows=quality_rows(episodes),
    )


@router.get("/quality", operation_id="get_network_quality", response_model=QualityReport)
async def quality(
    runtime: RuntimeDep,
    caller: CallerDep,
    period_from: FromMonth = None,
    period_to: ToMonth = None,
    practice: Practice = None,
) -> QualityReport:
    """Quality figures per practice and month of referral; counts of 1-4 shown as "<5"."""
    return await _report(runtime, caller, period_from, period_to, practice)


@router.get(
    "/quality.csv",
    operation_id="get_network_quality_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The same figures as CSV"}},
)
async def quality_csv(
    runtime: RuntimeDep,
    caller: CallerDep,
    period_from: FromMonth = None,
    period_to: ToMonth = None,
    practice: Practice = None,
) -> Response:
    """The same figures as CSV, one row per practice and month."""
    report = await _report(runtime, caller, period_from, period_to, practice)
    return Response(
        to_csv(report.rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="network-quality.csv"'},
    )


_STATIC = resources.files("services.reporting.network") / "static"
STATIC_FILES = {
    "chart.umd.min.js": "text/javascript; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
# The page loads only its own scripts and talks only to this service: no CDN, no inline script.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self';"
    " img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@page_router.get("/network", include_in_schema=False, response_class=HTMLResponse)
async def network_page() -> HTMLResponse:
    """The dashboard shell: no figures inside; its script fetches them with the coordinator's token."""
    html = (_STATIC / "network.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"content-security-policy": PAGE_POLICY, "cache-control": "no-store"})


@page_router.get("/network/static/{name}", include_in_schema=False)
async def network_static(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such file: {name}")
    return Response(
        (_STATIC / name).read_bytes(), media_type=media_type, headers={"cache-control": "public, max-age=3600"}
    )
