"""The scenarios of drop_column and rename_column (tests/integration/test_op_columns.py)."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Side, Table, count

USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL, name text, age int NOT NULL DEFAULT 0",
    rows=500,
    values={"email": "'u' || g || '@x.org'", "name": "'User ' || g", "age": "g % 90"},
)


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert count(c, "SELECT count(*) FROM users WHERE email = ANY(%s)", emails) == len(tags)


def _sees_by_name(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM users WHERE name = ANY(%s)", [str(t) for t in tags]) == len(tags)


DROP_NAME = Scenario(
    tables=(USERS,),
    migration="""
name: users_drop_name
operations:
  - op: drop_column
    table: users
    column: name
""",
    plain="ALTER TABLE users DROP COLUMN name",
    blue=Side(lambda c, n: c.execute("INSERT INTO users (email, name) VALUES (%s, 'blue')", (f"w{n}@x.org",)), _sees),
    green=Side(lambda c, n: c.execute("INSERT INTO users (email, age) VALUES (%s, 30)", (f"w{n}@x.org",)), _sees),
)

# email is NOT NULL without a default: green writes need `down` to fill it (from name: 'w' || name || '@x.org')
DROP_EMAIL = Scenario(
    tables=(USERS,),
    migration="""
name: users_drop_email
operations:
  - op: drop_column
    table: users
    column: email
    down: "'w' || (name) || '@x.org'"
""",
    plain="ALTER TABLE users DROP COLUMN email",
    blue=Side(
        lambda c, n: c.execute("INSERT INTO users (email, name) VALUES (%s, %s)", (f"w{n}@x.org", str(n))), _sees
    ),
    green=Side(lambda c, n: c.execute("INSERT INTO users (name) VALUES (%s)", (str(n),)), _sees_by_name),
)

RENAME_NAME = Scenario(
    tables=(USERS,),
    migration="""
name: users_full_name
operations:
  - op: rename_column
    table: users
    column: name
    to: full_name
""",
    plain="ALTER TABLE users RENAME COLUMN name TO full_name",
    blue=Side(lambda c, n: c.execute("INSERT INTO users (email, name) VALUES (%s, 'blue')", (f"w{n}@x.org",)), _sees),
    green=Side(
        lambda c, n: c.execute("INSERT INTO users (email, full_name) VALUES (%s, 'green')", (f"w{n}@x.org",)), _sees
    ),
)

SCENARIOS = {"drop_nullable": DROP_NAME, "drop_not_null_with_down": DROP_EMAIL, "rename": RENAME_NAME}
