"""The operator's page in a real browser (Debian's Chromium, headless, driven by Playwright), on the four services
as processes with the real broker and Postgres: a record of an episode that no consumer can take lands in the dead
letters and the episode's next event is parked behind it; the operator enters a token, sees every service ready,
the dead letter and the waiting episode in each consuming service and a GP system's subscription with its
backlog; re-drives the letter from the page (it fails again, as a record that is no referral does), discards it
with a reason (the parked event follows), and pauses and resumes the subscription. Each service keeps who acted.
Screenshots are left in .run/operations-page/."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer
from playwright.async_api import BrowserContext, expect

from deploy.local import dev_headers
from shared.events import new_envelope
from shared.events.intake import sample_referral
from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.e2e.test_intake_recording import HISTORY
from tests.support import gp_referral, practice, referrer, subscriber

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

            episode = posted.json()["episode_id"]

            async def pathway_knows_it() -> bool:
                known = await client.get(f"{system.url('pathway')}/v1/episodes/{episode}", headers=practice())
                return known.status_code == 200

            await eventually(pathway_knows_it, timeout=90, interval=0.5)
            # A record of the episode that no consumer can take (its data is not a referral), on intake's topic;
            # then the practice records the history: the consumers park it behind the stuck record.
            bad = new_envelope(
                sample_referral(),
                service="intake",
                subject=episode,
                stream_version=50,
                time=datetime.now(UTC),
                correlation_id=uuid.uuid4(),
            ).model_copy(update={"data": {"route": "gp_referral"}})
            producer = KafkaProducer(bootstrap_servers=infrastructure.bootstrap)
            try:
                topic = system.extra_env["KAFKA_TOPIC_PREFIX"] + "intake.events"
                producer.send(topic, key=episode.encode(), value=bad.to_json()).get(timeout=30)
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
            recorded = await client.post(
                f"{system.url('intake')}/v1/episodes/{episode}/history",
                json=HISTORY,
                headers={**practice(), "If-Match": '"1"'},
            )
            assert recorded.status_code == 201, recorded.text

            async def parked_in_pathway() -> list:
                return (await client.get(f"{system.url('pathway')}/v1/consumer/parked", headers=OPERATOR)).json()

            [waiting] = await eventually(parked_in_pathway, timeout=60, interval=0.5)
            assert (waiting["episode_id"], waiting["parked"], waiting["waiting_for"]) == (episode, 1, [letter["id"]])

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
            assert "invalid" in await row.inner_text() and episode in await row.inner_text()
            parked = page.locator(f'#letters div[data-service="pathway"] tr[data-episode="{episode}"]')
            assert (await parked.inner_text()).split("\t")[1] == "1"  # one event parked behind the letter
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
            assert f"pathway dead letter {letter['id']}: discarded; 1 parked event(s) followed" in (
                await page.inner_text("#status")
            )
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
            assert await parked_in_pathway() == []
            assert [(a["action"], a["outcome"], a["by"], a["reason"]) for a in shown["actions"]] == [
                ("redrive", "failed", "nadia", None),
                ("discard", "discarded", "nadia", "unreadable test record, sent by hand"),
            ]
            [backlog] = (
                await client.get(f"{system.url('notifications')}/v1/operations/subscriptions", headers=OPERATOR)
            ).json()
            assert backlog["state"] == "active"
