"""The network's protocol page in a real browser (Debian's Chromium, headless, driven by Playwright), served by the
pathway as a process on real Postgres and broker, over episodes the real consumer recorded: the network sees the
guideline as written in force, tries a draft with evaluations every four weeks on June's referrals and gets the
rounded figures per practice; a period the rules refuse shows the reason; a practice sees its own episodes that
would differ. Screenshots are left in .run/protocol-page/."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from shared.clock import ManualClock
from shared.db import open_service_database
from tests.e2e.conftest import page_token, running_system
from tests.integration.pathway_flow.recording import OWN, record_cohort

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / ".run" / "protocol-page"


async def try_draft(page: Page, start: str = "2026-06", end: str = "2026-06") -> None:
    """Fill the draft form (evaluations every four weeks) for a period, and run it."""
    await page.fill("#version", "vier-weken")
    await page.fill("#evaluation_interval_days", "28")
    await page.fill("#from", start)
    await page.fill("#to", end)
    await page.click("#run")


async def test_the_network_and_a_practice_try_a_draft_protocol_on_history_in_the_page(
    fresh_database, infrastructure, tmp_path, chromium: BrowserContext
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path, services=("pathway",)) as system:
        pool = await open_service_database(fresh_database, "pathway", [])
        try:
            await record_cohort(pool, ManualClock(datetime(2026, 6, 1, tzinfo=UTC)), {0: 12, 1: 3}, date(2026, 6, 2))
        finally:
            await pool.close()
        base = system.url("pathway")

        page = await chromium.new_page()
        await page.goto(f"{base}/network/protocol?token={page_token('network', 'regio-west')}")
        await expect(page.locator("#in-force")).to_contain_text("geen netwerkprotocol vastgesteld")
        await expect(page.locator("#evaluation_interval_days")).to_have_value("21")
        await try_draft(page)
        await expect(page.locator("#status")).to_contain_text("Doorgerekend")
        rows = page.locator("#practices tbody tr")
        await expect(rows.last).to_contain_text("Netwerk")
        own_row = page.locator("#practices tbody tr", has_text=OWN)
        cells = await own_row.locator("td").all_inner_texts()
        assert int(cells[1]) in (10, 15) and int(cells[5]) in (10, 15)  # episodes, with an evaluation moved
        assert all(int(c) % 5 == 0 for c in cells[1:])
        await expect(page.locator("#own")).to_be_hidden()
        await page.screenshot(path=str(SHOTS / "network-what-if.png"), full_page=True)

        await page.fill("#from", "2026-07")
        await page.fill("#to", "2026-06")
        await page.click("#run")
        await expect(page.locator("#status")).to_contain_text("must lie 1 to 24 months after from")

        practice = await chromium.new_page()
        await practice.goto(f"{base}/network/protocol?token={page_token('practice', OWN)}")
        await expect(practice.locator("#evaluation_interval_days")).to_have_value("21")
        await try_draft(practice)
        await expect(practice.locator("#own")).to_be_visible()
        await expect(practice.locator("#episodes tbody tr")).to_have_count(12)
        await expect(practice.locator("#episodes tbody tr").first).to_contain_text("1: ")
        await expect(practice.locator("#practices tbody tr", has_text="04120001")).to_have_count(0)
        await practice.screenshot(path=str(SHOTS / "practice-what-if.png"), full_page=True)
