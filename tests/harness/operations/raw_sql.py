"""The scenarios of raw_sql: up at expand, down at rollback (tests/integration/test_op_raw_sql.py)."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Side, Table, count, same_side

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


def _tag(c: psycopg.Connection, n: int) -> None:
    _write(c, n)
    c.execute("INSERT INTO tags (label) VALUES (%s)", (f"w{n}",))


# a table up creates: green's version shows it (and writes into it); on_complete runs once, at contract
RAW_TABLE = Scenario(
    tables=(USERS,),
    migration="""
name: raw_tags
operations:
  - op: raw_sql
    up: CREATE TABLE tags (id bigserial PRIMARY KEY, label text NOT NULL)
    down: DROP TABLE tags
    on_complete: CREATE INDEX tags_label_idx ON tags (label)
""",
    plain="CREATE TABLE tags (id bigserial PRIMARY KEY, label text NOT NULL); "
    "CREATE INDEX tags_label_idx ON tags (label)",
    blue=BLUE_SIDE,
    green=Side(_tag, _sees),
)
