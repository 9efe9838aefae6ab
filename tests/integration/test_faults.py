"""Faults of the infrastructure cost time, never data or a stuck migration: the Temporal server restarted
mid-backfill (on its state file), PostgreSQL restarted while expand and while contract wait on a
lock-taking step, and the worker's database connections cut (refused, or hanging, for a while) mid-batch
and mid-DDL through a TCP proxy the test controls, or silent without end (the worker gives them up).
Blue and green applications write throughout, straight to PostgreSQL; every acknowledged write must be
there at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from liveshift.cli.loadgen import LoadGenerator, Version, Workload
from liveshift.cli.stack.postgres import free_port
from liveshift.values import Throttle
from liveshift.worker.main import run_worker
from liveshift.workflows import client as workflow_client
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    SEARCH_ATTRIBUTES,
    STATUS,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
)
from tests.harness.chaos import BLUE, CONNECTION_LOST, GREEN, MIGRATION, SETUP, seed, until
from tests.harness.db import migration, rows_done, until_rows_done
from tests.harness.postgres import PostgresServer
from tests.harness.proxy import Mode, TcpProxy, tcp_proxy
from tests.harness.temporal import TemporalServer, WorkerHandle, temporal_binary, wait_for_phase, worker_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROWS = 3_000
THROTTLE = Throttle(initial_batch=100, min_batch=100, max_batch=100, max_rows_per_second=1000)
FINAL = {"final": Version(None, GREEN.row)}


@pytest.fixture
def accounts(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute(SETUP)
    seed(conn, ROWS)
    return conn


@pytest.fixture
def load(dsn: str, accounts: psycopg.Connection) -> Iterator[LoadGenerator]:
    generator = LoadGenerator(dsn, Workload("accounts", BLUE, GREEN, seed_keys=range(1, ROWS + 1)))
    yield generator
    generator.stop()


async def begin(client: Client, target: str, task_queue: str) -> WorkflowHandle:
    request = MigrationInput(
        target=target,
        migration=migration(MIGRATION),
        options=MigrationOptions(progress_interval_s=0.5, auto_cutover=True, throttle=THROTTLE),
    )
    return await start_migration(client, request, task_queue)


def waits_on_a_lock(dsn: str) -> bool:
    """A liveshift step of this database is held up by the holder: it waits outside the lock queue, polling
    pg_locks for the blockers (liveshift/blockers.py), or (a statement already sent) in the queue."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as c:
        row = c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'liveshift' AND (wait_event_type = 'Lock' OR query LIKE '%pg_locks%')"
        ).fetchone()
        return bool(row and row[0])


async def restart_while_a_step_waits(dsn: str, pg_server: PostgresServer) -> tuple[float, float]:
    """Hold the table (an open transaction that read it) until a liveshift step queues behind it, then
    restart PostgreSQL (which ends the holder too): the step's session dies mid-wait."""
    holder = psycopg.connect(dsn)
    holder.execute("SELECT count(*) FROM accounts")
    try:

        async def queued() -> bool:
            return await asyncio.to_thread(waits_on_a_lock, dsn)

        await until(queued, "a liveshift step waiting on the held table")
        began = time.time()
        await asyncio.to_thread(pg_server.restart)
        return began, time.time()
    finally:
        holder.close()


def assert_errors_only_while_restarting(load: LoadGenerator, restart: tuple[float, float]) -> None:
    failed = [s for s in load.samples() if not s.ok]
    assert all(s.error and s.error.startswith(CONNECTION_LOST) for s in failed), [s.error for s in failed][:5]
    assert all(restart[0] - 1 <= s.started <= restart[1] + 5 for s in failed), "an error away from the restart"


async def test_postgres_restarted_during_expand(
    dsn: str, load: LoadGenerator, pg_server: PostgresServer, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    load.start("blue", writers=2, readers=1, rate=30)
    handle = await begin(temporal.client, liveshift_worker.target, liveshift_worker.task_queue)
    restart = await restart_while_a_step_waits(dsn, pg_server)
    status = await wait_for_phase(handle, "backfill", "awaiting_contract")
    load.start("green", writers=2, readers=1, rate=30)
    status = await wait_for_phase(handle, "awaiting_contract")
    load.stop()
    assert status.verify is not None and status.verify.ok, status.verify
    assert [t.phase for t in status.transitions].count("expand") == 1  # retried inside the phase
    assert load.report().total.reconnects >= 1  # the restart did reach the applications
    assert_errors_only_while_restarting(load, restart)
    assert load.lost_writes() == []
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    assert (await handle.result()).phase == "complete"
    assert load.lost_writes(FINAL) == []


async def test_postgres_restarted_during_contract(
    dsn: str, load: LoadGenerator, pg_server: PostgresServer, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    load.start("blue", writers=2, readers=1, rate=30)
    handle = await begin(temporal.client, liveshift_worker.target, liveshift_worker.task_queue)
    await wait_for_phase(handle, "backfill")
    load.start("green", writers=2, readers=1, rate=30)
    await wait_for_phase(handle, "awaiting_contract")
    load.stop()
    assert load.lost_writes() == []
    load.start("green", writers=2, readers=1, rate=30)  # blue has left before its version does

    approve = asyncio.create_task(handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str))
    restart = await restart_while_a_step_waits(dsn, pg_server)
    await approve
    result = await handle.result()
    load.stop()
    assert result.phase == "complete", result.last_error
    assert [t.phase for t in result.transitions].count("contract") == 1
    assert_errors_only_while_restarting(load, restart)
    assert load.lost_writes(FINAL) == []


@contextlib.asynccontextmanager
async def worker_through_proxy(
    temporal: TemporalServer, dsn: str, **conninfo: object
) -> AsyncIterator[tuple[WorkerHandle, TcpProxy]]:
    """An in-process worker whose target goes through a TCP proxy the test controls (`conninfo`: more of
    the target's connection parameters)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    with tcp_proxy(str(info.get("host", "127.0.0.1")), int(info.get("port", 5432))) as proxy:
        proxied = psycopg.conninfo.make_conninfo(dsn, host="127.0.0.1", port=proxy.port, **conninfo)
        settings = worker_settings(temporal, proxied)
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(settings, stop, client=temporal.client))
        try:
            yield WorkerHandle(settings, "test", stop, task), proxy
        finally:  # a failed test must not leave its worker running past the session's Temporal server
            stop.set()
            proxy.set_mode("pass")
            await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def proxied_worker(temporal: TemporalServer, dsn: str) -> AsyncIterator[tuple[WorkerHandle, TcpProxy]]:
    async with worker_through_proxy(temporal, dsn) as worker:
        yield worker


async def settled_rows_done(dsn: str) -> int:
    """rows_done once no batch commits any more (one cut mid-flight may still land): unchanged over a second."""
    previous = await asyncio.to_thread(rows_done, dsn)

    async def unchanged() -> bool:
        nonlocal previous
        await asyncio.sleep(1)
        current = await asyncio.to_thread(rows_done, dsn)
        same, previous = current == previous, current
        return same

    await until(unchanged, "the backfill to stop committing")
    return previous


async def finish(handle: WorkflowHandle, load: LoadGenerator) -> None:
    """Through verify, no write lost, then contract: the migration completes."""
    status: MigrationStatus = await wait_for_phase(handle, "awaiting_contract")
    load.stop()
    assert status.verify is not None and status.verify.ok, status.verify
    for phase in ("expand", "backfill"):
        assert [t.phase for t in status.transitions].count(phase) == 1  # retried inside the phase
    assert load.report().total.errors == 0  # the applications never went through the proxy
    assert load.lost_writes() == []
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    assert (await handle.result()).phase == "complete"


@pytest.mark.parametrize("mode", ["refuse", "hang"])
async def test_worker_connections_cut_for_a_while_mid_backfill(
    dsn: str,
    load: LoadGenerator,
    temporal: TemporalServer,
    proxied_worker: tuple[WorkerHandle, TcpProxy],
    mode: Mode,
) -> None:
    worker, proxy = proxied_worker
    load.start("blue", writers=2, readers=1, rate=30)
    handle = await begin(temporal.client, worker.target, worker.task_queue)
    await wait_for_phase(handle, "backfill")
    load.start("green", writers=2, readers=1, rate=30)
    await until_rows_done(dsn, 500)
    connections = proxy.connections
    proxy.set_mode(mode)  # mid-batch: the open connections are cut (refuse) or go silent (hang)
    cut_at = await settled_rows_done(dsn)
    if mode == "refuse":

        async def reconnecting() -> bool:
            return proxy.connections > connections

        await until(reconnecting, "the worker to try to reconnect")
    await asyncio.sleep(1)
    assert await asyncio.to_thread(rows_done, dsn) == cut_at < ROWS  # no batch commits without a connection
    proxy.set_mode("pass")
    await finish(handle, load)


@pytest.mark.parametrize("mode", ["refuse", "hang"])
async def test_worker_connections_cut_for_a_while_mid_ddl(
    dsn: str,
    load: LoadGenerator,
    temporal: TemporalServer,
    proxied_worker: tuple[WorkerHandle, TcpProxy],
    mode: Mode,
) -> None:
    """An expand step waits on the table's lock when the worker's connections are cut; the lock is released
    while they are (the statement goes on server-side, its answer lost or held); then they come back."""
    worker, proxy = proxied_worker
    load.start("blue", writers=2, readers=1, rate=30)
    holder = psycopg.connect(dsn)
    holder.execute("SELECT count(*) FROM accounts")
    try:
        handle = await begin(temporal.client, worker.target, worker.task_queue)

        async def queued() -> bool:
            return await asyncio.to_thread(waits_on_a_lock, dsn)

        await until(queued, "an expand step waiting on the held table")
        proxy.set_mode(mode)
    finally:
        holder.close()
    await asyncio.sleep(2)
    assert (await handle.query(STATUS, result_type=MigrationStatus)).phase == "expand"
    proxy.set_mode("pass")
    await wait_for_phase(handle, "backfill", "awaiting_contract")
    load.start("green", writers=2, readers=1, rate=30)
    await finish(handle, load)


# what an operator's DSN may set: give up on a silent connection within seconds (liveshift's defaults take
# up to a minute), and have the server end a session idling in a transaction after 2 s (its client gone)
GIVE_UP_QUICKLY = {
    "keepalives_idle": 1,
    "keepalives_interval": 1,
    "keepalives_count": 2,
    "tcp_user_timeout": 2000,
    "options": "-c idle_in_transaction_session_timeout=2s",
}


def liveshift_idle_in_transaction(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as c:
        row = c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'liveshift' AND state LIKE 'idle in transaction%'"
        ).fetchone()
        return int(row[0]) if row else 0


async def test_a_worker_connection_silent_without_end_is_given_up(
    dsn: str, load: LoadGenerator, temporal: TemporalServer
) -> None:
    """Mid-backfill the network between the worker and PostgreSQL goes silent down to TCP (no reset, no FIN,
    nothing acknowledged) and does not come back for those connections: the worker's backfill connection
    gives up (tcp_user_timeout, keepalives) instead of waiting for its answer for ever while the activity
    heartbeats; so do the retries' connections while the silence lasts. Once connections get through again,
    the migration completes, no write lost, and no session of a given-up connection holds locks."""
    async with worker_through_proxy(temporal, dsn, **GIVE_UP_QUICKLY) as (worker, proxy):
        load.start("blue", writers=2, readers=1, rate=30)
        handle = await begin(temporal.client, worker.target, worker.task_queue)
        await wait_for_phase(handle, "backfill")
        load.start("green", writers=2, readers=1, rate=30)
        await until_rows_done(dsn, 500)
        connections = proxy.connections
        proxy.set_mode("hang")

        async def given_up() -> bool:
            status = await workflow_client.status(handle)
            # the attempt on the silent connection failed on its timeout, and a retry's connection did too
            return "timed out" in (status.last_error or "") and proxy.connections >= connections + 2

        await until(given_up, "the worker to give up its silent connections")
        cut_at = await asyncio.to_thread(rows_done, dsn)
        assert cut_at < ROWS

        async def no_locks_left() -> bool:
            return await asyncio.to_thread(liveshift_idle_in_transaction, dsn) == 0

        await until(no_locks_left, "the server to end the given-up sessions' transactions")
        proxy.set_mode("pass")
        await finish(handle, load)


async def dev_server(port: int, database: Path) -> WorkflowEnvironment:
    """A Temporal dev server keeping its state in `database`: restarted on the same file, it goes on."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        port=port,
        dev_server_database_filename=str(database),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
    )


async def test_temporal_server_restarted_mid_backfill(dsn: str, load: LoadGenerator, tmp_path: Path) -> None:
    """Its own dev server (the session's stays up), restarted on its state file while partitions run."""
    port = free_port()
    server = await dev_server(port, tmp_path / "temporal.db")
    client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
    settings = worker_settings(TemporalServer(client, f"127.0.0.1:{port}", "default"), dsn)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop, client=client))
    try:
        load.start("blue", writers=2, readers=1, rate=30)
        handle = await begin(client, "test", settings.temporal.task_queue)
        await wait_for_phase(handle, "backfill")
        load.start("green", writers=2, readers=1, rate=30)
        await until_rows_done(dsn, 500)
        await server.shutdown()
        down_at = await asyncio.to_thread(rows_done, dsn)
        # the partitions go on without Temporal: the checkpoint, not the server, holds their progress
        await until_rows_done(dsn, down_at + 300)
        server = await dev_server(port, tmp_path / "temporal.db")
        await finish(handle, load)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=30)
        await server.shutdown()
