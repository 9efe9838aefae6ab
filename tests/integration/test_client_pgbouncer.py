"""liveshift.client through a real PgBouncer in transaction pooling (tests/harness/pgbouncer.py).

A session-level search_path leaks to whichever client the pooler gives the server connection next; routing each
transaction (liveshift.use_version, SET LOCAL) keeps nothing in the session. Blue and green clients share two
server connections through a cutover at 50%, shifts, and a rollback or a contract: no statement runs under
another version, the dual-write trigger takes every write for its writer's side, no acknowledged write is lost
and no request fails after one retry.
"""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases
from liveshift.client import ClientError, VersionRouter
from liveshift.client.keys import using_key
from tests.harness.db import through_verify
from tests.harness.pgbouncer import pgbouncer
from tests.harness.pooled_apps import (
    BLUE,
    CENTS,
    PooledClient,
    check_kept,
    run_during,
    set_up_accounts,
    split_keys,
    user_of,
)

pytestmark = pytest.mark.integration


def test_a_session_search_path_leaks_through_transaction_pooling_and_a_routed_transaction_does_not(
    dsn: str, conn: psycopg.Connection
) -> None:
    set_up_accounts(conn, dsn)
    with pgbouncer(dsn, [user_of(dsn)], pool_size=1) as pooled:
        with psycopg.connect(pooled, autocommit=True) as a, psycopg.connect(pooled, autocommit=True) as b:
            VersionRouter(pin=BLUE).point(a)  # session state: SET on the one server connection
            assert b.execute("SELECT (current_schemas(false))[1]").fetchone() == (BLUE,)  # b never asked for it
            b.execute("RESET search_path")
        router = VersionRouter(pin=BLUE, pooling="transaction")
        with psycopg.connect(pooled, prepare_threshold=None) as a, psycopg.connect(pooled, autocommit=True) as b:
            with router.transaction(a) as version:
                assert a.execute("SELECT (current_schemas(false))[1]").fetchone() == (version,) == (BLUE,)
                assert router.version_of(a) == BLUE
            assert b.execute("SELECT (current_schemas(false))[1]").fetchone() == ("public",)


def _clients(pooled: str, keys: list[str]) -> list[PooledClient]:
    router = VersionRouter(pooling="transaction")
    return [PooledClient(key, dsn=pooled, router=router) for key in keys]


def test_blue_and_green_clients_through_pgbouncer_through_a_rollback(dsn: str, conn: psycopg.Connection) -> None:
    set_up_accounts(conn, dsn)
    blues, greens = split_keys(conn, 50, 2)
    through = through_verify(dsn, CENTS)
    assert through.ok, through.summary()
    steps = [
        lambda c: phases.cutover(c, CENTS.name, percent=50),
        lambda c: phases.shift(c, CENTS.name, 100),
        lambda c: phases.shift(c, CENTS.name, 50),
        lambda c: phases.rollback(c, CENTS.name),
    ]
    with pgbouncer(dsn, [user_of(dsn)], pool_size=2) as pooled:
        clients = _clients(pooled, blues + greens)
        run_during(dsn, clients, steps)  # type: ignore[arg-type]
    check_kept(conn, clients)  # type: ignore[arg-type]


def test_blue_and_green_clients_through_pgbouncer_through_a_contract_at_once(
    dsn: str, conn: psycopg.Connection
) -> None:
    """Contract right after green reaches 100% (a soak of 0): each transaction reads the flag as it routes, so
    no client holds blue past the promotion but a transaction in flight, and its retry gets green."""
    set_up_accounts(conn, dsn)
    blues, greens = split_keys(conn, 50, 2)
    through = through_verify(dsn, CENTS)
    assert through.ok, through.summary()
    steps = [
        lambda c: phases.cutover(c, CENTS.name, percent=50),
        lambda c: phases.shift(c, CENTS.name, 100),
        lambda c: phases.contract(c, CENTS.name),
    ]
    with pgbouncer(dsn, [user_of(dsn)], pool_size=2) as pooled:
        clients = _clients(pooled, blues + greens)
        run_during(dsn, clients, steps)  # type: ignore[arg-type]
    check_kept(conn, clients)  # type: ignore[arg-type]


def test_per_request_keys_bound_the_flag_cache_and_a_non_psycopg3_connection_is_refused(
    dsn: str, conn: psycopg.Connection
) -> None:
    set_up_accounts(conn, dsn)
    router = VersionRouter(max_keys=100)
    with psycopg.connect(dsn, autocommit=True) as app:
        for i in range(2001):
            with using_key(f"user-{i}"):
                assert router.point(app) == BLUE
    assert len(router.flag) == 100
    with pytest.raises(ClientError, match="needs a psycopg 3 connection"):
        router.point(object())  # type: ignore[arg-type]
