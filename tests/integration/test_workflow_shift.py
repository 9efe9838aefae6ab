"""Progressive shifting against the real thing: `version_for` on PostgreSQL, the workflow on the Temporal dev
server with the real worker, health checks against a real Prometheus scraping a test application's metrics and
against SQL on the target. The control logic's corners are in test_workflow_shift_logic.py."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from liveshift import phases
from liveshift.cli.commands import demo
from liveshift.cli.loadgen import LoadGenerator, Version, Workload
from liveshift.connections import open_session
from liveshift.errors import MigrationStateError
from liveshift.health import HealthCheck, HealthResult, check_prometheus
from liveshift.worker.main import run_worker
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    ROLLBACK,
    SHIFT,
    STATUS,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
    RollbackRequest,
    ShiftRequest,
)
from tests.harness.apps import ADD_COLUMN, GREEN, Writers, seed
from tests.harness.db import migration, through_verify
from tests.harness.fake_activities import refused
from tests.harness.prometheus import prometheus_server, start_exporter
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

NAME = "users_email_lower"
BLUE = "public_base"
KEYS = [f"user-{i}" for i in range(10_000)]


def versions(conn: psycopg.Connection, keys: list[str] = KEYS) -> dict[str, str]:
    rows = conn.execute("SELECT k, liveshift.version_for('public', k) FROM unnest(%s::text[]) k", (keys,)).fetchall()
    return dict(rows)


def on_green(conn: psycopg.Connection) -> set[str]:
    return {k for k, v in versions(conn).items() if v == GREEN}


def test_version_for_distributes_keys_to_the_share_and_keeps_each_key(dsn: str, conn: psycopg.Connection) -> None:
    seed(conn, rows=100)
    m = migration(ADD_COLUMN)
    assert through_verify(dsn, m).ok
    with open_session(dsn) as ls:
        with pytest.raises(MigrationStateError, match="cannot shift migration 'users_email_lower': it is verified"):
            phases.shift(ls, m.name, 10)  # before cutover
        phases.shift(ls, m.name, 0)  # but back to blue is safe (a cutover whose answer was lost may have run)
        assert on_green(conn) == set()
        phases.cutover(ls, m.name, 0)
        assert on_green(conn) == set()  # cut over at 0%: everyone stays on blue
        previous: set[str] = set()
        for percent in (5, 25, 50, 75):
            phases.shift(ls, m.name, percent)
            green = on_green(conn)
            assert abs(len(green) / len(KEYS) * 100 - percent) < 3, (percent, len(green))
            assert on_green(conn) == green  # stable: a key asks again, it gets the same version
            assert previous <= green  # up: the keys already on green stay there
            previous = green
        phases.shift(ls, m.name, 10)  # down: back to a subset of what it was
        assert on_green(conn) <= previous and abs(len(on_green(conn)) / len(KEYS) * 100 - 10) < 3
        phases.shift(ls, m.name, 0)
        assert set(versions(conn).values()) == {BLUE}  # shift 0: everyone back to blue
        with pytest.raises(MigrationStateError, match="green has 0% of clients, not 100%"):
            phases.contract(ls, m.name)
        with pytest.raises(MigrationStateError, match=r"to 101%: the share is 0\.\.100"):
            phases.shift(ls, m.name, 101)
        phases.shift(ls, m.name, 100)
        assert set(versions(conn).values()) == {GREEN}
        phases.contract(ls, m.name)
        with pytest.raises(MigrationStateError, match="it is complete, not cut over"):
            phases.shift(ls, m.name, 50)  # after contract


def request(worker: WorkerHandle, **options: object) -> MigrationInput:
    return MigrationInput(
        target=worker.target,
        migration=migration(ADD_COLUMN),
        options=MigrationOptions(auto_cutover=True, progress_interval_s=0.5, **options),  # type: ignore[arg-type]
    )


async def status_of(handle: object) -> MigrationStatus:
    return await handle.query(STATUS, result_type=MigrationStatus)  # type: ignore[attr-defined]


async def until(handle: object, predicate: object, timeout: float = 60) -> MigrationStatus:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate(status := await status_of(handle)):
        assert asyncio.get_running_loop().time() < deadline, status
        await asyncio.sleep(0.1)
    return status


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"migration": NAME, **labels}) or 0.0


class ScrapedApplication:
    """The application's own metrics, as Prometheus scrapes them: green's error ratio."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.error_ratio = Gauge("app_error_ratio", "errors per request", ["version"], registry=self.registry)
        self.error_ratio.labels(version="green").set(0.0)
        self.port = start_exporter(self.registry)

    async def check(self, url: str) -> HealthCheck:
        """The health check, once Prometheus has scraped the application (before, the result is empty)."""
        check = HealthCheck(kind="prometheus", prometheus_url=url, query='app_error_ratio{version="green"} < bool 0.05')
        while not check_prometheus(check).healthy:
            await asyncio.sleep(0.2)
        return check


async def test_steps_walk_on_a_healthy_prometheus_check_with_both_versions_writing(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn)
    app = ScrapedApplication()
    with prometheus_server([app.port]) as url, Writers(dsn) as writers:
        options = {
            "canary_steps": [10, 50, 100],
            "step_seconds": 2,
            "health": await app.check(url),
            "health_interval_s": 1,
        }
        handle = await start_migration(
            temporal.client, request(liveshift_worker, **options), liveshift_worker.task_queue
        )
        shares: set[int] = set()

        def walked(s: MigrationStatus) -> bool:
            if s.phase == "awaiting_contract":
                shares.add(len(on_green(conn)))
            return s.waiting_for == "contract"

        status = await until(handle, walked)
        assert sample("liveshift_green_share_percent") == 100 and set(versions(conn).values()) == {GREEN}
        assert len(shares) >= 3 and len(KEYS) in shares  # seen from the database while the steps walked
        writers.blue.halt()  # blue's applications have moved to green: contract drops their version
        await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
        result = await handle.result()
    assert writers.errors == []
    assert [(c.percent, c.by) for c in result.shifts] == [(0, "cutover"), (10, "schedule"), (50, "schedule"),
                                                          (100, "schedule")]  # fmt: skip
    assert status.schedule == "done: green has 100%" and status.health is not None and status.health.healthy
    assert status.health.checks >= 3  # before each step (and in dwells the timers leave room for)
    kept = conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (writers.written,)).fetchone()
    assert kept == (len(writers.written),) and len(writers.written) > 20  # no write lost
    assert conn.execute("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)").fetchone() == (0,)
    record_history("add_column_canary_steps_healthy", (await handle.fetch_history()).to_json())


async def test_unhealthy_prometheus_check_sends_everyone_back_to_blue_and_waits(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=300)
    app = ScrapedApplication()
    with prometheus_server([app.port]) as url:
        options = {
            "canary_steps": [10, 100],
            "step_seconds": 600,
            "health": await app.check(url),
            "health_interval_s": 1,
        }
        handle = await start_migration(
            temporal.client, request(liveshift_worker, **options), liveshift_worker.task_queue
        )
        await until(handle, lambda s: s.green_percent == 10)
        assert abs(len(on_green(conn)) - len(KEYS) // 10) < 300
        unhealthy_before = sample("liveshift_health_checks_total", result="unhealthy")
        app.error_ratio.labels(version="green").set(0.4)
        status = await until(handle, lambda s: s.green_percent == 0 and s.waiting_for == "contract")
        # the first unhealthy evaluation sent everyone back: one unhealthy result, then no more checks
        assert sample("liveshift_health_checks_total", result="unhealthy") == unhealthy_before + 1
        assert set(versions(conn).values()) == {BLUE} and sample("liveshift_green_share_percent") == 0
        assert status.health is not None and status.health.failing == "0"
        assert status.schedule == "stopped: health check failed (0)"
        await handle.execute_update(ROLLBACK, RollbackRequest(reason="green errors"), result_type=str)
        result = await handle.result()
    assert result.phase == "rolled_back"
    assert [c.by for c in result.shifts] == ["cutover", "schedule", "health check"]
    record_history("add_column_canary_unhealthy_wait", (await handle.fetch_history()).to_json())


async def test_unhealthy_sql_check_rolls_back_when_asked(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=300)
    conn.execute("CREATE TABLE app_errors (at timestamptz NOT NULL DEFAULT now())")
    check = HealthCheck(kind="sql", query="SELECT count(*) = 0 FROM app_errors")
    options = {
        "canary_steps": [20, 100], "step_seconds": 600, "health": check, "health_interval_s": 1,
        "on_unhealthy": "rollback",
    }  # fmt: skip
    handle = await start_migration(temporal.client, request(liveshift_worker, **options), liveshift_worker.task_queue)
    await until(handle, lambda s: s.green_percent == 20)
    refusal = await refused(handle, APPROVE, ApproveRequest(gate="contract"))
    assert refusal == "the contract gate is not waiting for approval (no gate is waiting; phase awaiting_contract)"
    conn.execute("INSERT INTO app_errors DEFAULT VALUES")
    result = await handle.result()
    assert result.phase == "rolled_back" and result.rollback_reason == "health check failed: False"
    assert [(c.percent, c.by) for c in result.shifts] == [(0, "cutover"), (20, "schedule"), (0, "health check")]
    # no version to send anyone to: the rollback removed green, and blue's schema, which this migration created
    assert conn.execute("SELECT liveshift.version_for('public', 'any')").fetchone() == (None,)
    assert conn.execute("SELECT to_regclass(%s)", (f"{GREEN}.users",)).fetchone() == (None,)
    record_history("add_column_canary_sql_rollback", (await handle.fetch_history()).to_json())


async def test_operator_shifts_through_the_cli_payloads(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=300)
    handle = await start_migration(
        temporal.client, request(liveshift_worker, cutover_percent=5), liveshift_worker.task_queue
    )
    await wait_for_phase(handle, "awaiting_contract")
    for percent in (30, 0, 100):
        answer = await handle.execute_update(SHIFT, ShiftRequest(percent=percent), result_type=str)
        assert answer.startswith(f"green has {percent}% of clients")
        assert abs(len(on_green(conn)) / len(KEYS) * 100 - percent) < 3
        assert sample("liveshift_green_share_percent") == percent
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    result = await handle.result()
    assert result.phase == "complete" and [c.percent for c in result.shifts] == [5, 30, 0, 100]
    record_history("add_column_operator_shifts", (await handle.fetch_history()).to_json())


def test_the_demos_promql_check_reads_its_applications_per_version_counters() -> None:
    """The demo's --health-prometheus check on a real Prometheus scraping the load generator's counters."""
    load = LoadGenerator("postgresql://unused", Workload("accounts", LOAD_VERSION, LOAD_VERSION))
    registry = CollectorRegistry()
    load.export_metrics(registry)
    with prometheus_server([start_exporter(registry)]) as url:
        check = HealthCheck(kind="prometheus", prometheus_url=url, query=demo.PROMQL)
        healthy = wait_until_check(check, healthy=True)  # no green request yet: a rate of 0 errors is healthy
        assert healthy.value == "1"
        for _ in range(200):
            load.count("green", ok=True)
        assert wait_until_check(check, healthy=True).value == "1"  # green serving, no errors
        for _ in range(50):
            load.count("green", ok=False)
        assert wait_until_check(check, healthy=False).value == "0"  # over 1% of green's requests failing


LOAD_VERSION = Version(None, lambda n: {"amount": n})


def wait_until_check(check: HealthCheck, healthy: bool, timeout_s: float = 30) -> HealthResult:
    deadline = time.monotonic() + timeout_s
    while (result := check_prometheus(check)).healthy != healthy:
        assert time.monotonic() < deadline, result
        time.sleep(0.25)
    return result


async def test_a_step_dwell_survives_a_worker_restart(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    """The dwell is durable timers: a new worker replays the walk so far and carries on from the same step."""
    seed(conn, rows=300)
    check = HealthCheck(kind="sql", query="SELECT true")
    options = {"canary_steps": [10, 100], "step_seconds": 4, "health": check, "health_interval_s": 1, "soak_seconds": 0}
    handle = await start_migration(temporal.client, request(liveshift_worker, **options), liveshift_worker.task_queue)
    checks = (await until(handle, lambda s: s.green_percent == 10)).health
    assert checks is not None
    liveshift_worker.stop.set()  # the worker goes away mid-dwell
    await asyncio.wait_for(liveshift_worker.task, timeout=30)
    stop = asyncio.Event()
    again = asyncio.create_task(run_worker(liveshift_worker.settings, stop, client=temporal.client))
    try:
        result = await handle.result()
    finally:
        stop.set()
        await asyncio.wait_for(again, timeout=30)
    assert result.phase == "complete"
    assert [(c.percent, c.by) for c in result.shifts] == [(0, "cutover"), (10, "schedule"), (100, "schedule")]
    assert result.health is not None and result.health.checks > checks.checks  # the new worker went on checking
