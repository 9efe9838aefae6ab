"""Zero-stall through the workflow on the real dev server: `liveshift status` names the backend a step waits
for (read from the pending activity's heartbeat details, as the Temporal UI shows them) and every backend
ended for it; a worker role that may not end backends is refused when the migration is prepared."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
import pytest
from temporalio.client import WorkflowHandle

from liveshift.cli.render import console, status_view
from liveshift.values import LockDetails, LockPolicy
from liveshift.worker.main import run_worker
from liveshift.workflows import client as workflow_client
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import ROLLBACK, MigrationInput, MigrationOptions, MigrationStatus, RollbackRequest
from tests.harness.apps import ADD_COLUMN, seed
from tests.harness.db import migration
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, wait_for_phase, worker_settings
from tests.harness.zero_stall import old_transaction

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

T = TypeVar("T")
POLICY = LockPolicy(blocker_min_age_ms=250, blocker_poll_s=0.05)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60) -> T:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value is not None:
            return value
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.2)


async def live_locks(handle: WorkflowHandle) -> LockDetails | None:
    return workflow_client.lock_details(await workflow_client.pending_heartbeats(await handle.describe()))


def rendered(status: MigrationStatus, locks: LockDetails | None) -> str:
    out = io.StringIO()
    console(out).print(status_view(status, "RUNNING", None, locks.lock_wait if locks else None))
    return out.getvalue()


async def start(temporal: TemporalServer, worker: WorkerHandle, policy: LockPolicy) -> WorkflowHandle:
    request = MigrationInput(
        target=worker.target, migration=migration(ADD_COLUMN), options=MigrationOptions(lock=policy)
    )
    return await start_migration(temporal.client, request, worker.task_queue)


async def test_status_names_the_blocker_while_a_step_waits(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=100)
    with old_transaction(dsn, "users", "ACCESS SHARE", POLICY.blocker_min_age_ms) as holder:
        pid = holder.info.backend_pid
        handle = await start(temporal, liveshift_worker, POLICY)

        async def waiting() -> LockDetails | None:
            locks = await live_locks(handle)
            return locks if locks and locks.lock_wait and locks.lock_wait.blockers else None

        locks = await eventually(waiting, "the expand step reports its wait in the heartbeat details")
        status = await workflow_client.status(handle)
        assert status.phase == "expand"
        assert locks.lock_wait is not None
        [blocker] = locks.lock_wait.blockers
        assert (blocker.pid, blocker.state, blocker.mode, blocker.granted) == (
            pid,
            "idle in transaction",
            "AccessShareLock",
            True,
        )
        assert blocker.query == "LOCK TABLE users IN ACCESS SHARE MODE" and blocker.transaction_open_s > 0
        assert locks.lock_wait.lock_mode == "AccessExclusiveLock" and locks.lock_wait.tables == ["public.users"]
        text = rendered(status, locks)
        assert f"blocked by pid {pid} (idle in transaction, transaction open " in text
        assert "AccessShareLock on users): LOCK TABLE users IN ACCESS SHARE MODE" in text
        assert "lock wait: " in text and "needs AccessExclusiveLock on public.users" in text
        assert "starving" not in text
    await wait_for_phase(handle, "awaiting_cutover")  # the blocker ended: the step ran
    assert await live_locks(handle) is None  # nothing pending
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="test over"))
    assert (await handle.result()).phase == "rolled_back"


async def test_starvation_is_said_in_status(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=100)
    starving = POLICY.model_copy(update={"starving_after_s": 0.5})
    with old_transaction(dsn, "users", "ACCESS SHARE", POLICY.blocker_min_age_ms):
        handle = await start(temporal, liveshift_worker, starving)

        async def starved() -> LockDetails | None:
            locks = await live_locks(handle)
            return locks if locks and locks.lock_wait and locks.lock_wait.starving else None

        locks = await eventually(starved, "the wait is reported as starving")
        assert "starving: a conflicting lock has been held all along" in rendered(
            await workflow_client.status(handle), locks
        )
        await handle.execute_update(ROLLBACK, RollbackRequest(reason="starved"))
    assert (await handle.result()).phase == "rolled_back"


async def test_terminated_blocker_is_named_in_status(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=100)
    policy = POLICY.model_copy(update={"terminate_blockers_after_s": 1.0})
    with old_transaction(dsn, "users", "ACCESS SHARE", POLICY.blocker_min_age_ms) as holder:
        pid = holder.info.backend_pid
        handle = await start(temporal, liveshift_worker, policy)
        status = await wait_for_phase(handle, "awaiting_cutover")
        with pytest.raises(psycopg.OperationalError):
            holder.execute("SELECT 1")
    [ended] = status.terminated_blockers  # from expand's answer: durable after the activity
    assert (ended.pid, ended.mode, ended.table) == (pid, "AccessShareLock", "users")
    assert f"terminated blocking backend pid {pid} (" in rendered(status, None)
    await handle.execute_update(ROLLBACK, RollbackRequest(reason="test over"))
    assert (await handle.result()).phase == "rolled_back"
    record_history("add_column_blocker_terminated", (await handle.fetch_history()).to_json())


async def test_termination_without_the_privilege_is_refused_at_prepare(
    owner_dsn: str, temporal: TemporalServer
) -> None:
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        seed(conn, rows=10)
        settings = worker_settings(temporal, owner_dsn)
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(settings, stop, client=temporal.client))
        try:
            worker = WorkerHandle(settings, "test", stop, task)
            handle = await start(temporal, worker, POLICY.model_copy(update={"terminate_blockers_after_s": 5.0}))
            status = await wait_for_phase(handle, "failed")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)
        assert status.last_error is not None and "pg_signal_backend" in status.last_error
        assert "terminate_blockers_after_s" in status.last_error
        # the database untouched: no migration record, no hidden column
        assert conn.execute("SELECT to_regclass('liveshift.migrations')").fetchone() == (None,)
        assert conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attnum > 0"
        ).fetchone() == (2,)
