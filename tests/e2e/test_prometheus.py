"""The alert rules, checked and unit-tested by promtool, and a real Prometheus (Debian's `prometheus`, installed by
the test command as it installs Chromium) that scrapes the four services and sees the webhook alert fire while a
GP system's endpoint stays down; every panel of the Grafana dashboard runs its query on that Prometheus."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from deploy.local import free_port, stop_process, wait_for_port
from shared.clock import OffsetFileClock
from tests.conftest import eventually
from tests.e2e.conftest import running_system
from tests.support import gp_referral, referrer, subscriber
from tests.unit.test_dashboard import panel_queries

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMETHEUS, PROMTOOL = "/usr/bin/prometheus", "/usr/bin/promtool"

pytestmark = pytest.mark.e2e


def test_the_alert_rules_and_composes_prometheus_config_pass_promtools_checks_and_the_rules_unit_tests():
    checked = subprocess.run([PROMTOOL, "check", "rules", "alerts.yml"], cwd=RULES_DIR, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts.test.yml"], cwd=RULES_DIR, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    config = subprocess.run(
        [PROMTOOL, "check", "config", "prometheus.yml"], cwd=RULES_DIR, capture_output=True, text=True
    )
    assert config.returncode == 0, config.stdout + config.stderr


async def test_prometheus_scrapes_every_service_and_fires_the_alert_for_an_endpoint_down_over_an_hour(
    fresh_database, infrastructure, tmp_path
):
    clock = tmp_path / "clock-offset"
    OffsetFileClock.write_offset(clock, timedelta(0))
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: every attempt is refused
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path, CLOCK_OFFSET_FILE=str(clock)) as system:
        async with httpx.AsyncClient() as client:
            created = await client.post(
                f"{system.url('notifications')}/v1/subscriptions",
                json={"endpoint_url": down, "event_types": ["nl.ruggengraat.intake.ReferralReceived"]},
                headers=subscriber(),
            )
            assert created.status_code == 201, created.text
            subscription = created.json()["subscription_id"]
            referral = gp_referral("HIS-PROM-1", 7)
            posted = await client.post(f"{system.url('intake')}/v1/referrals", json=referral, headers=referrer())
            assert posted.status_code == 201, posted.text

            async def waiting() -> bool:
                text = (await client.get(f"{system.url('notifications')}/metrics")).text
                return f'ruggengraat_webhook_deliveries_pending{{subscription="{subscription}"}} 1.0' in text

            await eventually(waiting, timeout=60)
            OffsetFileClock.write_offset(clock, timedelta(hours=2))  # two hours on: the delivery waited that long

            services = ("intake", "pathway", "reporting", "notifications")
            with prometheus(tmp_path, {name: system.url(name) for name in services}) as api:

                async def targets_up() -> bool:
                    found = (await client.get(f"{api}/api/v1/targets")).json()["data"]["activeTargets"]
                    return sorted(t["labels"]["job"] for t in found if t["health"] == "up") == [
                        "intake",
                        "notifications",
                        "pathway",
                        "reporting",
                    ]

                await eventually(targets_up, timeout=60, interval=0.5)

                async def firing() -> list[dict]:
                    alerts = (await client.get(f"{api}/api/v1/alerts")).json()["data"]["alerts"]
                    return [a for a in alerts if a["state"] == "firing"]

                [alert] = await eventually(firing, timeout=60, interval=0.5)
                assert alert["labels"] == {
                    "alertname": "RuggengraatWebhookUndeliveredForAnHour",
                    "job": "notifications",
                    "severity": "ticket",
                    "subscription": subscription,
                }
                assert alert["annotations"]["summary"] == (
                    f"subscription {subscription}: an event waits for delivery for over an hour"
                )

                # Every panel of the Grafana dashboard runs on the real data: no query is refused, and the
                # panels about this outage show it.
                answers = {}
                for query in panel_queries():
                    answered = (await client.get(f"{api}/api/v1/query", params={"query": query})).json()
                    assert answered["status"] == "success", (query, answered)
                    answers[query] = answered["data"]["result"]
                oldest = "max by (subscription) (ruggengraat_webhook_oldest_undelivered_age_seconds)"
                [series] = [s for s in answers[oldest] if s["metric"]["subscription"] == subscription]
                assert float(series["value"][1]) > 3600
                assert float(answers["sum(ruggengraat_webhook_deliveries_pending)"][0]["value"][1]) >= 1


@contextmanager
def prometheus(run_dir: Path, targets: dict[str, str]) -> Iterator[str]:
    """A Prometheus of the test's own that scrapes `targets` (job → base URL) and evaluates the alert rules every
    second; stopped afterwards. Yields its API's base URL."""
    shutil.copy(RULES_DIR / "alerts.yml", run_dir / "alerts.yml")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [url.removeprefix("http://")]}]}
            for job, url in targets.items()
        ],
    }
    (run_dir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={run_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={run_dir / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=open(run_dir / "prometheus.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port("127.0.0.1", port, 30)
        # It listens before its storage is open and answers 503 "Service Unavailable" (not JSON) until then.
        deadline = time.monotonic() + 60
        while httpx.get(f"http://127.0.0.1:{port}/-/ready").status_code != 200:
            assert time.monotonic() < deadline, (run_dir / "prometheus.log").read_text()[-2000:]
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)
