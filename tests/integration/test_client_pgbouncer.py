"""liveshift.client through a real PgBouncer in transaction pooling (tests/harness/pgbouncer.py).

A session-level search_path leaks to whichever client the pooler gives the server connection next; routing each
transaction (liveshift.use_version, SET LOCAL) keeps nothing in the session. Blue and green clients share two
server connections through a cutover at 50%, shifts, and a rollback or a contract: no statement runs under
another version, the dual-write trigger takes every write for its writer's side, no acknowledged write is lost
and no request fails after one retry.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from liveshift import phases
from liveshift.client import ClientError, VersionRouter
from liveshift.client.keys import using_key
from liveshift.connections import open_session
from tests.harness.db import complete, through_verify
from tests.harness.pgbouncer import pgbouncer
from tests.harness.pooled_apps import ACCOUNTS, BASELINE, BLUE, CENTS, GREEN, PooledClient, split_keys

pytestmark = pytest.mark.integration


def _user(dsn: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(dsn).get("user") or "postgres")


def _set_up(conn: psycopg.Connection, dsn: str) -> None:
    conn.execute(ACCOUNTS)
    conn.execute("INSERT INTO accounts (owner, amount) SELECT 'seed-' || g, g FROM generate_series(1, 100) g")
    complete(dsn, BASELINE)


def test_a_session_search_path_leaks_through_transaction_pooling_and_a_routed_transaction_does_not(
    dsn: str, conn: psycopg.Connection
) -> None:
    _set_up(conn, dsn)
    with pgbouncer(dsn, [_user(dsn)], pool_size=1) as pooled:
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


def _run_clients(dsn: str, pooled: str, keys: list[str], drive: list[tuple[str, object]]) -> list[PooledClient]:
    """Clients with `keys` through the pooler while `drive`'s steps run one after another (each after a pause,
    so requests run between them)."""
    router = VersionRouter(pooling="transaction")
    clients = [PooledClient(pooled, key, router) for key in keys]
    for client in clients:
        client.start()
    try:
        for _name, step in drive:
            time.sleep(0.3)
            with open_session(dsn) as c:
                step(c)  # type: ignore[operator]
        time.sleep(0.3)
    finally:
        for client in clients:
            client.stop()
    return clients


def _check(conn: psycopg.Connection, clients: list[PooledClient]) -> None:
    """No statement under another version, no request failed after its retry, every acknowledged write in the
    table with the value its writer meant: 7 units, or 700 cents (the trigger ran its writer's side)."""
    assert [w for c in clients for w in c.wrong] == []
    assert [f for c in clients for f in c.failed] == []
    acked = {tag: version for c in clients for tag, version in c.acked}
    assert {GREEN, BLUE} <= set(acked.values())
    contracted = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass AND attname = 'amount_cents'"
    ).fetchone()
    value, expected = ("amount_cents", 700) if contracted else ("amount", 7)
    rows = dict(
        conn.execute(f"SELECT owner, {value} FROM public.accounts WHERE owner = ANY(%s)", (list(acked),)).fetchall()
    )
    assert set(rows) == set(acked)  # every acknowledged write is in the table
    assert {tag for tag, v in rows.items() if v != expected} == set()


def test_blue_and_green_clients_through_pgbouncer_through_a_rollback(dsn: str, conn: psycopg.Connection) -> None:
    _set_up(conn, dsn)
    blues, greens = split_keys(conn, 50, 2)
    through = through_verify(dsn, CENTS)
    assert through.ok, through.summary()
    steps = [
        ("cutover at 50%", lambda c: phases.cutover(c, CENTS.name, percent=50)),
        ("shift to 100%", lambda c: phases.shift(c, CENTS.name, 100)),
        ("shift to 50%", lambda c: phases.shift(c, CENTS.name, 50)),
        ("rollback", lambda c: phases.rollback(c, CENTS.name)),
    ]
    with pgbouncer(dsn, [_user(dsn)], pool_size=2) as pooled:
        clients = _run_clients(dsn, pooled, blues + greens, steps)
    _check(conn, clients)


def test_blue_and_green_clients_through_pgbouncer_through_a_contract_at_once(
    dsn: str, conn: psycopg.Connection
) -> None:
    """Contract right after green reaches 100% (a soak of 0): each transaction reads the flag as it routes, so
    no client holds blue past the promotion but a transaction in flight, and its retry gets green."""
    _set_up(conn, dsn)
    blues, greens = split_keys(conn, 50, 2)
    through = through_verify(dsn, CENTS)
    assert through.ok, through.summary()
    steps = [
        ("cutover at 50%", lambda c: phases.cutover(c, CENTS.name, percent=50)),
        ("shift to 100%", lambda c: phases.shift(c, CENTS.name, 100)),
        ("contract", lambda c: phases.contract(c, CENTS.name)),
    ]
    with pgbouncer(dsn, [_user(dsn)], pool_size=2) as pooled:
        clients = _run_clients(dsn, pooled, blues + greens, steps)
    _check(conn, clients)


def test_per_request_keys_bound_the_flag_cache_and_a_non_psycopg3_connection_is_refused(
    dsn: str, conn: psycopg.Connection
) -> None:
    _set_up(conn, dsn)
    router = VersionRouter(max_keys=100)
    with psycopg.connect(dsn, autocommit=True) as app:
        for i in range(2001):
            with using_key(f"user-{i}"):
                assert router.point(app) == BLUE
    assert len(router.flag) == 100
    with pytest.raises(ClientError, match="needs a psycopg 3 connection"):
        router.point(object())  # type: ignore[arg-type]
