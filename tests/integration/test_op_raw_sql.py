"""raw_sql through every phase: up at expand, down at rollback, each exactly once, flagged unchecked in the plan."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import engine
from tests.helpers import client, migration, snapshot
from tests.integration.test_op_support import (
    BLUE,
    PHASES_BEFORE_CONTRACT,
    Scenario,
    advance,
    columns_of,
    contract,
    contract_matches_plain,
    each_step_twice_equals_once,
    exists,
    expand,
    load,
    rollback_keeps_writes,
)

pytestmark = pytest.mark.integration

SETUP = "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text)"
ROWS = "INSERT INTO users (email, name) SELECT 'u' || g || '@x.org', 'n' || g FROM generate_series(1, 300) g"


def _kept(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (emails,)).fetchone() == (len(tags),)


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO users (email, name) VALUES (%s, 'w')", (f"w{n}@x.org",))


# several statements, none of them idempotent on its own: liveshift runs each side exactly once
RAW = Scenario(
    setup=SETUP,
    rows=ROWS,
    migration="""
name: raw_nickname
operations:
  - op: raw_sql
    up: |
      CREATE INDEX users_name_idx ON users (name);
      ALTER TABLE users ADD COLUMN nickname text;  -- a trailing comment
    down: |
      DROP INDEX users_name_idx;
      ALTER TABLE users DROP COLUMN nickname
""",
    plain="CREATE INDEX users_name_idx ON users (name); ALTER TABLE users ADD COLUMN nickname text",
    blue_write=_write,
    green_write=_write,
    kept=_kept,
)


def test_raw_sql_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = RAW
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    # up ran at expand; liveshift does not model its effects, so neither version's views show the new column
    assert exists(conn, "public.users_name_idx")
    assert columns_of(conn, "public.users") == ["id", "email", "name", "nickname"]
    assert columns_of(blue, "users") == columns_of(green, "users") == ["id", "email", "name"]
    blue.execute("INSERT INTO users (email) VALUES ('b@x.org')")
    green.execute("INSERT INTO users (email) VALUES ('g@x.org')")
    assert blue.execute("SELECT count(*) FROM users WHERE email LIKE '_@x.org'").fetchone() == (2,)
    advance(dsn, s.m, "cutover")
    contract(dsn, s.m)
    green.execute("INSERT INTO users (email) VALUES ('after@x.org')")
    contract_matches_plain(conn, s)
    assert conn.execute("SELECT count(*) FROM liveshift.raw_sql_runs").fetchone() == (0,)


def test_plan_flags_raw_steps_as_unchecked(dsn: str, conn: psycopg.Connection) -> None:
    load(conn, RAW)
    with engine.connect(dsn) as c:
        plan = engine.validate(c, RAW.m)
    ((_, _, op_plan),) = plan.ops
    assert op_plan.unchecked
    raw_steps = [s for s in plan.expand_steps() + plan.rollback_steps() if s.unchecked]
    assert [s.description for s in raw_steps] == ["raw SQL up (operation 0)", "raw SQL down (operation 0)"]
    assert all(s.lock.startswith("unknown") for s in raw_steps)


def test_a_failing_up_leaves_nothing_half_done(dsn: str, conn: psycopg.Connection) -> None:
    load(conn, RAW)
    before = snapshot(conn)
    m = migration(
        "name: raw_fails\noperations:\n  - op: raw_sql\n"
        "    up: 'CREATE INDEX half_done ON users (name); SELECT 1 / 0'\n"
    )
    with pytest.raises(psycopg.errors.DivisionByZero):
        expand(dsn, m)
    assert not exists(conn, "public.half_done")
    with engine.connect(dsn) as c:
        engine.rollback(c, m.name)
    assert snapshot(conn) == before


def test_without_down_rollback_only_forgets_that_up_ran(dsn: str, conn: psycopg.Connection) -> None:
    load(conn, RAW)
    conn.execute("CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0)")
    m = migration("name: raw_count\noperations:\n  - {op: raw_sql, up: 'UPDATE counter SET n = n + 1'}\n")
    with engine.connect(dsn) as c:
        engine.prepare(c, m)
        engine.expand(c, m.name)
        engine.expand(c, m.name)
        assert conn.execute("SELECT n FROM counter").fetchone() == (1,)
        engine.rollback(c, m.name)
        assert conn.execute("SELECT n FROM counter").fetchone() == (1,)  # nothing to undo it with
        # the same migration started again runs its up again
        engine.prepare(c, m)
        engine.expand(c, m.name)
        assert conn.execute("SELECT n FROM counter").fetchone() == (2,)


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_keeps_writes(dsn, conn, RAW, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, RAW)
