"""The dashboard in a real browser (Debian's Chromium, headless, driven by Playwright): a coordinator enters a
network token and reads the page in Dutch, filters on one practice, sees its small months marked in the
charts, switches to English, and gets a message for an empty period; without a token there are no figures,
and a practice's token cannot show another practice. Screenshots are left in .run/network-pages/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page

from tests.e2e.conftest import page_token
from tests.e2e.reporting_network.conftest import PRACTICE_A, PRACTICE_B, Cohort

pytestmark = pytest.mark.e2e

NETWORK_SERIES = (0x2F, 0x5D, 0x8A)  # dashboard.js NETWORK
SUPPRESSED_MARK = (0x6B, 0x6B, 0x6B)  # dashboard.js SUPPRESSED
CHARTS = [
    "chart-trend",
    "chart-funnel",
    "chart-adherence",
    "chart-mcic",
    "chart-change",
    "chart-duration",
    "chart-course",
]
#: where the run leaves its screenshots for a person to open
SHOTS = Path(__file__).resolve().parents[3] / ".run" / "network-pages"
RAW_CODES = re.compile(r"\b[a-z]+_[a-z_]+\b")


async def drawn_pixels(page: Page, canvas_id: str) -> int:
    """Pixels a chart painted on its (transparent) canvas."""
    return await page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
            return painted;
        }""",
        canvas_id,
    )


def colour_pixels(shot: bytes, colour: tuple[int, int, int]) -> int:
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    return sum(count for count, rgb in image.getcolors(maxcolors=1 << 22) or [] if rgb == colour)


async def test_a_coordinator_reads_the_page_in_dutch_filters_switches_to_english_and_sees_suppressed_marks(
    cohort: Cohort, chromium: BrowserContext
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = await chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    base = cohort.system.url("reporting")
    await page.goto(f"{base}/network")
    assert await page.get_attribute("body", "data-state") == "empty"
    assert await page.locator("#figures tr").count() == 0  # no token, no figures
    assert await page.get_attribute("html", "lang") == "nl"

    await page.fill("#token", page_token("network", "regio-test"))
    await page.click("#use-token")
    await page.wait_for_selector("body[data-state=drawn]")
    status = await page.inner_text("#status")
    assert status.startswith("Alle ") and "praktijken van het netwerk" in status and "episodes" in status
    text = await page.inner_text("body")
    assert "Kerncijfers" in text and "Trechterdiagram" in text and "afgerond op vijftallen" in text
    assert not RAW_CODES.findall(text), RAW_CODES.findall(text)[:5]  # no not_classifiable, no mcic_qbpds
    headings = await page.locator("#figures thead th").all_inner_texts()
    assert len(headings) == len(set(headings)), "two columns with one heading"
    for canvas in CHARTS:
        assert await drawn_pixels(page, canvas) > 2000, f"{canvas} is blank"
    await page.screenshot(path=str(SHOTS / "network-nl.png"), full_page=True)

    await page.select_option("#practice", PRACTICE_A)
    await page.click("#apply")
    await page.wait_for_selector(f"body[data-state=drawn][data-scope='{PRACTICE_A}']")
    assert (await page.inner_text("#status")).startswith(f"Praktijk {PRACTICE_A}")
    practices = await page.locator("#figures tbody tr:not(.total) td:first-child").all_inner_texts()
    assert practices and set(practices) == {PRACTICE_A}
    # a practice's months with fewer than 10 cases are marked in the charts, with their own legend entry
    marked = int(await page.get_attribute("#chart-trend", "data-suppressed") or 0)
    marked += int(await page.get_attribute("#chart-mcic", "data-suppressed") or 0)
    assert marked > 0, "no suppressed month marked: the cohort should have small practice-months"
    shot = await page.locator("#charts").screenshot(path=str(SHOTS / f"network-{PRACTICE_A}-nl.png"))
    assert colour_pixels(shot, SUPPRESSED_MARK) > 50, "the suppressed marks are not drawn"
    assert colour_pixels(shot, NETWORK_SERIES) > 2000, "no network line drawn"

    await page.click("[data-lang-choice=en]")
    await page.wait_for_selector("html[lang=en]")
    assert (await page.inner_text("#status")).startswith(f"Practice {PRACTICE_A}")
    assert "Key figures" in await page.inner_text("body") and "Kerncijfers" not in await page.inner_text("body")
    await page.screenshot(path=str(SHOTS / f"network-{PRACTICE_A}-en.png"), full_page=True)

    await page.fill("#from", "2030-01")
    await page.fill("#to", "2030-03")
    await page.click("#apply")
    await page.wait_for_selector("body[data-state=empty-period]")
    assert "No episodes in Jan 2030 – Mar 2030" in await page.inner_text("#status")
    assert not await page.locator("#charts").is_visible() and not await page.locator("#table-section").is_visible()
    await page.screenshot(path=str(SHOTS / "network-empty-en.png"))
    assert all(url.startswith(base) for url in requests), "the page loads nothing from elsewhere"
    assert errors == []

    # the link to the network's protocol and its "what if" opens that page on the pathway
    await page.click("a[href='/network/protocol']")
    await page.wait_for_url(f"{cohort.system.url('pathway')}/network/protocol")
    assert "protocol en “wat als”" in await page.inner_text("h1")


async def test_a_practice_token_shows_its_own_figures_and_not_another_practice(
    cohort: Cohort, chromium: BrowserContext
):
    page = await chromium.new_page()
    await page.goto(f"{cohort.system.url('reporting')}/network?token={page_token('practice', PRACTICE_B)}")
    await page.wait_for_selector("body[data-state=drawn]")
    assert "token=" not in page.url  # taken into sessionStorage, gone from the address bar
    practices = set(await page.locator("#figures tbody tr:not(.total) td:first-child").all_inner_texts())
    assert practices == {PRACTICE_B}
    # the page offers only what the API gave; asking for another practice anyway is refused by the API
    await page.evaluate(f"document.getElementById('practice').add(new Option('{PRACTICE_A}', '{PRACTICE_A}'))")
    await page.select_option("#practice", PRACTICE_A)
    await page.click("#apply")
    await page.wait_for_selector("body[data-state=error]")
    assert "mag u deze cijfers niet zien" in await page.inner_text("#status")
