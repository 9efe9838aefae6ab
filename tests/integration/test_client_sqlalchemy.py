"""liveshift.client with SQLAlchemy: engine events point every checkout at the flag's version."""

from __future__ import annotations

import itertools

import psycopg
import pytest
from sqlalchemy import Connection, column, create_engine, insert, select, table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from liveshift import phases
from liveshift.client import ClientError, VersionRouter, VersionUnavailable
from liveshift.client.for_sqlalchemy import attach, version_of
from liveshift.connections import open_session
from tests.harness.client_app import BLUE, GREEN, MIGRATION, RunningApp, cut_over, expanded, kept, roll_back

pytestmark = pytest.mark.integration


def _engine(dsn: str, router: VersionRouter):  # type: ignore[no-untyped-def]
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn), poolclass=QueuePool)
    attach(engine, router)
    return engine


def _write(conn: Connection, version: str, tag: int) -> None:
    """The application's code for each shape, in SQLAlchemy Core."""
    name = "full_name" if version == GREEN else "name"
    users = table("users", column("email"), column(name))
    conn.execute(insert(users).values({"email": f"a{tag}@x.org", name: version}))
    assert conn.execute(select(users.c[name]).where(users.c.email == f"a{tag}@x.org")).scalar_one() == version


def test_an_application_on_sqlalchemy_follows_cutover_and_rollback_and_loses_no_write(
    dsn: str, conn: psycopg.Connection
) -> None:
    expanded(dsn, conn)
    router = VersionRouter(key="app-1", ttl=0.05)
    engine = _engine(dsn, router)

    def request(tag: int) -> str:
        with engine.begin() as c:
            version = version_of(router, c)
            _write(c, version, tag)
            return version

    try:
        with RunningApp(request, retryable=(DBAPIError, ClientError)) as running:
            running.served(BLUE)
            cut_over(dsn)
            after_cutover = running.served(GREEN)
            roll_back(dsn)
            running.served(BLUE, after=after_cutover)
    finally:
        engine.dispose()
    assert [v for v, _ in itertools.groupby(v for _, v in running.acked)] == [BLUE, GREEN, BLUE]
    kept(conn, running.tags)


def test_a_contracted_pinned_version_fails_engine_connect_clearly(dsn: str, conn: psycopg.Connection) -> None:
    expanded(dsn, conn)
    engine = _engine(dsn, VersionRouter(pin=BLUE))
    try:
        with engine.connect() as c:
            assert c.exec_driver_sql("SHOW search_path").scalar_one() == '"public_users_baseline", pg_catalog'
        cut_over(dsn)
        with open_session(dsn) as c:
            phases.contract(c, MIGRATION.name)
        engine.dispose()  # a new connection, as after a restart of the pool
        with pytest.raises(VersionUnavailable, match="'public_users_baseline' of schema 'public' does not exist"):
            engine.connect()
    finally:
        engine.dispose()
