"""docker-compose.yml is consistent: it parses, references only services that exist, mounts files that exist,
Prometheus scrapes the worker's metrics port, and the Grafana dashboard charts every metric the worker serves
(green's share over time among them)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import Counter, Gauge, Histogram

from liveshift import metrics
from liveshift.cli.stack.dev import search_attribute_flags

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _depends_on(service: dict[str, Any]) -> list[str]:
    deps = service.get("depends_on", [])
    return list(deps) if isinstance(deps, dict | list) else []


def _bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume.get("target", "")
        if source.startswith((".", "/")):
            mounts.append((source, target))
    return mounts


def test_parses_with_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for required in ("app-db", "temporal", "temporal-ui", "worker", "prometheus", "grafana"):
        assert required in services, f"{required} missing"
    assert "image" in services["temporal"] and "temporal-db" in _depends_on(services["temporal"])


def test_references_name_existing_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    networks = set(compose.get("networks", {}) or {}) | {"default"}
    volumes = set(compose.get("volumes", {}) or {})
    for name, service in services.items():
        for dep in _depends_on(service):
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert dep != name
        for link in service.get("links", []):
            assert link.split(":")[0] in services, f"{name} links unknown service {link}"
        for network in service.get("networks", []) or []:
            assert network in networks, f"{name} joins undeclared network {network}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if not source.startswith((".", "/")):
                assert source in volumes, f"{name} mounts undeclared volume {source}"


def test_mounted_config_files_exist(compose: dict[str, Any]) -> None:
    mounted = [m for service in compose["services"].values() for m in _bind_mounts(service)]
    assert mounted, "expected config files mounted into prometheus and grafana"
    for source, _ in mounted:
        assert (ROOT / source).exists(), f"{source} is mounted but not in the repository"
    for name, service in compose["services"].items():
        if "build" in service:
            context = service["build"] if isinstance(service["build"], str) else service["build"].get("context", ".")
            assert (ROOT / context / "Dockerfile").exists(), f"{name} builds without a Dockerfile"


def test_prometheus_scrapes_the_worker_metrics_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    prometheus_config_path = next(
        source for source, target in _bind_mounts(services["prometheus"]) if target.endswith("prometheus.yml")
    )
    config = yaml.safe_load((ROOT / prometheus_config_path).read_text())
    targets = [t for job in config["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]]
    worker = services["worker"]
    port = str(worker["environment"]["LIVESHIFT_METRICS_PORT"])
    assert f"worker:{port}" in targets, f"prometheus scrapes {targets}, the worker serves metrics on {port}"
    assert any(str(p).split(":")[-1] == port for p in worker.get("ports", []) + worker.get("expose", []))


def test_grafana_dashboard_is_provisioned_and_queries_liveshift_metrics() -> None:
    providers = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/liveshift.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/liveshift.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert exprs and all("liveshift_" in e for e in exprs)


def test_temporal_setup_registers_the_workflow_search_attributes() -> None:
    script = (ROOT / "deploy/temporal-setup.sh").read_text()
    registered = dict(re.findall(r"\[(\w+)\]=(\w+)", script))
    assert registered == search_attribute_flags()


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/liveshift.json").read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_the_dashboard_charts_every_liveshift_metric() -> None:
    """A metric added to liveshift/metrics.py without a panel fails here (by the series name Prometheus stores)."""
    suffix = {"counter": "_total", "histogram": "_bucket", "gauge": ""}
    collectors = [c for c in vars(metrics).values() if isinstance(c, Counter | Gauge | Histogram)]
    served = [f"{c._name}{suffix[c._type]}" for c in collectors]
    assert "liveshift_green_share_percent" in served and "liveshift_health_checks_total" in served
    exprs = " ".join(_dashboard_exprs())
    missing = [name for name in served if not re.search(rf"\b{name}\b", exprs)]
    assert missing == [], f"served by the worker, on no dashboard panel: {missing}"


def test_the_dashboard_shows_greens_share_over_time() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/liveshift.json").read_text())
    [share] = [p for p in dashboard["panels"] if "liveshift_green_share_percent" in json.dumps(p.get("targets"))]
    assert share["type"] == "timeseries" and share["fieldConfig"]["defaults"]["unit"] == "percent"
