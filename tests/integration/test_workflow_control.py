"""Operator control of a running migration, end to end against a real database: pause stops the backfill's
partitions and resume continues them, rollback and cancellation restore the database while applications
write, contract finishes once begun, and failures found in the database roll back with a readable reason.

The control logic itself (every refusal, rollback from every phase, signals and Updates, the failure paths)
is tested against fake activities in test_workflow_logic.py, in seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError

from liveshift.values import LockPolicy, Throttle
from liveshift.workflows import client as workflow_client
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    PAUSE,
    RESUME,
    ROLLBACK,
    STATUS,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
    RollbackRequest,
)
from tests.harness.apps import ADD_COLUMN, GREEN, Writers, seed
from tests.harness.db import migration, snapshot
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

# about 4 s of backfill for 2000 rows: long enough to act in the middle of it
SLOW = Throttle(initial_batch=50, min_batch=50, max_batch=50, max_rows_per_second=500, pause_poll_s=0.1)
# short lock waits, many attempts: a test can hold a lock to keep a phase busy, then let go
PATIENT = LockPolicy(lock_timeout_ms=100, max_attempts=300, backoff_initial_s=0.05, backoff_max_s=0.2)


def request(target: str, **options: object) -> MigrationInput:
    defaults: dict[str, object] = {"throttle": SLOW, "lock": PATIENT, "progress_interval_s": 0.5}
    return MigrationInput(
        target=target, migration=migration(ADD_COLUMN), options=MigrationOptions(**defaults | options)
    )


def checkpoint_rows(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT coalesce(sum(rows_done), 0) FROM liveshift.checkpoints").fetchone()[0])  # type: ignore[index]


@contextmanager
def holding(dsn: str, mode: str) -> Iterator[None]:
    """Hold a table lock on users in an open transaction (what a long-running app transaction does)."""
    with psycopg.connect(dsn) as blocker:
        blocker.execute(f"LOCK TABLE users IN {mode} MODE")
        yield
        blocker.rollback()


async def test_pause_stops_the_partitions_and_resume_continues_them(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn)
    handle = await start_migration(temporal.client, request(liveshift_worker.target), liveshift_worker.task_queue)
    await wait_for_phase(handle, "backfill")
    while checkpoint_rows(conn) < 200:
        await asyncio.sleep(0.05)

    message = await handle.execute_update(PAUSE, result_type=str)
    assert message == "paused in phase backfill: backfill stops at the next batch boundary"
    # the partition reports it holds (after committing the batch in flight), in its heartbeat details that the
    # CLI's status merges in: from then on no batch starts
    while (status := await workflow_client.status(handle)).throttled != "paused":
        await asyncio.sleep(0.1)
    assert status.paused and status.phase == "backfill"
    stopped_at = checkpoint_rows(conn)
    await asyncio.sleep(2.0)
    assert checkpoint_rows(conn) == stopped_at < 2000

    assert await handle.execute_update(RESUME, result_type=str) == "resumed in phase backfill"
    status = await wait_for_phase(handle, "awaiting_cutover")
    assert status.progress[0].rows_done == 2000
    assert conn.execute("SELECT liveshift.version_for('public')").fetchone() == ("public_base",)
    assert "cutover gate is not waiting" not in await handle.execute_update(
        APPROVE, ApproveRequest(gate="cutover"), result_type=str
    )
    await wait_for_phase(handle, "awaiting_contract")
    assert conn.execute("SELECT liveshift.version_for('public')").fetchone() == (GREEN,)

    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    result = await handle.result()
    assert result.phase == "complete"
    assert conn.execute("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)").fetchone() == (0,)
    record_history("add_column_pause_resume_approvals", (await handle.fetch_history()).to_json())


@pytest.mark.parametrize("phase", ["expand", "backfill", "awaiting_contract"])
async def test_rollback_restores_the_database_while_applications_write(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, phase: str
) -> None:
    seed(conn)
    before = snapshot(conn)
    reason = f"operator rolls back in {phase}"
    # blue writes from before expand until after the rollback; green from expand until it is rolled back
    with Writers(dsn) as writers:
        handle = await start_migration(temporal.client, request(liveshift_worker.target), liveshift_worker.task_queue)
        if phase == "expand":
            # hold a lock expand's ALTER must wait for, so the phase lasts
            with holding(dsn, "SHARE UPDATE EXCLUSIVE"):
                await wait_for_phase(handle, phase)
                await asyncio.sleep(0.3)
                writers.green.halt()  # green applications leave before their version does
                message = await handle.execute_update(ROLLBACK, RollbackRequest(reason=reason), result_type=str)
        else:
            if phase == "awaiting_contract":
                await wait_for_phase(handle, "awaiting_cutover")
                await handle.execute_update(APPROVE, ApproveRequest(gate="cutover"), result_type=str)
            await wait_for_phase(handle, phase)
            if phase == "backfill":
                while checkpoint_rows(conn) < 200:
                    await asyncio.sleep(0.05)
            writers.green.halt()
            message = await handle.execute_update(ROLLBACK, RollbackRequest(reason=reason), result_type=str)
        assert message == f"rolling back from phase {phase}: {reason}"
        during_rollback = len(writers.blue.written)
        result = await handle.result()
        await asyncio.sleep(0.3)  # blue keeps writing after the rollback
    assert writers.errors == []
    assert len(writers.blue.written) > during_rollback
    if phase != "expand":
        assert writers.green.written, "green wrote while its version existed"

    assert result.phase == "rolled_back" and result.rollback_reason == reason
    assert [t.phase for t in result.transitions][-2:] == ["rolling_back", "rolled_back"]
    assert snapshot(conn) == before
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (2000 + len(writers.written),)
    kept = conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (writers.written,)).fetchone()
    assert kept == (len(writers.written),)
    assert conn.execute("SELECT status FROM liveshift.migrations").fetchone() == ("rolled_back",)
    if phase == "backfill":
        record_history("add_column_rollback_in_backfill", (await handle.fetch_history()).to_json())


async def test_verification_failure_rolls_back_and_fails(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn)
    before = snapshot(conn)
    handle = await start_migration(temporal.client, request(liveshift_worker.target), liveshift_worker.task_queue)
    await wait_for_phase(handle, "backfill")
    await handle.execute_update(PAUSE, result_type=str)
    # corrupt a backfilled row behind the trigger's back
    with psycopg.connect(dsn, autocommit=True) as saboteur:
        saboteur.execute("SET session_replication_role = replica")
        saboteur.execute("UPDATE users SET _ls_new_email_lower = 'wrong', _ls_written_by = 'b' WHERE id = 1999")
    await handle.execute_update(RESUME, result_type=str)
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    reason = str(info.value.cause)
    assert "verification failed: users: 1 of 2000 rows disagree (sample keys [1999])" in reason
    assert "rolled back" in reason
    status = await handle.query(STATUS, result_type=MigrationStatus)
    assert status.phase == "rolled_back" and status.verify is not None and status.verify.mismatches == 1
    assert snapshot(conn) == before
    record_history("add_column_verify_failure", (await handle.fetch_history()).to_json())


async def test_bad_migration_found_late_fails_without_touching_anything(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=10)
    before = snapshot(conn)
    bad = migration(ADD_COLUMN.replace("lower(email)", "lower(no_such_column)"))
    handle = await start_migration(
        temporal.client, MigrationInput(target=liveshift_worker.target, migration=bad), liveshift_worker.task_queue
    )
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "operations[0] (add_column): field 'up': expression 'lower(no_such_column)' does not compile" in str(
        info.value.cause
    )
    assert snapshot(conn) == before


async def test_unknown_target_fails_readably(temporal: TemporalServer, liveshift_worker: WorkerHandle) -> None:
    handle = await start_migration(
        temporal.client, MigrationInput(target="nowhere", migration=migration(ADD_COLUMN)), liveshift_worker.task_queue
    )
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert "unknown target 'nowhere': this worker knows test" in str(info.value.cause)


async def test_cancel_in_backfill_rolls_back(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn)
    before = snapshot(conn)
    with Writers(dsn) as writers:
        handle = await start_migration(temporal.client, request(liveshift_worker.target), liveshift_worker.task_queue)
        await wait_for_phase(handle, "backfill")
        while checkpoint_rows(conn) < 200:
            await asyncio.sleep(0.05)
        writers.green.halt()  # green applications leave before their version does
        await handle.cancel(reason="wrong migration")
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        await asyncio.sleep(0.3)  # blue keeps writing after the rollback
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    status = await handle.query(STATUS, result_type=MigrationStatus)
    assert status.phase == "rolled_back"
    assert status.rollback_reason == "workflow cancelled through Temporal: wrong migration"
    assert [t.phase for t in status.transitions][-2:] == ["rolling_back", "rolled_back"]

    assert writers.errors == []
    assert snapshot(conn) == before
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (2000 + len(writers.written),)
    kept = conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (writers.written,)).fetchone()
    assert kept == (len(writers.written),)
    assert conn.execute("SELECT status FROM liveshift.migrations").fetchone() == ("rolled_back",)
    record_history("add_column_cancelled_in_backfill", (await handle.fetch_history()).to_json())


async def test_cancel_during_contract_finishes_contract(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn)
    handle = await start_migration(
        temporal.client,
        request(liveshift_worker.target, auto_cutover=True, throttle=Throttle()),
        liveshift_worker.task_queue,
    )
    await wait_for_phase(handle, "awaiting_contract")
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    # contract was tried (in a rolled-back transaction) and has begun: it drains the clients before it drops
    await wait_for_phase(handle, "contract")
    # an app transaction holding a lock keeps contract busy (before its drops or halfway through them)
    with holding(dsn, "ACCESS SHARE"):
        await handle.cancel()
        deadline = asyncio.get_running_loop().time() + 10
        while (status := await handle.query(STATUS, result_type=MigrationStatus)).last_error is None:
            assert asyncio.get_running_loop().time() < deadline, "the cancellation never reached the workflow"
            await asyncio.sleep(0.1)
        assert status.last_error == "cancellation ignored: cannot roll back: contract has begun (it is irreversible)"
        assert status.phase == "contract"
    result = await handle.result()
    assert result.phase == "complete"
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert conn.execute("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)").fetchone() == (0,)
    assert conn.execute("SELECT to_regnamespace('public_base') IS NULL").fetchone() == (True,)
    record_history("add_column_cancel_ignored_in_contract", (await handle.fetch_history()).to_json())
