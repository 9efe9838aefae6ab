"""Drain before drop, on the Temporal dev server with the real worker: a version's views outlive the share change
that took its last clients by `drain_seconds` (a durable timer the status shows), at a rollback after cutover and
at a contract with a soak of 0."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    ROLLBACK,
    STATUS,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
    RollbackRequest,
)
from tests.harness.apps import ADD_COLUMN, GREEN, seed
from tests.harness.db import migration
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
BLUE = "public_base"
DRAIN_S = 3.0


def request(worker: WorkerHandle, **options: object) -> MigrationInput:
    return MigrationInput(
        target=worker.target,
        migration=migration(ADD_COLUMN),
        options=MigrationOptions(auto_cutover=True, drain_seconds=DRAIN_S, **options),  # type: ignore[arg-type]
    )


async def draining(handle: object) -> MigrationStatus:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        status = await handle.query(STATUS, result_type=MigrationStatus)  # type: ignore[attr-defined]
        if status.draining is not None:
            return status
        assert asyncio.get_running_loop().time() < deadline, status
        await asyncio.sleep(0.05)


def view_exists(conn: psycopg.Connection, version: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{version}.users",)).fetchone() == (True,)


def served(conn: psycopg.Connection) -> set[str]:
    keys = [f"k{i}" for i in range(200)]
    rows = conn.execute("SELECT DISTINCT liveshift.version_for('public', k) FROM unnest(%s::text[]) k", (keys,))
    return {r[0] for r in rows}


async def test_a_rollback_after_cutover_sends_everyone_to_blue_and_drains_green_before_dropping_it(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=200)
    handle = await start_migration(
        temporal.client, request(liveshift_worker, cutover_percent=50), liveshift_worker.task_queue
    )
    await wait_for_phase(handle, "awaiting_contract")
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="drain test"), result_type=str)
    status = await draining(handle)
    assert status.phase == "rolling_back" and status.draining.startswith("green")
    assert served(conn) == {BLUE}  # every client is sent to blue first...
    assert view_exists(conn, GREEN)  # ...and green's views stay while its clients drain
    result = await handle.result()
    assert result.phase == "rolled_back" and result.draining is None
    assert [(c.percent, c.by) for c in result.shifts] == [(50, "cutover"), (0, "rollback")]
    assert not view_exists(conn, GREEN)
    drained = (result.transitions[-1].at - result.shifts[-1].at).total_seconds()
    assert drained >= DRAIN_S  # the views went only after the drain
    record_history("add_column_drained_before_drop", (await handle.fetch_history()).to_json())


async def test_a_contract_with_no_soak_still_drains_blue(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=200)
    handle = await start_migration(
        temporal.client, request(liveshift_worker, soak_seconds=0), liveshift_worker.task_queue
    )
    status = await draining(handle)
    assert status.phase == "contract" and status.draining.startswith("blue")
    assert served(conn) == {GREEN} and view_exists(conn, BLUE)  # everyone on green; blue's views still there
    result = await handle.result()
    assert result.phase == "complete" and not view_exists(conn, BLUE)
