"""The dashboard in a real browser (Debian's Chromium, headless, driven by Playwright): a coordinator enters a
network token, filters on one practice, and the charts are drawn; without a token there are no figures,
and a practice's token cannot show another practice."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page, async_playwright

from deploy.local import dev_headers
from tests.e2e.reporting_network.conftest import PRACTICE_A, PRACTICE_B, Cohort

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIRST_SERIES, SECOND_SERIES = (0x2F, 0x5D, 0x8A), (0xC0, 0x50, 0x4D)  # dashboard.js COLOURS[0], [1]
CHARTS = ["chart-duration", "chart-course", "chart-escalation", "chart-evaluations", "chart-sessions", "chart-mcic"]


def token(role: str, org: str) -> str:
    return dev_headers(role, org, user="coordinator")["authorization"].removeprefix("Bearer ")


@pytest.fixture
async def browser() -> AsyncIterator[BrowserContext]:
    profile = tempfile.mkdtemp(prefix="rg-chromium-")
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1400, "height": 1800}
            )
            try:
                yield context
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


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


async def test_a_coordinator_filters_on_a_practice_and_the_charts_are_drawn(cohort: Cohort, browser, tmp_path):
    page = await browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    base = cohort.system.url("reporting")
    await page.goto(f"{base}/network")
    assert await page.get_attribute("body", "data-state") == "empty"
    assert await page.locator("#figures tr").count() == 0  # no token, no figures

    await page.fill("#token", token("network", "regio-test"))
    await page.click("#use-token")
    await page.wait_for_selector("body[data-state=drawn]")
    await page.select_option("#practice", PRACTICE_A)
    await page.click("#apply")
    await page.wait_for_selector(f"body[data-state=drawn][data-scope='{PRACTICE_A}']")
    practices = await page.locator("#figures tbody tr td:first-child").all_inner_texts()
    assert practices and set(practices) == {PRACTICE_A}

    for canvas in CHARTS:
        assert await drawn_pixels(page, canvas) > 2000, f"{canvas} is blank"
    shot = await page.locator("#charts").screenshot(path=str(tmp_path / "network-dashboard.png"))
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    not_white = sum(count for count, rgb in colours if sum(rgb) < 3 * 240)
    assert len(colours) > 50 and not_white > image.width * image.height // 50, "the screenshot is blank"
    bars = sum(count for count, rgb in colours if rgb in (FIRST_SERIES, SECOND_SERIES))
    assert bars > 20_000, "no bars drawn"
    assert all(url.startswith(base) for url in requests), "the page loads nothing from elsewhere"


async def test_a_practice_token_shows_its_own_figures_and_not_another_practice(cohort: Cohort, browser):
    page = await browser.new_page()
    await page.goto(f"{cohort.system.url('reporting')}/network?token={token('practice', PRACTICE_B)}")
    await page.wait_for_selector("body[data-state=drawn]")
    assert "token=" not in page.url  # taken into sessionStorage, gone from the address bar
    practices = set(await page.locator("#figures tbody tr td:first-child").all_inner_texts())
    assert practices == {PRACTICE_B}
    # the page offers only what the API gave; asking for another practice anyway is refused by the API
    await page.evaluate(f"document.getElementById('practice').add(new Option('{PRACTICE_A}', '{PRACTICE_A}'))")
    await page.select_option("#practice", PRACTICE_A)
    await page.click("#apply")
    await page.wait_for_selector("body[data-state=error]")
    assert "may not see" in await page.inner_text("#status")
