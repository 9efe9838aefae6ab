"""Chaos: blue and green applications write throughout a migration while the worker is SIGKILLed twice and
PostgreSQL restarts once. Every acknowledged write must be there, right in both shapes, and the final schema
must be what the plain ALTER gives. A rollback under the same load must lose nothing either. The migration
changes two tables: `accounts` (a primary key: keyset batches) and `ledger` (no key at all, as append-only
tables often are: block-range batches), each with its own blue and green applications.

The worker is a separate OS process (`python -m liveshift.worker`); the workflow runs on the real Temporal dev server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from temporalio.client import WorkflowHandle

from liveshift import phases
from liveshift.backfill.walk import Throttle
from liveshift.cli.loadgen import LoadGenerator, LostWrite, Side, Version, Workload
from liveshift.connections import open_session
from liveshift.ddl.executor import StepRunner
from liveshift.store.record import load_record
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    ROLLBACK,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    RollbackRequest,
)
from tests.harness.chaos import BLUE, CONNECTION_LOST, GREEN, MIGRATION, PLAIN, SETUP, TABLES, seed
from tests.harness.db import backfill_all, client, migration, plain_alter_snapshot, snapshot, until_rows_done
from tests.harness.postgres import PostgresServer
from tests.harness.temporal import TemporalServer, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).parent.parent.parent

# a backfill slow enough to be interrupted several times (~1,000 rows/s)
THROTTLE = Throttle(initial_batch=100, min_batch=100, max_batch=100, max_rows_per_second=1000)


class Worker:
    """`python -m liveshift.worker` serving one target on its own task queue; a fresh process after a kill."""

    def __init__(self, temporal: TemporalServer, target: str, dsn: str, log: Path) -> None:
        self.task_queue = f"liveshift-chaos-{uuid.uuid4().hex[:8]}"
        self.target, self.log = target, log
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")},
            "LIVESHIFT_TEMPORAL_ADDRESS": temporal.address,
            "LIVESHIFT_TEMPORAL_NAMESPACE": temporal.namespace,
            "LIVESHIFT_TASK_QUEUE": self.task_queue,
            f"LIVESHIFT_TARGET_{target.upper()}": dsn,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "liveshift.worker"], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )

    def kill_and_replace(self) -> None:
        assert self.process is not None and self.process.poll() is None, f"the worker died early; see {self.log}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.kills += 1
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def accounts(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute(SETUP)
    return conn


@pytest.fixture
def worker_for(temporal: TemporalServer, dsn: str, tmp_path: Path) -> Iterator[Worker]:
    target = f"chaos_{uuid.uuid4().hex[:6]}"  # the workflow id derives from it: tests do not collide
    worker = Worker(temporal, target, dsn, tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.stop()


class Loads:
    """One LoadGenerator per table, driven together."""

    def __init__(self, dsn: str, rows: int) -> None:
        self.by_table = {t: LoadGenerator(dsn, Workload(t, BLUE, GREEN, seed_keys=range(1, rows + 1))) for t in TABLES}

    def start(self, side: Side) -> None:
        for table, load in self.by_table.items():
            # the keyless table is updated through a plain index: fewer threads keep the 2-core machine responsive
            writers = 2 if table == "accounts" else 1
            load.start(side, writers=writers, readers=1, rate=30)

    def stop(self, side: Side | None = None) -> None:
        for load in self.by_table.values():
            load.stop(side)

    def lost_writes(self, versions: dict[str, Version] | None = None) -> dict[str, list[LostWrite]]:
        return {t: lost for t, load in self.by_table.items() if (lost := load.lost_writes(versions))}


def tables_in_progress(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as c:
        rows = c.execute("SELECT DISTINCT table_name FROM liveshift.checkpoints WHERE batches > 0 AND NOT done")
        return {r[0] for r in rows}


async def begin(worker: Worker, temporal: TemporalServer, **options: object) -> WorkflowHandle:
    request = MigrationInput(
        target=worker.target,
        migration=migration(MIGRATION),
        options=MigrationOptions(progress_interval_s=0.5, throttle=THROTTLE, **options),  # type: ignore[arg-type]
    )
    return await start_migration(temporal.client, request, worker.task_queue)


def assert_errors_only_while_restarting(load: LoadGenerator, restart: tuple[float, float]) -> None:
    failed = [s for s in load.samples() if not s.ok]
    assert all(s.error and s.error.startswith(CONNECTION_LOST) for s in failed), [s.error for s in failed][:5]
    assert all(restart[0] - 1 <= s.started <= restart[1] + 5 for s in failed), "an error away from the restart"


async def test_zero_lost_writes_under_chaos(
    dsn: str, accounts: psycopg.Connection, pg_server: PostgresServer, temporal: TemporalServer, worker_for: Worker
) -> None:
    seed(accounts, 12_000)
    loads = Loads(dsn, 12_000)
    loads.start("blue")
    try:
        handle = await begin(worker_for, temporal, auto_cutover=True)
        await wait_for_phase(handle, "backfill")
        loads.start("green")

        # rows done in both tables together: each kill and the restart hit both backfills mid-way
        await until_rows_done(dsn, 3_000)
        assert await asyncio.to_thread(tables_in_progress, dsn) == set(TABLES), "kill both backfills mid-way"
        worker_for.kill_and_replace()
        await until_rows_done(dsn, 8_000)  # the new worker resumed from the checkpoints
        worker_for.kill_and_replace()
        await until_rows_done(dsn, 14_000)
        restart_began = time.time()
        await asyncio.to_thread(pg_server.restart)
        restart = (restart_began, time.time())

        status = await wait_for_phase(handle, "awaiting_contract")
        assert status.verify is not None and status.verify.ok, status.verify
        assert [t.phase for t in status.transitions].count("backfill") == 1
    finally:
        loads.stop()
    assert worker_for.kills == 2
    for load in loads.by_table.values():
        report = load.report()
        assert report.total.reconnects >= 1, report.summary()  # the restart did reach the applications
        assert report.sides["green"].writes > 50 and report.sides["blue"].writes > 50, report.summary()
        assert_errors_only_while_restarting(load, restart)
    # both shapes, before contract: blue's writes went up to green, green's came down to blue
    assert loads.lost_writes() == {}

    # green applications keep writing through contract
    loads.start("green")
    try:
        await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
        result = await handle.result()
    finally:
        loads.stop()
    assert result.phase == "complete", result.last_error
    assert loads.lost_writes({"final": Version(None, GREEN.row)}) == {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert snapshot(conn) == plain_alter_snapshot(conn, SETUP, PLAIN)
        for table in map(sql.Identifier, TABLES):
            wrong = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE amount_cents % 100 <> 0").format(table))
            assert wrong.fetchone() == (0,)
            seeded = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE id <= 12000").format(table))
            assert seeded.fetchone() == (12_000,)


async def test_rollback_under_load_loses_nothing(
    dsn: str, accounts: psycopg.Connection, temporal: TemporalServer, worker_for: Worker
) -> None:
    seed(accounts, 6_000)
    before = snapshot(accounts)
    loads = Loads(dsn, 6_000)
    loads.start("blue")
    try:
        handle = await begin(worker_for, temporal)
        await wait_for_phase(handle, "backfill")
        loads.start("green")
        await until_rows_done(dsn, 2_000)
        worker_for.kill_and_replace()
        await until_rows_done(dsn, 5_000)
        loads.stop("green")  # green applications leave before their version does
        await handle.execute_update(ROLLBACK, RollbackRequest(reason="chaos test"), result_type=str)
        result = await handle.result()
        await asyncio.sleep(0.5)  # blue keeps writing after the rollback
    finally:
        loads.stop()
    assert result.phase == "rolled_back", result.last_error
    for load in loads.by_table.values():
        report = load.report()
        assert report.total.errors == 0, report.summary()
        assert report.sides["green"].writes > 20, report.summary()
    # every write, blue's and green's, is in the old shape with its value
    assert loads.lost_writes({"blue": Version(None, BLUE.row)}) == {}
    assert snapshot(accounts) == before


@pytest.mark.parametrize("phase", ["rollback", "contract"])
def test_writes_work_between_every_step(dsn: str, accounts: psycopg.Connection, phase: str) -> None:
    """The windows the load above may or may not hit, each one on purpose: after every single step of
    rollback, a blue application inserts and updates; after every step of contract, a green one does."""
    seed(accounts, 200)
    m = migration(MIGRATION)
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
        phases.expand(conn, m.name)
        backfill_all(dsn, m.name)
        phases.validate_constraints(conn, m.name)
        assert phases.verify(conn, m.name).ok
        phases.cutover(conn, m.name)
        plan = phases.plan_of(load_record(conn, m.name))
        steps = plan.rollback_steps() if phase == "rollback" else plan.contract_steps()
        version, row = (BLUE, BLUE.row) if phase == "rollback" else (GREEN, GREEN.row)
        app = client(dsn, version.search_path)
        for i, step in enumerate(steps, start=1):
            StepRunner().run_step(conn, step)
            ((column, value),) = row(1000 + i).items()
            for table in map(sql.Identifier, TABLES):
                app.execute(sql.SQL("INSERT INTO {} ({}) VALUES (%s)").format(table, sql.Identifier(column)), [value])
                update = sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(table, sql.Identifier(column))
                app.execute(update, [value, i])
        app.close()
