"""The scenarios of create_index and drop_index (tests/integration/test_op_indexes.py)."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Table, count, same_side

USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL, name text, age int NOT NULL DEFAULT 0",
    rows=500,
    values={"email": "'u' || g || '@x.org'", "name": "'n' || g", "age": "g % 90"},
    then=("CREATE INDEX users_name_idx ON users (name)",),
)


def _sees(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert count(conn, "SELECT count(*) FROM users WHERE email = ANY(%s)", emails) == len(tags)


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO users (email, name, age) VALUES (%s, 'w', 40)", (f"w{n}@x.org",))


BLUE_SIDE, GREEN_SIDE = same_side(_write, _sees)


CREATE_UNIQUE = Scenario(
    tables=(USERS,),
    migration="""
name: users_email_idx
operations:
  - op: create_index
    name: users_email_uniq
    table: users
    columns: [email]
    unique: true
""",
    plain="CREATE UNIQUE INDEX users_email_uniq ON users (email)",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)

CREATE_PARTIAL = Scenario(
    tables=(USERS,),
    migration="""
name: users_adults_idx
operations:
  - op: create_index
    name: users_adults
    table: users
    columns: [age, name]
    method: btree
    where: age >= 18
""",
    plain="CREATE INDEX users_adults ON users USING btree (age, name) WHERE age >= 18",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)

CREATE_HASH = Scenario(
    tables=(USERS,),
    migration="""
name: users_email_hash
operations:
  - op: create_index
    name: users_email_hash
    table: users
    columns: [email]
    method: hash
""",
    plain="CREATE INDEX users_email_hash ON users USING hash (email)",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)

DROP_NAME_IDX = Scenario(
    tables=(USERS,),
    migration="""
name: drop_users_name_idx
operations:
  - op: drop_index
    name: users_name_idx
""",
    plain="DROP INDEX users_name_idx",
    blue=BLUE_SIDE,
    green=GREEN_SIDE,
)

SCENARIOS = {
    "create_unique": CREATE_UNIQUE,
    "create_partial": CREATE_PARTIAL,
    "create_hash": CREATE_HASH,
    "drop_index": DROP_NAME_IDX,
}
