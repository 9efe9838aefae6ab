"""liveshift.client with SQLAlchemy: engine events point every checkout at the flag's version (session pooling), or
route every transaction (transaction pooling, through a real PgBouncer)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import Connection, column, create_engine, insert, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from liveshift import phases
from liveshift.client import ClientError, VersionRouter, VersionUnavailable
from liveshift.client.for_sqlalchemy import attach, version_of
from liveshift.client.keys import using_key
from liveshift.connections import open_session
from tests.harness.client_app import BLUE, GREEN, MIGRATION, RunningApp, cut_over, expanded, kept, roll_back
from tests.harness.db import through_verify
from tests.harness.pgbouncer import pgbouncer
from tests.harness.pooled_apps import (
    CENTS,
    RAN_UNDER,
    LeakObserver,
    RequestLoop,
    check_kept,
    ran_wrong,
    run_during,
    set_up_accounts,
    split_keys,
    user_of,
)
from tests.harness.pooled_apps import GREEN as PGB_GREEN

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


def test_sqlalchemy_routes_each_transaction_through_pgbouncer(dsn: str, conn: psycopg.Connection) -> None:
    """Transaction pooling: the engine's `begin` event routes each transaction (no raw driver connection in the
    application); blue and green keys (using_key) share one server connection with an unrouted client through a
    cutover at 50%, shifts and a rollback: nothing ran under another version, nothing leaked, nothing was lost."""
    set_up_accounts(conn, dsn)
    blues, greens = split_keys(conn, 50, 2)
    through = through_verify(dsn, CENTS)
    assert through.ok, through.summary()
    router = VersionRouter(pooling="transaction")
    with pgbouncer(dsn, [user_of(dsn)], pool_size=1) as pooled:
        engine = create_engine(
            "postgresql+psycopg://", creator=lambda: psycopg.connect(pooled, prepare_threshold=None), pool_size=4
        )
        attach(engine, router)

        def request_for(key: str) -> Callable[[str], tuple[str, list[str]]]:
            def request(tag: str) -> tuple[str, list[str]]:
                with using_key(key), engine.connect() as c:
                    version = version_of(router, c)  # begins the transaction: routed
                    column, value = ("amount_cents", 700) if version == PGB_GREEN else ("amount", 7)
                    c.execute(text(f"INSERT INTO accounts (owner, {column}) VALUES (:o, :v)"), {"o": tag, "v": value})
                    ran_under = tuple(c.execute(text(RAN_UNDER)).one())
                    c.commit()
                return version, ran_wrong(version, tag, ran_under)

            return request

        loops = [RequestLoop(k, request_for(k), retryable=(DBAPIError, ClientError)) for k in blues + greens]
        observer = LeakObserver("observer", dsn=pooled)
        steps = [
            lambda c: phases.cutover(c, CENTS.name, percent=50),
            lambda c: phases.shift(c, CENTS.name, 100),
            lambda c: phases.shift(c, CENTS.name, 0),
            lambda c: phases.rollback(c, CENTS.name),
        ]
        try:
            run_during(dsn, [*loops, observer], steps)
        finally:
            engine.dispose()
    assert observer.acked and observer.wrong == [] and observer.failed == []
    check_kept(conn, loops)
