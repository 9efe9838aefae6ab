"""The scenarios of create_table, drop_table and rename_table (tests/integration/test_op_tables.py)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from tests.harness.scenario import Scenario, Side, Table, blue_tags, count

TABLES = (
    Table("users", "id bigserial PRIMARY KEY, email text NOT NULL", rows=300, values={"email": "'u' || g || '@x.org'"}),
    Table(
        "audit_log",
        "id serial PRIMARY KEY, user_id bigint REFERENCES users (id), message text",
        rows=300,
        values={"user_id": "g", "message": "'hello ' || g"},
    ),
)


def _users_sees(conn: psycopg.Connection, tags: list[int], table: str = "users") -> None:
    emails = [f"w{t}@x.org" for t in tags]
    query = sql.SQL("SELECT count(*) FROM {} WHERE email = ANY(%s)").format(sql.Identifier(table))
    assert count(conn, query, emails) == len(tags)


def _user_write(c: psycopg.Connection, n: int, table: str = "users") -> None:
    c.execute(sql.SQL("INSERT INTO {} (email) VALUES (%s)").format(sql.Identifier(table)), (f"w{n}@x.org",))


USER_SIDE = Side(_user_write, _users_sees)

CREATE_ORDERS = Scenario(
    tables=TABLES,
    migration="""
name: create_orders
operations:
  - op: create_table
    table: orders
    columns:
      - {name: id, type: bigserial, primary_key: true}
      - {name: user_id, type: bigint, nullable: false, references: {table: users, column: id, on_delete: CASCADE}}
      - {name: total, type: "numeric(10,2)", nullable: false, default: "0", check: "total >= 0"}
      - {name: reference, type: text, unique: true}
""",
    plain="""CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        total numeric(10,2) NOT NULL DEFAULT 0 CHECK (total >= 0),
        reference text UNIQUE)""",
    blue=USER_SIDE,
    green=Side(
        lambda c, n: c.execute(
            "WITH u AS (INSERT INTO users (email) VALUES (%s) RETURNING id) "
            "INSERT INTO orders (user_id, total) SELECT id, 9.5 FROM u",
            (f"w{n}@x.org",),
        ),
        _users_sees,
    ),
)

COMPOSITE_KEY = Scenario(
    tables=TABLES,
    migration="""
name: create_memberships
operations:
  - op: create_table
    table: memberships
    columns:
      - {name: user_id, type: bigint, references: {table: users, column: id}}
      - {name: team, type: text}
      - {name: since, type: timestamptz, nullable: false, default: now()}
    primary_key: [user_id, team]
""",
    plain="""CREATE TABLE memberships (user_id bigint REFERENCES users (id), team text,
        since timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (user_id, team))""",
    blue=USER_SIDE,
    green=Side(
        lambda c, n: c.execute(
            "WITH u AS (INSERT INTO users (email) VALUES (%s) RETURNING id) "
            "INSERT INTO memberships (user_id, team) SELECT id, 'red' FROM u",
            (f"w{n}@x.org",),
        ),
        _users_sees,
    ),
)


def _log_sees(conn: psycopg.Connection, tags: list[int]) -> None:
    # green cannot see audit_log: only blue's writes (even tags) land there
    messages = [f"w{t}" for t in blue_tags(tags)]
    assert count(conn, "SELECT count(*) FROM audit_log WHERE message = ANY(%s)", messages) == len(messages)
    _users_sees(conn, tags)


DROP_LOG = Scenario(
    tables=TABLES,
    migration="""
name: drop_audit_log
operations:
  - op: drop_table
    table: audit_log
""",
    plain="DROP TABLE audit_log",
    blue=Side(
        lambda c, n: c.execute(
            "WITH u AS (INSERT INTO users (email) VALUES (%s) RETURNING id) "
            "INSERT INTO audit_log (user_id, message) SELECT id, %s FROM u",
            (f"w{n}@x.org", f"w{n}"),
        ),
        _log_sees,
    ),
    green=USER_SIDE,
)

RENAME_USERS = Scenario(
    tables=TABLES,
    migration="""
name: users_to_members
operations:
  - op: rename_table
    table: users
    to: members
""",
    plain="ALTER TABLE users RENAME TO members",
    blue=USER_SIDE,
    green=Side(lambda c, n: _user_write(c, n, "members"), lambda c, tags: _users_sees(c, tags, "members")),
)

SCENARIOS = {
    "create_table": CREATE_ORDERS,
    "create_table_composite_key": COMPOSITE_KEY,
    "drop_table": DROP_LOG,
    "rename_table": RENAME_USERS,
}
