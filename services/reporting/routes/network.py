"""The network's quality figures over HTTP: JSON and CSV for callers with a token, the yearly visitation
report per practice (JSON and PDF), the dashboard page, and its way to the network's protocol page (on the
pathway).

HTTP ↔ `handlers.read_network_cells`; the report, CSV and visitation report are summed from those cells in
`domain.network` and rendered in `documents`. Access is decided by `access.network_scope`, never by the page:
the network role sees every practice; a practice sees only its own figures (asking for another practice is
403). The page and its scripts (`documents/dashboard/`) hold no data and are open.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.responses import RedirectResponse

from services.reporting import access
from services.reporting.documents.network.quality_csv import to_csv
from services.reporting.documents.network.visitation_pdf import render_visitation_pdf
from services.reporting.domain.network.counts import PublishedCell
from services.reporting.domain.network.figures import QualityReport, build_report
from services.reporting.domain.network.visitation import Visitation, visitation
from services.reporting.handlers import read_network_cells
from services.reporting.routes.dependencies import NetworkReaderDep, Reporting
from services.reporting.settings import ReportingSettings
from shared.pages import static_page_router
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1/network", tags=["network"])

MONTH = r"^20\d{2}-(0[1-9]|1[0-2])$"  # 2000–2099, as the visitation year: a year 1000 asked 12,000 months of trend
MAX_MONTHS = 120  # the longest period one request covers: ten years of trends
FromMonth = Annotated[
    str | None, Query(alias="from", pattern=MONTH, description="First month of referral, YYYY-MM (inclusive).")
]
ToMonth = Annotated[str | None, Query(alias="to", pattern=MONTH, description="Last month of referral, YYYY-MM.")]
Practice = Annotated[str | None, Query(pattern=r"^\d{8}$", description="AGB code of one practice.")]
Language = Annotated[Literal["nl", "en"], Query(alias="lang", description="Language of headings: nl or en.")]
PracticePath = Annotated[str, Path(pattern=r"^\d{8}$", description="AGB code of the practice.")]
Year = Annotated[int, Query(ge=2000, le=2100, description="Calendar year of referral.")]


def _month(value: str | None) -> date | None:
    return date.fromisoformat(f"{value}-01") if value else None


def _scope(reader: Reporting, practice: str | None) -> access.NetworkScope:
    scope = access.network_scope(reader.caller, practice)
    if scope is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a practice sees only its own figures")
    return scope


async def _cells(reader: Reporting, first: date | None, last: date | None) -> list[PublishedCell]:
    """Every practice's published cells in the period: the network's reference and the funnels need them
    all, and each figure is a sum of them (never of raw data)."""
    return await read_network_cells(reader.store, first, last)


async def _report(
    reader: Reporting, period_from: str | None, period_to: str | None, practice: str | None
) -> QualityReport:
    first, last = _month(period_from), _month(period_to)
    if first and last and first > last:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "to: must not be before from")
    if first and last and (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"to: a period spans at most {MAX_MONTHS} months")
    scope = _scope(reader, practice)
    return build_report(
        await _cells(reader, first, last),
        scope="network" if scope.network else "practice",
        period=(first, last),
        practice=scope.practice,
        visible=scope.visible,
    )


@router.get("/quality", operation_id="get_network_quality", response_model=QualityReport)
async def quality(
    reader: NetworkReaderDep,
    period_from: FromMonth = None,
    period_to: ToMonth = None,
    practice: Practice = None,
) -> QualityReport:
    """Quality figures per practice and month of referral, per practice, the network, trends and funnels;
    every count rounded to a multiple of 5 (controlled rounding)."""
    return await _report(reader, period_from, period_to, practice)


@router.get(
    "/quality.csv",
    operation_id="get_network_quality_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The same figures as CSV"}},
)
async def quality_csv(
    reader: NetworkReaderDep,
    period_from: FromMonth = None,
    period_to: ToMonth = None,
    practice: Practice = None,
    language: Language = "nl",
) -> Response:
    """The same figures as CSV: per practice and month, per practice over the period, and the network."""
    report = await _report(reader, period_from, period_to, practice)
    return Response(
        to_csv(report, language),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="network-quality.csv"'},
    )


async def _visitation(reader: Reporting, agb: str, year: int) -> Visitation:
    _scope(reader, agb)
    return visitation(await _cells(reader, date(year, 1, 1), date(year, 12, 1)), agb, year)


@router.get("/practices/{agb}/visitation.json", operation_id="get_practice_visitation_data", response_model=Visitation)
async def practice_visitation(reader: NetworkReaderDep, agb: PracticePath, year: Year) -> Visitation:
    """The data of the yearly visitation report: the practice's figures beside the network's."""
    return await _visitation(reader, agb, year)


@router.get(
    "/practices/{agb}/visitation",
    operation_id="get_practice_visitation",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The visitation report as PDF"}},
)
async def practice_visitation_pdf(
    reader: NetworkReaderDep, agb: PracticePath, year: Year, language: Language = "nl"
) -> Response:
    """The yearly visitation report of one practice as PDF, for the visiting peer and the practice."""
    report = await _visitation(reader, agb, year)
    return Response(
        render_visitation_pdf(report, language),
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="visitatie-{agb}-{year}.pdf"'},
    )


# The dashboard: the shell and its own scripts (`documents/dashboard/`), open; the figures come from the API.
page_router = static_page_router(
    "/network",
    resources.files("services.reporting.documents") / "dashboard",
    "network.html",
    ["chart.umd.min.js", "dashboard.js", "dashboard.css"],
    tag="network",
)


@page_router.get("/network/protocol", include_in_schema=False)
async def protocol_page(runtime: RuntimeDep) -> RedirectResponse:
    """The dashboard's link to the network's protocol and its "what if": a page of the pathway, which decides under
    the protocol (open, like the pages: it holds no data)."""
    settings = runtime.settings
    assert isinstance(settings, ReportingSettings)
    url = settings.protocol_page()
    if url is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the pathway's address is not configured (PROTOCOL_PAGE_URL)")
    return RedirectResponse(url, status.HTTP_307_TEMPORARY_REDIRECT)
