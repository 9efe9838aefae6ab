"""The scenarios of raw_sql: up at expand, down at rollback (tests/integration/test_op_raw_sql.py)."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Table, count, same_side

USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL, name text",
    rows=300,
    values={"email": "'u' || g || '@x.org'", "name": "'n' || g"},
)


def _sees(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert count(conn, "SELECT count(*) FROM users WHERE email = ANY(%s)", emails) == len(tags)


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO users (email, name) VALUES (%s, 'w')", (f"w{n}@x.org",))


BLUE_SIDE, GREEN_SIDE = same_side(_write, _sees)


# several statements, none of them idempotent on its own: liveshift runs each side exactly once
RAW = Scenario(
    tables=(USERS,),
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
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)
