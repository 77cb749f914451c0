"""The operator's page in a real browser (Debian's Chromium, headless, driven by Playwright), on the four services
as processes with the real broker and Postgres: a record no consumer can read lands in the dead letters; the
operator enters a token, sees every service ready, the dead letter in each consuming service and a GP system's
subscription with its backlog; re-drives the letter from the page (it fails again, as a record that cannot be read
does), discards it with a reason, and pauses the subscription. Each service keeps who acted. Screenshots are left
in .run/operations-page/."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer
from playwright.async_api import BrowserContext, expect

from deploy.local import dev_headers
from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.support import gp_referral, referrer, subscriber

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / ".run" / "operations-page"
OPERATOR = dev_headers("operator", "ops", user="nadia")
CONSUMERS = ("pathway", "reporting", "notifications")


def operator_token() -> str:
    return OPERATOR["authorization"].removeprefix("Bearer ")


async def test_an_operator_redrives_and_discards_a_dead_letter_and_pauses_a_subscription_from_the_page(
    fresh_database, infrastructure, tmp_path, chromium: BrowserContext
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path) as system:
        async with httpx.AsyncClient(timeout=30) as client:
            down = "http://127.0.0.1:9/hook"  # nothing listens: the delivery waits
            created = await client.post(
                f"{system.url('notifications')}/v1/subscriptions",
                json={"endpoint_url": down, "event_types": ["nl.ruggengraat.intake.ReferralReceived"]},
                headers=subscriber(),
            )
            assert created.status_code == 201, created.text
            referral = gp_referral("HIS-OPS-1", 11, "Weer kunnen tuinieren")
            posted = await client.post(f"{system.url('intake')}/v1/referrals", json=referral, headers=referrer())
            assert posted.status_code == 201, posted.text

            # A record nobody can read, on intake's topic (the relay made it for the referral).
            topic = system.extra_env["KAFKA_TOPIC_PREFIX"] + "intake.events"
            producer = KafkaProducer(bootstrap_servers=infrastructure.bootstrap)
            try:
                producer.send(topic, key=b"not-an-episode", value=b"{not json").get(timeout=30)
            finally:
                producer.close()

            async def letters_everywhere() -> dict[str, int] | None:
                found = {}
                for service in CONSUMERS:
                    listed = await client.get(f"{system.url(service)}/v1/consumer/dead-letters", headers=OPERATOR)
                    found[service] = len(listed.json())
                return found if all(found.values()) else None

            await eventually(letters_everywhere, timeout=90, interval=0.5)
            [letter] = (await client.get(f"{system.url('pathway')}/v1/consumer/dead-letters", headers=OPERATOR)).json()

            page = await chromium.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            await page.goto(f"{system.url('notifications')}/operations")
            assert await page.get_attribute("body", "data-state") == "empty"
            assert "operator token" in await page.inner_text("#status")

            await page.fill("#token", operator_token())
            await page.click("#use-token")
            await page.wait_for_selector("body[data-state=shown]")

            async def all_ready() -> bool:
                await page.click("#refresh")
                await page.wait_for_selector("body[data-state=shown]")
                return await page.locator("#services tbody tr .badge.ok", has_text="ready").count() == 4

            await eventually(all_ready, timeout=60, interval=1)
            services = await page.locator("#services tbody tr").all_inner_texts()
            assert [row.split("\t")[0] for row in services] == ["intake", "pathway", "reporting", "notifications"]
            for service in CONSUMERS:
                await page.locator(f'#letters div[data-service="{service}"] tr[data-letter]').first.wait_for()
            row = page.locator(f'#letters div[data-service="pathway"] tr[data-letter="{letter["id"]}"]')
            assert "unparseable" in await row.inner_text()
            subscription = page.locator(f'#subscriptions tr[data-subscription="{created.json()["subscription_id"]}"]')
            assert "gp-his" in await subscription.inner_text() and down in await subscription.inner_text()
            await page.screenshot(path=str(SHOTS / "operations.png"), full_page=True)

            await row.get_by_role("button", name="Re-drive").click()
            await expect(page.locator("#status")).to_contain_text("failed again", timeout=30_000)
            assert f"pathway dead letter {letter['id']}: failed again" in await page.inner_text("#status")

            row = page.locator(f'#letters div[data-service="pathway"] tr[data-letter="{letter["id"]}"]')
            await row.get_by_role("button", name="Discard…").click()
            await row.locator("input[name=reason]").fill("unreadable test record, sent by hand")
            await row.get_by_role("button", name="Discard", exact=True).click()
            await expect(page.locator("#status")).to_contain_text("discarded", timeout=30_000)
            await page.locator(f'#letters div[data-service="pathway"] tr[data-letter="{letter["id"]}"]').wait_for(
                state="detached"
            )

            await subscription.get_by_role("button", name="Pause").click()
            await expect(page.locator("#status")).to_have_text(re.compile("^paused"), timeout=30_000)
            await subscription.get_by_role("button", name="Resume").wait_for()
            await page.screenshot(path=str(SHOTS / "operations-after.png"), full_page=True)
            [backlog] = (
                await client.get(f"{system.url('notifications')}/v1/operations/subscriptions", headers=OPERATOR)
            ).json()
            assert (backlog["state"], backlog["state_reason"], backlog["pending"]) == (
                "paused",
                "paused by operator nadia",
                1,
            )
            await subscription.get_by_role("button", name="Resume").click()
            await subscription.get_by_role("button", name="Pause").wait_for()
            assert errors == []

            # What the service kept: the operator's actions on the letter, by name, with the reason.
            shown = (
                await client.get(f"{system.url('pathway')}/v1/consumer/dead-letters/{letter['id']}", headers=OPERATOR)
            ).json()
            assert shown["state"] == "discarded"
            assert [(a["action"], a["outcome"], a["by"], a["reason"]) for a in shown["actions"]] == [
                ("redrive", "failed", "nadia", None),
                ("discard", "discarded", "nadia", "unreadable test record, sent by hand"),
            ]
            [backlog] = (
                await client.get(f"{system.url('notifications')}/v1/operations/subscriptions", headers=OPERATOR)
            ).json()
            assert backlog["state"] == "active"
