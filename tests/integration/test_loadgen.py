"""The load generator itself: rate, reports, reconnects after a restart, and that it catches lost writes."""

from __future__ import annotations

import time

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from liveshift import phases
from liveshift.cli.loadgen import LoadGenerator, Version, Workload
from liveshift.connections import open_session
from tests.harness.db import backfill_all, migration
from tests.harness.postgres import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SEED = 500


@pytest.fixture
def accounts(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE TABLE accounts (id bigserial PRIMARY KEY, amount integer NOT NULL)")
    conn.execute(f"INSERT INTO accounts (amount) SELECT g FROM generate_series(1, {SEED}) g")
    return conn


def plain(table: str = "accounts") -> Workload:
    version = Version(None, lambda n: {"amount": n})
    return Workload(table=table, blue=version, green=version, seed_keys=range(1, SEED + 1))


def run_for(load: LoadGenerator, seconds: float) -> None:
    try:
        time.sleep(seconds)
    finally:
        load.stop()


def test_fixed_rate_report_and_no_lost_writes(dsn: str, accounts: psycopg.Connection) -> None:
    load = LoadGenerator(dsn, plain())
    load.start("blue", writers=2, readers=1, rate=40)
    run_for(load, 2.0)
    report = load.report()
    blue = report.sides["blue"]
    # 3 threads at 40/s for ~2 s: never above the rate, and not far below it on a busy machine
    assert 60 <= blue.requests <= 3 * 40 * 2.5
    assert blue.errors == 0 and blue.reads > 0 and blue.writes > 0
    assert 0 < blue.p50 <= blue.p99 <= blue.max_latency
    assert "green" not in report.sides
    assert load.acknowledged_writes() > 0
    assert load.lost_writes() == []
    # no two writers wrote the same row: each updates only its own seed rows (key modulo 64) and its inserts
    first, second = (set(c.rows) for c in load.clients if c.role == "writer")
    assert first and second and not first & second
    samples = load.samples()
    assert samples == sorted(samples, key=lambda s: s.started)
    assert {s.kind for s in samples} == {"read", "insert", "update"}


def test_detects_missing_and_wrong_rows(dsn: str, accounts: psycopg.Connection) -> None:
    load = LoadGenerator(dsn, plain())
    load.start("blue", writers=1, readers=0, rate=None)
    run_for(load, 0.5)
    written = sorted(k for c in load.clients for k in c.rows)
    assert len(written) >= 3
    accounts.execute("DELETE FROM accounts WHERE id = %s", (written[0],))
    accounts.execute("UPDATE accounts SET amount = -1 WHERE id = %s", (written[1],))
    lost = load.lost_writes()
    assert {(w.key, w.found is None) for w in lost} == {(written[0], True), (written[1], False)}
    assert next(w for w in lost if w.key == written[1]).found == {"amount": -1}


def test_reconnects_after_restart_and_loses_nothing(
    dsn: str, accounts: psycopg.Connection, pg_server: PostgresServer
) -> None:
    load = LoadGenerator(dsn, plain())
    load.start("blue", writers=2, readers=1, rate=50)
    try:
        time.sleep(1.0)
        pg_server.restart()
        restarted = time.time()
        time.sleep(1.5)
    finally:
        load.stop()
    report = load.report()
    assert report.total.reconnects >= 3  # every thread came back
    assert report.total.errors >= 1
    after = [s for s in load.samples(since=restarted) if s.ok]
    assert {s.kind for s in after} >= {"read", "insert", "update"}
    # errors only around the restart, each one a lost connection
    assert all("terminat" in e or "connection" in e.lower() or "closed" in e for e in report.total.first_errors)
    assert load.lost_writes() == []


MIGRATION = """
name: accounts_cents
operations:
  - op: add_column
    table: accounts
    column: {name: amount_cents, type: bigint, nullable: false}
    up: amount::bigint * 100
"""


def test_blue_and_green_through_a_migration(dsn: str, accounts: psycopg.Connection) -> None:
    blue = Version("public_base", lambda n: {"amount": n})
    green = Version("public_accounts_cents", lambda n: {"amount": n, "amount_cents": n * 100})
    load = LoadGenerator(dsn, Workload("accounts", blue, green, seed_keys=range(1, SEED + 1)))
    m = migration(MIGRATION)
    load.start("blue", writers=2, readers=1, rate=40)
    try:
        with open_session(dsn) as conn:
            phases.prepare(conn, m)
            phases.expand(conn, m.name)
            load.start("green", writers=2, readers=1, rate=40)
            time.sleep(0.5)
            backfill_all(dsn, m.name)
            phases.validate_constraints(conn, m.name)
            time.sleep(0.5)
            assert phases.verify(conn, m.name).ok
            phases.cutover(conn, m.name)
            time.sleep(0.5)
    finally:
        load.stop()
    report = load.report()
    assert report.total.errors == 0, report.summary()
    assert report.sides["green"].writes > 0
    assert load.lost_writes() == []
    with open_session(dsn) as conn:
        phases.contract(conn, m.name)
    assert load.lost_writes({"final": Version(None, green.row)}) == []


def test_flag_following_clients_are_served_by_the_version_the_flag_gives_each_user(
    dsn: str, accounts: psycopg.Connection
) -> None:
    """The demo's application: per request, `version_for` for a user; counted per version, exported per version."""
    blue = Version("public_base", lambda n: {"amount": n})
    green = Version("public_accounts_cents", lambda n: {"amount": n, "amount_cents": n * 100})
    load = LoadGenerator(dsn, Workload("accounts", blue, green, seed_keys=range(1, SEED + 1)))
    registry = CollectorRegistry()
    load.export_metrics(registry)
    m = migration(MIGRATION)
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
        phases.expand(conn, m.name)
        backfill_all(dsn, m.name)
        phases.validate_constraints(conn, m.name)
        assert phases.verify(conn, m.name).ok
        phases.cutover(conn, m.name, 0)
        load.start_following_flag(writers=2, readers=2, rate=None)
        try:
            time.sleep(0.5)
            at_zero = load.requests_by_version("flag")
            phases.shift(conn, m.name, 30)
            time.sleep(1.0)
            at_thirty = load.requests_by_version("flag")
            phases.shift(conn, m.name, 100)
            at_hundred = load.requests_by_version("flag")
            time.sleep(0.5)
        finally:
            load.stop("flag")
        at_end = load.requests_by_version("flag")
    assert at_zero["green"] == 0 and at_zero["blue"] > 0  # 0%: every user on blue
    blue_30, green_30 = at_thirty["blue"] - at_zero["blue"], at_thirty["green"] - at_zero["green"]
    assert 0.2 < green_30 / (blue_30 + green_30) < 0.4, at_thirty  # about 30% of requests: users picked at random
    assert at_end["blue"] - at_hundred["blue"] <= 4  # after 100%: at most the requests in flight (4 threads) on blue
    assert at_end["green"] - at_hundred["green"] > 20
    assert load.report().total.errors == 0
    assert registry.get_sample_value("liveshift_demo_requests_total", {"version": "green"}) == at_end["green"]
    assert registry.get_sample_value("liveshift_demo_errors_total", {"version": "blue"}) == 0
    assert load.lost_writes() == []
