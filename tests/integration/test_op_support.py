"""Drivers the test_op_* modules share (this module holds no tests of its own).

A `Scenario` is one migration with its tables, the plain statements it stands for, and one
write through each version. The drivers check what every operation must satisfy: rollback
from each phase before contract restores the catalog and keeps every row written meanwhile,
each step run twice equals run once, and contract leaves the plain statements' schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from liveshift import engine
from liveshift.spec import Migration
from tests.helpers import backfill_all, client, migration, plain_alter_snapshot, snapshot

BLUE = "public_base"
PHASES_BEFORE_CONTRACT = ["expand", "backfill", "verify", "cutover"]

Write = Callable[[psycopg.Connection, int], None]


@dataclass(frozen=True)
class Scenario:
    setup: str  # the tables, as plain SQL (no rows: the plain statements run on it too)
    rows: str  # a few rows
    migration: str  # YAML
    plain: str  # the plain statements this migration stands for
    blue_write: Write  # one write through blue, tagged with a number
    green_write: Write  # one write through green, tagged with a number
    # the rows written under these tags are all in the physical tables (checked after rollback)
    kept: Callable[[psycopg.Connection, list[int]], None]

    @property
    def m(self) -> Migration:
        return migration(self.migration)

    @property
    def green(self) -> str:
        return f"public_{self.m.name}"


def load(conn: psycopg.Connection, scenario: Scenario) -> None:
    conn.execute(scenario.setup)
    conn.execute(scenario.rows)


def expand(dsn: str, m: Migration) -> None:
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.expand(conn, m.name)


def advance(dsn: str, m: Migration, through: str) -> None:
    """From expanded to the end of phase `through` (backfill, verify or cutover)."""
    if through == "expand":
        return
    backfill_all(dsn, m.name)
    if through == "backfill":
        return
    with engine.connect(dsn) as conn:
        engine.validate_constraints(conn, m.name)
        report = engine.verify(conn, m.name)
        assert report.ok, report.summary()
        if through == "cutover":
            engine.cutover(conn, m.name)


def contract(dsn: str, m: Migration) -> None:
    with engine.connect(dsn) as conn:
        engine.contract(conn, m.name)


def rollback_keeps_writes(dsn: str, conn: psycopg.Connection, scenario: Scenario, stop_after: str) -> None:
    load(conn, scenario)
    before = snapshot(conn)
    m = scenario.m
    expand(dsn, m)
    with client(dsn, BLUE) as blue, client(dsn, scenario.green) as green:
        green.execute("SELECT 1")
        scenario.green_write(green, 1)
        scenario.blue_write(blue, 2)
        advance(dsn, m, stop_after)
        scenario.green_write(green, 3)
        scenario.blue_write(blue, 4)
    with engine.connect(dsn) as c:
        engine.rollback(c, m.name)
        engine.rollback(c, m.name)  # twice equals once
    assert snapshot(conn) == before
    scenario.kept(conn, [1, 2, 3, 4])
    assert no_leftovers(conn, scenario.green)


def each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: Scenario) -> None:
    load(conn, scenario)
    m = scenario.m
    with engine.connect(dsn) as c:
        engine.prepare(c, m)
        engine.prepare(c, m)
        engine.expand(c, m.name)
        once = snapshot(c)
        engine.expand(c, m.name)
        assert snapshot(c) == once
        backfill_all(dsn, m.name)
        backfill_all(dsn, m.name)
        engine.validate_constraints(c, m.name)
        once = snapshot(c)
        engine.validate_constraints(c, m.name)
        assert snapshot(c) == once
        assert engine.verify(c, m.name).ok
        engine.cutover(c, m.name)
        engine.cutover(c, m.name)
        engine.contract(c, m.name)
        done = snapshot(c)
        engine.contract(c, m.name)
        assert snapshot(c) == done
    assert done == plain_alter_snapshot(conn, scenario.setup, scenario.plain)


def contract_matches_plain(conn: psycopg.Connection, scenario: Scenario) -> None:
    """After contract: the plain statements' schema, and nothing of liveshift's left on the tables."""
    assert snapshot(conn) == plain_alter_snapshot(conn, scenario.setup, scenario.plain)
    assert no_leftovers(conn, BLUE)


def no_leftovers(conn: psycopg.Connection, version: str) -> bool:
    """No dual-write trigger, helper column or `version` schema is left."""
    triggers = conn.execute(
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal"
    ).fetchone()
    helpers = conn.execute(
        "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND a.attname LIKE '\\_ls\\_%' AND NOT a.attisdropped"
    ).fetchone()
    schemas = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (version,)).fetchone()
    return triggers == (0,) and helpers == (0,) and schemas == (0,)


def columns_of(c: psycopg.Connection, relation: str) -> list[str]:
    cursor = c.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(*relation.split("."))))
    assert cursor.description is not None
    return [d.name for d in cursor.description]


def exists(c: psycopg.Connection, relation: str) -> bool:
    row = c.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,)).fetchone()
    return bool(row and row[0])
