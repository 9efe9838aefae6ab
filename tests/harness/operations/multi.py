"""The scenarios of several operations in one file on two tables (`MULTI`), and of identifiers that need every
kind of quoting (`ODD`) (tests/integration/test_op_multi.py)."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Side, Table, count

TABLES = (
    Table(
        "users",
        "id bigserial PRIMARY KEY, email text NOT NULL, name text, age int NOT NULL DEFAULT 0",
        rows=600,
        values={"email": "'u' || g || '@x.org'", "name": "'n' || g", "age": "g % 90"},
    ),
    Table(
        "orders",
        "id bigserial PRIMARY KEY, user_id bigint REFERENCES users (id), total numeric(10,2) NOT NULL",
        rows=1200,
        values={"user_id": "g % 600 + 1", "total": "g / 4.0"},
    ),
)

MIGRATION = """
name: users_orders_v2
operations:
  - op: rename_column
    table: users
    column: name
    to: full_name
  - op: create_index
    name: users_full_name_idx
    table: users
    columns: [full_name]
  - op: add_constraint
    table: users
    name: users_age_nonneg
    type: check
    check: age >= 0
  - op: add_constraint
    table: users
    name: users_email_key
    type: unique
    columns: [email]
  - op: add_column
    table: orders
    column: {name: total_cents, type: bigint, nullable: false}
    up: (total * 100)::bigint
"""

PLAIN = """
ALTER TABLE users RENAME COLUMN name TO full_name;
CREATE INDEX users_full_name_idx ON users (full_name);
ALTER TABLE users ADD CONSTRAINT users_age_nonneg CHECK (age >= 0);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE orders ADD COLUMN total_cents bigint NOT NULL;
"""


def blue_write(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "WITH u AS (INSERT INTO users (email, name, age) VALUES (%s, 'blue', 20) RETURNING id) "
        "INSERT INTO orders (user_id, total) SELECT id, %s FROM u",
        (f"w{n}@x.org", -n),
    )


def green_write(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "WITH u AS (INSERT INTO users (email, full_name, age) VALUES (%s, 'green', 20) RETURNING id) "
        "INSERT INTO orders (user_id, total, total_cents) SELECT id, %s, %s FROM u",
        (f"w{n}@x.org", -n, -100 * n),
    )


def _sees(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    joined = "SELECT count(*) FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = ANY(%s) AND o.total < 0"
    assert count(conn, joined, emails) == len(tags)


MULTI = Scenario(
    tables=TABLES,
    migration=MIGRATION,
    plain=PLAIN,
    blue=Side(blue_write, _sees),
    green=Side(green_write, _sees),
)


MIGRATION_ODD = """
name: odd_names
operations:
  - {op: rename_column, table: Order Items, column: 'a"quote', to: 'from; DROP TABLE x --'}
  - {op: drop_column, table: Order Items, column: gone}
  - {op: create_index, name: 'Idx "Select"', table: Order Items, columns: [select], where: '"select" > 10'}
  - {op: add_constraint, table: Order Items, name: 'Check "Select"', type: check, check: '"select" >= 0'}
  - {op: add_constraint, table: Order Items, name: 'Uniq Quote', type: unique, columns: ['from; DROP TABLE x --']}
  - {op: rename_table, table: Order Items, to: 'Line Items'}
"""

PLAIN_ODD = '''
ALTER TABLE "Order Items" RENAME COLUMN "a""quote" TO "from; DROP TABLE x --";
ALTER TABLE "Order Items" DROP COLUMN gone;
CREATE INDEX "Idx ""Select""" ON "Order Items" ("select") WHERE "select" > 10;
ALTER TABLE "Order Items" ADD CONSTRAINT "Check ""Select""" CHECK ("select" >= 0);
ALTER TABLE "Order Items" ADD CONSTRAINT "Uniq Quote" UNIQUE ("from; DROP TABLE x --");
ALTER TABLE "Order Items" RENAME TO "Line Items";
'''

ODD_TABLE = Table(
    "Order Items",
    '"Id" bigserial PRIMARY KEY, "select" int NOT NULL DEFAULT 0, "a""quote" text, gone text',
    rows=200,
    values={"select": "g", 'a"quote': "'q' || g"},
)


def odd_blue_write(c: psycopg.Connection, n: int) -> None:
    c.execute('INSERT INTO "Order Items" ("select", "a""quote", gone) VALUES (%s, %s, %s)', (n, f"w{n}", "g"))


def odd_green_write(c: psycopg.Connection, n: int) -> None:
    c.execute('INSERT INTO "Line Items" ("select", "from; DROP TABLE x --") VALUES (%s, %s)', (n, f"w{n}"))


def _odd_blue_sees(conn: psycopg.Connection, tags: list[int]) -> None:
    names = [f"w{t}" for t in tags]
    assert count(conn, 'SELECT count(*) FROM "Order Items" WHERE "a""quote" = ANY(%s)', names) == len(tags)


def _odd_green_sees(conn: psycopg.Connection, tags: list[int]) -> None:
    names = [f"w{t}" for t in tags]
    assert count(conn, 'SELECT count(*) FROM "Line Items" WHERE "from; DROP TABLE x --" = ANY(%s)', names) == len(tags)


ODD = Scenario(
    tables=(ODD_TABLE,),
    migration=MIGRATION_ODD,
    plain=PLAIN_ODD,
    blue=Side(odd_blue_write, _odd_blue_sees),
    green=Side(odd_green_write, _odd_green_sees),
)


# a column changed, then dropped, in one file (Django's contenttypes 0002): the hidden copy the change adds is
# dropped by contract and rollback too
MIGRATION_CHANGED_THEN_DROPPED = """
name: changed_then_dropped
operations:
  - {op: alter_column, table: kinds, column: name, nullable: true, down: "coalesce(name, '')"}
  - {op: drop_column, table: kinds, column: name}
"""

KINDS = Table("kinds", "id bigserial PRIMARY KEY, label text NOT NULL, name varchar(100) NOT NULL", rows=300,
              values={"label": "'l' || g", "name": "'n' || g"})  # fmt: skip


def _kinds_blue_write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO kinds (label, name) VALUES (%s, 'blue')", (f"w{n}",))


def _kinds_green_write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO kinds (label) VALUES (%s)", (f"w{n}",))


def _kinds_sees(conn: psycopg.Connection, tags: list[int]) -> None:
    assert count(conn, "SELECT count(*) FROM kinds WHERE label = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)


CHANGED_THEN_DROPPED = Scenario(
    tables=(KINDS,),
    migration=MIGRATION_CHANGED_THEN_DROPPED,
    plain="ALTER TABLE kinds ALTER COLUMN name DROP NOT NULL;\nALTER TABLE kinds DROP COLUMN name;",
    blue=Side(_kinds_blue_write, _kinds_sees),
    green=Side(_kinds_green_write, _kinds_sees),
)
