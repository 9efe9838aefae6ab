"""Several operations in one file, on two tables, through every phase with a blue and a green client."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import engine
from liveshift.errors import SpecError
from tests.helpers import backfill_all, client, migration
from tests.integration.test_op_support import (
    BLUE,
    PHASES_BEFORE_CONTRACT,
    Scenario,
    columns_of,
    contract,
    contract_matches_plain,
    each_step_twice_equals_once,
    expand,
    load,
    rollback_keeps_writes,
)

pytestmark = pytest.mark.integration

SETUP = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text, age int NOT NULL DEFAULT 0);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint REFERENCES users (id), total numeric(10,2) NOT NULL);
"""
ROWS = """
INSERT INTO users (email, name, age) SELECT 'u' || g || '@x.org', 'n' || g, g % 90 FROM generate_series(1, 600) g;
INSERT INTO orders (user_id, total) SELECT g % 600 + 1, g / 4.0 FROM generate_series(1, 1200) g;
"""

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


def _blue_write(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "WITH u AS (INSERT INTO users (email, name, age) VALUES (%s, 'blue', 20) RETURNING id) "
        "INSERT INTO orders (user_id, total) SELECT id, %s FROM u",
        (f"w{n}@x.org", -n),
    )


def _green_write(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "WITH u AS (INSERT INTO users (email, full_name, age) VALUES (%s, 'green', 20) RETURNING id) "
        "INSERT INTO orders (user_id, total, total_cents) SELECT id, %s, %s FROM u",
        (f"w{n}@x.org", -n, -100 * n),
    )


def _kept(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert conn.execute(
        "SELECT count(*) FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = ANY(%s) AND o.total < 0",
        (emails,),
    ).fetchone() == (len(tags),)


MULTI = Scenario(
    setup=SETUP,
    rows=ROWS,
    migration=MIGRATION,
    plain=PLAIN,
    blue_write=_blue_write,
    green_write=_green_write,
    kept=_kept,
)


def test_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = MULTI
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    # after expand: each version sees its own shape of both tables
    assert columns_of(blue, "users") == ["id", "email", "name", "age"]
    assert columns_of(green, "users") == ["id", "email", "full_name", "age"]
    assert columns_of(blue, "orders") == ["id", "user_id", "total"]
    assert columns_of(green, "orders") == ["id", "user_id", "total", "total_cents"]
    _blue_write(blue, 1)
    assert green.execute(
        "SELECT u.full_name, o.total_cents FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = 'w1@x.org'"
    ).fetchone() == ("blue", -100)
    _green_write(green, 2)
    assert blue.execute(
        "SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = 'w2@x.org'"
    ).fetchone() == ("green", -2)
    # the new constraints already hold for both versions
    with pytest.raises(psycopg.errors.UniqueViolation):
        green.execute("INSERT INTO users (email) VALUES ('u1@x.org')")
    with pytest.raises(psycopg.errors.CheckViolation):
        blue.execute("UPDATE users SET age = -1 WHERE id = 1")
    with pytest.raises(psycopg.errors.CheckViolation):  # NOT NULL is a CHECK until contract
        green.execute("INSERT INTO orders (user_id, total) VALUES (1, 1)")
    blue.execute("UPDATE orders SET total = 12.34 WHERE id = 1")
    assert green.execute("SELECT total_cents FROM orders WHERE id = 1").fetchone() == (1234,)

    # after backfill every existing order has its cents; validation then proves the CHECKs
    backfill_all(dsn, s.m.name)
    assert green.execute("SELECT count(*) FROM orders WHERE total_cents IS NULL").fetchone() == (0,)
    assert green.execute("SELECT total_cents FROM orders WHERE id = 6").fetchone() == (150,)
    with engine.connect(dsn) as c:
        engine.validate_constraints(c, s.m.name)
        report = engine.verify(c, s.m.name)
        assert report.ok, report.summary()
        engine.cutover(c, s.m.name)
        assert c.execute("SELECT liveshift.version_for('public')").fetchone() == (s.green,)
    _blue_write(blue, 3)  # blue keeps working after cutover
    assert green.execute(
        "SELECT o.total_cents FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = 'w3@x.org'"
    ).fetchone() == (-300,)

    contract(dsn, s.m)
    _green_write(green, 4)
    assert green.execute("SELECT count(*) FROM users").fetchone() == (604,)
    assert green.execute("SELECT count(*) FROM orders").fetchone() == (1204,)
    contract_matches_plain(conn, s)


def test_expressions_see_the_table_as_stored(dsn: str, conn: psycopg.Connection) -> None:
    """A CHECK or index predicate runs on the table, so it cannot name a column renamed in the same file."""
    load(conn, MULTI)
    m = migration(
        "name: m\noperations:\n  - {op: rename_column, table: users, column: name, to: full_name}\n"
        "  - {op: add_constraint, table: users, name: c, type: check, check: \"full_name <> ''\"}\n"
    )
    with engine.connect(dsn) as c, pytest.raises(SpecError) as err:
        engine.validate(c, m, file="m.yaml")
    assert (err.value.index, err.value.field) == (1, "check")
    assert "full_name" in str(err.value)


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_keeps_writes(dsn, conn, MULTI, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, MULTI)


ODD_SETUP = """
CREATE TABLE "Order Items" ("Id" bigserial PRIMARY KEY, "select" int NOT NULL DEFAULT 0, "a""quote" text, gone text);
"""
ODD_ROWS = """INSERT INTO "Order Items" ("select", "a""quote") SELECT g, 'q' || g FROM generate_series(1, 200) g"""

ODD = Scenario(
    setup=ODD_SETUP,
    rows=ODD_ROWS,
    migration="""
name: odd_names
operations:
  - {op: rename_column, table: Order Items, column: 'a"quote', to: 'from; DROP TABLE x --'}
  - {op: drop_column, table: Order Items, column: gone}
  - {op: create_index, name: 'Idx "Select"', table: Order Items, columns: [select], where: '"select" > 10'}
  - {op: add_constraint, table: Order Items, name: 'Check "Select"', type: check, check: '"select" >= 0'}
  - {op: add_constraint, table: Order Items, name: 'Uniq Quote', type: unique, columns: ['from; DROP TABLE x --']}
  - {op: rename_table, table: Order Items, to: 'Line Items'}
""",
    plain='''
ALTER TABLE "Order Items" RENAME COLUMN "a""quote" TO "from; DROP TABLE x --";
ALTER TABLE "Order Items" DROP COLUMN gone;
CREATE INDEX "Idx ""Select""" ON "Order Items" ("select") WHERE "select" > 10;
ALTER TABLE "Order Items" ADD CONSTRAINT "Check ""Select""" CHECK ("select" >= 0);
ALTER TABLE "Order Items" ADD CONSTRAINT "Uniq Quote" UNIQUE ("from; DROP TABLE x --");
ALTER TABLE "Order Items" RENAME TO "Line Items";
''',
    blue_write=lambda c, n: c.execute(
        'INSERT INTO "Order Items" ("select", "a""quote", gone) VALUES (%s, %s, %s)', (n, f"w{n}", "g")
    ),
    green_write=lambda c, n: c.execute(
        'INSERT INTO "Line Items" ("select", "from; DROP TABLE x --") VALUES (%s, %s)', (n, f"w{n}")
    ),
    kept=lambda conn, tags: _odd_kept(conn, tags),
)


def _odd_kept(conn: psycopg.Connection, tags: list[int]) -> None:
    names = [f"w{t}" for t in tags]
    row = conn.execute('SELECT count(*) FROM "Order Items" WHERE "a""quote" = ANY(%s)', (names,)).fetchone()
    assert row == (len(tags),)


def test_odd_identifiers_through_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    s = ODD
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    assert columns_of(green, "Line Items") == ["Id", "select", "from; DROP TABLE x --"]
    s.green_write(green, 1)
    assert blue.execute('SELECT "a""quote" FROM "Order Items" WHERE "select" = 1 AND "Id" > 200').fetchone() == ("w1",)
    s.blue_write(blue, 2)
    with pytest.raises(psycopg.errors.UniqueViolation):
        s.green_write(green, 2)
    with pytest.raises(psycopg.errors.CheckViolation):
        blue.execute('INSERT INTO "Order Items" ("select") VALUES (-1)')
    with engine.connect(dsn) as c:
        engine.validate_constraints(c, s.m.name)
        assert engine.verify(c, s.m.name).ok
        engine.cutover(c, s.m.name)
        engine.contract(c, s.m.name)
    s.green_write(green, 3)
    assert green.execute('SELECT count(*) FROM "Line Items"').fetchone() == (203,)
    contract_matches_plain(conn, s)


@pytest.mark.parametrize("stop_after", ["expand", "cutover"])
def test_odd_identifiers_rollback(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_keeps_writes(dsn, conn, ODD, stop_after)


def test_odd_identifiers_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, ODD)
