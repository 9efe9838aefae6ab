"""Health checks against a real Prometheus scraping a test application's counters, and the SQL check."""

from __future__ import annotations

import time

import psycopg
from prometheus_client import CollectorRegistry, Gauge

from liveshift.health import HealthCheck, check_prometheus, check_sql
from tests.harness.prometheus import free_port, prometheus_server, start_exporter


def _until(predicate, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.25)


def test_prometheus_check_follows_the_scraped_value() -> None:
    registry = CollectorRegistry()
    errors = Gauge("app_error_ratio", "errors per request", registry=registry)
    errors.set(0.0)
    with prometheus_server([start_exporter(registry)]) as url:
        healthy = HealthCheck(kind="prometheus", prometheus_url=url, query="app_error_ratio < bool 0.05")
        _until(lambda: check_prometheus(healthy).healthy)
        assert check_prometheus(healthy).value == "1"
        errors.set(0.5)
        _until(lambda: not check_prometheus(healthy).healthy)
        assert check_prometheus(healthy).value == "0"  # a zero sample is unhealthy
        filtered = HealthCheck(kind="prometheus", prometheus_url=url, query="app_error_ratio < 0.05")
        assert check_prometheus(filtered).model_dump() == {"healthy": False, "value": "empty result"}
        ratio = HealthCheck(kind="prometheus", prometheus_url=url, query="app_error_ratio")
        assert check_prometheus(ratio).value == "0.5"
        broken = HealthCheck(kind="prometheus", prometheus_url=url, query="app_error_ratio <")
        assert check_prometheus(broken).value.startswith("prometheus error")


def test_prometheus_unreachable_is_unhealthy() -> None:
    check = HealthCheck(kind="prometheus", prometheus_url=f"http://127.0.0.1:{free_port()}", query="up", timeout_s=1)
    result = check_prometheus(check)
    assert not result.healthy
    assert result.value.startswith("prometheus unreachable")


def test_sql_check(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE errors (n int)")
    check = HealthCheck(kind="sql", query="SELECT count(*) < 3 FROM errors")
    assert check_sql(conn, check).healthy
    conn.execute("INSERT INTO errors SELECT generate_series(1, 5)")
    assert check_sql(conn, check).model_dump() == {"healthy": False, "value": "False"}
    writes = HealthCheck(kind="sql", query="INSERT INTO errors VALUES (1) RETURNING true")
    assert check_sql(conn, writes).value.startswith("error: cannot execute INSERT in a read-only transaction")
    slow = HealthCheck(kind="sql", query="SELECT pg_sleep(5) IS NULL", timeout_s=0.2)
    assert check_sql(conn, slow).value.startswith("error: canceling statement due to statement timeout")
