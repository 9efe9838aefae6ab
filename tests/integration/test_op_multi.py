"""Several operations in one file, on two tables, through every phase with a blue and a green client."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration
from tests.harness.operations.multi import (
    CHANGED_THEN_DROPPED,
    MULTI,
    ODD,
    blue_write,
    green_write,
    odd_blue_write,
    odd_green_write,
)
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    columns_of,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


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
        blue_write(blue, 1001)
        assert green.execute(
            "SELECT u.full_name, o.total_cents FROM users u JOIN orders o ON o.user_id = u.id "
            "WHERE u.email = 'w1001@x.org'"
        ).fetchone() == ("blue", -100100)
        green_write(green, 1002)
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
        blue_write(blue, 1003)  # blue keeps working after cutover
        assert green.execute(
            "SELECT o.total_cents FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = 'w1003@x.org'"
        ).fetchone() == (-100300,)

        run.contract()
        green_write(green, 1004)
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


def test_odd_identifiers_through_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    # this test's own writes use tags from 1001 on, clear of the harness's
    with Run(dsn, conn, ODD) as run:
        blue, green = run.blue, run.green
        run.expand()
        assert columns_of(green, "Line Items") == ["Id", "select", "from; DROP TABLE x --"]
        odd_green_write(green, 1001)
        assert blue.execute('SELECT "a""quote" FROM "Order Items" WHERE "select" = 1001 AND "Id" > 200').fetchone() == (
            "w1001",
        )
        odd_blue_write(blue, 1002)
        with pytest.raises(psycopg.errors.UniqueViolation):
            odd_green_write(green, 1002)
        with pytest.raises(psycopg.errors.CheckViolation):
            blue.execute('INSERT INTO "Order Items" ("select") VALUES (-1)')
        run.exchange()
        run.through("cutover")
        run.contract()
        odd_green_write(green, 1003)
        assert green.execute('SELECT count(*) FROM "Line Items"').fetchone() == (203 + len(run.acked),)


@pytest.mark.parametrize("stop_after", ["expand", "cutover"])
def test_odd_identifiers_rollback(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, ODD, stop_after)


def test_odd_identifiers_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, ODD)


def test_a_column_changed_then_dropped_leaves_no_hidden_column(dsn: str, conn: psycopg.Connection) -> None:
    every_phase(dsn, conn, CHANGED_THEN_DROPPED)
    assert columns_of(conn, "kinds") == ["id", "label"]


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_a_column_changed_then_dropped_rollback(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, CHANGED_THEN_DROPPED, stop_after)
    assert columns_of(conn, "kinds") == ["id", "label", "name"]


def test_a_column_changed_then_dropped_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, CHANGED_THEN_DROPPED)
