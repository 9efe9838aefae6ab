"""Several operations in one file, on two tables, through every phase with a blue and a green client."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.helpers import migration
from tests.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    Scenario,
    Side,
    Table,
    columns_of,
    count,
    each_step_twice_equals_once,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

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


def _sees(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    joined = "SELECT count(*) FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = ANY(%s) AND o.total < 0"
    assert count(conn, joined, emails) == len(tags)


MULTI = Scenario(
    tables=TABLES,
    migration=MIGRATION,
    plain=PLAIN,
    blue=Side(_blue_write, _sees),
    green=Side(_green_write, _sees),
)


def test_phases(dsn: str, conn: psycopg.Connection) -> None:
    # this test's own writes use tags from 1001 on, clear of the harness's
    with Run(dsn, conn, MULTI) as run:
        blue, green = run.blue, run.green
        run.expand()
        # after expand: each version sees its own shape of both tables
        assert columns_of(blue, "users") == ["id", "email", "name", "age"]
        assert columns_of(green, "users") == ["id", "email", "full_name", "age"]
        assert columns_of(blue, "orders") == ["id", "user_id", "total"]
        assert columns_of(green, "orders") == ["id", "user_id", "total", "total_cents"]
        _blue_write(blue, 1001)
        assert green.execute(
            "SELECT u.full_name, o.total_cents FROM users u JOIN orders o ON o.user_id = u.id "
            "WHERE u.email = 'w1001@x.org'"
        ).fetchone() == ("blue", -100100)
        _green_write(green, 1002)
        assert blue.execute(
            "SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = 'w1002@x.org'"
        ).fetchone() == ("green", -1002)
        # the new constraints already hold for both versions
        with pytest.raises(psycopg.errors.UniqueViolation):
            green.execute("INSERT INTO users (email) VALUES ('u1@x.org')")
        with pytest.raises(psycopg.errors.CheckViolation):
            blue.execute("UPDATE users SET age = -1 WHERE id = 1")
        with pytest.raises(psycopg.errors.CheckViolation):  # NOT NULL is a CHECK until contract
            green.execute("INSERT INTO orders (user_id, total) VALUES (1, 1)")
        blue.execute("UPDATE orders SET total = 12.34 WHERE id = 1")
        assert green.execute("SELECT total_cents FROM orders WHERE id = 1").fetchone() == (1234,)
        run.exchange()

        # after backfill every existing order has its cents; validation then proves the CHECKs
        run.backfill()
        assert green.execute("SELECT count(*) FROM orders WHERE total_cents IS NULL").fetchone() == (0,)
        assert green.execute("SELECT total_cents FROM orders WHERE id = 6").fetchone() == (150,)
        run.exchange()
        run.through("cutover")  # verify reports no mismatch; version_for('public') names green
        _blue_write(blue, 1003)  # blue keeps working after cutover
        assert green.execute(
            "SELECT o.total_cents FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = 'w1003@x.org'"
        ).fetchone() == (-100300,)

        run.contract()
        _green_write(green, 1004)
        assert green.execute("SELECT count(*) FROM users").fetchone() == (604 + len(run.acked),)
        assert green.execute("SELECT count(*) FROM orders").fetchone() == (1204 + len(run.acked),)


def test_expressions_see_the_table_as_stored(dsn: str, conn: psycopg.Connection) -> None:
    """A CHECK or index predicate runs on the table, so it cannot name a column renamed in the same file."""
    load_tables(conn, MULTI.tables)
    m = migration(
        "name: m\noperations:\n  - {op: rename_column, table: users, column: name, to: full_name}\n"
        "  - {op: add_constraint, table: users, name: c, type: check, check: \"full_name <> ''\"}\n"
    )
    with open_session(dsn) as c, pytest.raises(SpecError) as err:
        preflight.validate(c, m, file="m.yaml")
    assert (err.value.index, err.value.field) == (1, "check")
    assert "full_name" in str(err.value)


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, MULTI, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, MULTI)


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


def _odd_blue_write(c: psycopg.Connection, n: int) -> None:
    c.execute('INSERT INTO "Order Items" ("select", "a""quote", gone) VALUES (%s, %s, %s)', (n, f"w{n}", "g"))


def _odd_green_write(c: psycopg.Connection, n: int) -> None:
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
    blue=Side(_odd_blue_write, _odd_blue_sees),
    green=Side(_odd_green_write, _odd_green_sees),
)


def test_odd_identifiers_through_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    # this test's own writes use tags from 1001 on, clear of the harness's
    with Run(dsn, conn, ODD) as run:
        blue, green = run.blue, run.green
        run.expand()
        assert columns_of(green, "Line Items") == ["Id", "select", "from; DROP TABLE x --"]
        _odd_green_write(green, 1001)
        assert blue.execute('SELECT "a""quote" FROM "Order Items" WHERE "select" = 1001 AND "Id" > 200').fetchone() == (
            "w1001",
        )
        _odd_blue_write(blue, 1002)
        with pytest.raises(psycopg.errors.UniqueViolation):
            _odd_green_write(green, 1002)
        with pytest.raises(psycopg.errors.CheckViolation):
            blue.execute('INSERT INTO "Order Items" ("select") VALUES (-1)')
        run.exchange()
        run.through("cutover")
        run.contract()
        _odd_green_write(green, 1003)
        assert green.execute('SELECT count(*) FROM "Line Items"').fetchone() == (203 + len(run.acked),)


@pytest.mark.parametrize("stop_after", ["expand", "cutover"])
def test_odd_identifiers_rollback(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, ODD, stop_after)


def test_odd_identifiers_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, ODD)
