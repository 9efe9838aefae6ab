"""raw_sql through every phase: up at expand, down at rollback, each exactly once, flagged unchecked in the plan."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.connections import open_session
from tests.harness.db import migration, snapshot
from tests.harness.operations.raw_sql import RAW
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    columns_of,
    each_step_twice_equals_once,
    exists,
    expand,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


def test_raw_sql_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, RAW) as run:
        blue, green = run.blue, run.green
        run.expand()
        # up ran at expand; liveshift does not model its effects, so neither version's views show the new column
        assert exists(conn, "public.users_name_idx")
        assert columns_of(conn, "public.users") == ["id", "email", "name", "nickname"]
        assert columns_of(blue, "users") == columns_of(green, "users") == ["id", "email", "name"]
        blue.execute("INSERT INTO users (email) VALUES ('b@x.org')")
        green.execute("INSERT INTO users (email) VALUES ('g@x.org')")
        assert blue.execute("SELECT count(*) FROM users WHERE email LIKE '_@x.org'").fetchone() == (2,)
        run.exchange()
        run.through("cutover")
        run.contract()
        green.execute("INSERT INTO users (email) VALUES ('after@x.org')")
    assert conn.execute("SELECT count(*) FROM liveshift.raw_sql_runs").fetchone() == (0,)


def test_plan_flags_raw_steps_as_unchecked(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, RAW.tables)
    with open_session(dsn) as c:
        plan = preflight.validate(c, RAW.m)
    ((_, _, op_plan),) = plan.ops
    assert op_plan.unchecked
    raw_steps = [s for s in plan.expand_steps() + plan.rollback_steps() if s.unchecked]
    assert [s.description for s in raw_steps] == ["raw SQL up (operation 0)", "raw SQL down (operation 0)"]
    assert all(s.label.startswith("unknown") and s.lock is None for s in raw_steps)


def test_a_failing_up_leaves_nothing_half_done(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, RAW.tables)
    before = snapshot(conn)
    m = migration(
        "name: raw_fails\noperations:\n  - op: raw_sql\n"
        "    up: 'CREATE INDEX half_done ON users (name); SELECT 1 / 0'\n"
    )
    with pytest.raises(psycopg.errors.DivisionByZero):
        expand(dsn, m)
    assert not exists(conn, "public.half_done")
    with open_session(dsn) as c:
        phases.rollback(c, m.name)
    assert snapshot(conn) == before


def test_without_down_rollback_only_forgets_that_up_ran(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, RAW.tables)
    conn.execute("CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0)")
    m = migration("name: raw_count\noperations:\n  - {op: raw_sql, up: 'UPDATE counter SET n = n + 1'}\n")
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
        phases.expand(c, m.name)
        assert conn.execute("SELECT n FROM counter").fetchone() == (1,)
        phases.rollback(c, m.name)
        assert conn.execute("SELECT n FROM counter").fetchone() == (1,)  # nothing to undo it with
        # the same migration started again runs its up again
        phases.prepare(c, m)
        phases.expand(c, m.name)
        assert conn.execute("SELECT n FROM counter").fetchone() == (2,)


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, RAW, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, RAW)
