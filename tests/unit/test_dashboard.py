"""The Grafana dashboard (deploy/grafana/) and the alert rules ask only for metrics the services export, the
dashboard's panels lie on Grafana's 24-column grid without covering each other, and compose provisions it on
its own Prometheus. (Grafana itself does not run here; the e2e Prometheus test runs every panel's query.)"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.http import _http_metrics

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD_FILE = GRAFANA / "dashboards" / "ruggengraat.json"
ALERTS_FILE = ROOT / "deploy" / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\bruggengraat_[a-z_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD_FILE.read_text())


def panel_queries() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"] for target in panel.get("targets", [])]


def alert_queries() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(ALERTS_FILE.read_text())["groups"] for rule in group["rules"]]


def exported_metric_names() -> set[str]:
    """Every series name the four services can expose: their modules declare their metrics on import, the HTTP
    instrumentation is made once per process."""
    from prometheus_client import REGISTRY

    for service in ("intake", "pathway", "reporting", "notifications"):
        importlib.import_module(f"services.{service}.main")
    _http_metrics()
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


@pytest.mark.parametrize("source", [panel_queries, alert_queries], ids=["dashboard", "alerts"])
def test_every_metric_asked_for_is_one_the_services_export(source) -> None:
    asked = {name for query in source() for name in METRIC.findall(query)}
    assert asked, "no queries found"
    assert asked - exported_metric_names() == set()


def test_the_dashboard_answers_every_question_an_alert_asks() -> None:
    """An operator paged by an alert finds its metric on the dashboard."""
    on_dashboard = {name for query in panel_queries() for name in METRIC.findall(query)}
    alerted = {name for query in alert_queries() for name in METRIC.findall(query)}
    assert alerted - on_dashboard == set()


def test_the_panels_lie_on_the_grid_without_covering_each_other() -> None:
    panels = dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    taken: dict[tuple[int, int], str] = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, f"{panel['title']} covers {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


def test_every_panel_reads_the_provisioned_prometheus_and_says_what_it_shows() -> None:
    [source] = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"]
    for panel in dashboard()["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert panel["description"].strip() and panel["targets"], panel["title"]
        assert all(target["datasource"]["uid"] == source["uid"] for target in panel["targets"]), panel["title"]


def test_compose_provisions_the_dashboard_on_its_own_prometheus() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    grafana = compose["grafana"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"] if volume.startswith("./")}
    assert mounts == {
        "/etc/grafana/provisioning": "./deploy/grafana/provisioning",
        "/var/lib/grafana/dashboards": "./deploy/grafana/dashboards",
    }
    [provider] = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "ruggengraat.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    [source] = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"]
    [published] = compose["prometheus"]["ports"]
    assert source["url"] == f"http://prometheus:{published.rsplit(':', 1)[1]}"
    assert "prometheus" in grafana["depends_on"]
