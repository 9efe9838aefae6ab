"""create_table, drop_table and rename_table through every phase, with a blue and a green client.

A table the migration creates holds only rows green wrote; rollback drops it with them (the
rows every other table received are kept).
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import complete, migration, plain_alter_snapshot, snapshot
from tests.harness.operations.tables import COMPOSITE_KEY, CREATE_ORDERS, DROP_LOG, RENAME_USERS, SCENARIOS
from tests.harness.scenario import (
    BLUE,
    PHASES_BEFORE_CONTRACT,
    Run,
    blue_tags,
    columns_of,
    count,
    each_step_twice_equals_once,
    every_phase,
    exists,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


def test_create_table_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, CREATE_ORDERS) as run:
        blue, green = run.blue, run.green
        run.expand()
        # after expand: the table exists, green has a view of it, blue's version does not
        assert not exists(blue, f"{BLUE}.orders")
        assert columns_of(green, f"{run.s.green_version}.orders") == ["id", "user_id", "total", "reference"]
        green.execute("INSERT INTO orders (user_id, reference) VALUES (1, 'r1')")
        assert green.execute("SELECT id, user_id, total FROM orders").fetchall() == [(1, 1, 0)]
        # its constraints hold from the start
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            green.execute("INSERT INTO orders (user_id) VALUES (999999)")
        with pytest.raises(psycopg.errors.CheckViolation):
            green.execute("INSERT INTO orders (user_id, total) VALUES (1, -1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            green.execute("INSERT INTO orders (user_id, reference) VALUES (2, 'r1')")
        # blue keeps writing the other tables; green sees it
        blue.execute("INSERT INTO users (email) VALUES ('b@x.org')")
        assert green.execute("SELECT count(*) FROM users WHERE email = 'b@x.org'").fetchone() == (1,)
        # ON DELETE CASCADE reaches green's rows when blue deletes the user
        blue.execute("DELETE FROM audit_log WHERE user_id = 1")
        blue.execute("DELETE FROM users WHERE id = 1")
        assert green.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        run.exchange()

        run.through("cutover")
        blue.execute("INSERT INTO users (email) VALUES ('late@x.org')")
        green.execute("INSERT INTO orders (user_id, total) SELECT id, 3 FROM users WHERE email = 'late@x.org'")

        run.contract()
        green.execute("INSERT INTO orders (user_id, total) VALUES (2, 4)")
        greens = len(run.acked) - len(blue_tags(run.acked))  # each green write placed an order of 9.5
        assert green.execute("SELECT count(*), sum(total) FROM orders").fetchone() == (
            2 + greens,
            7 + Decimal("9.5") * greens,
        )


def test_composite_key_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    run = every_phase(dsn, conn, COMPOSITE_KEY)
    greens = len(run.acked) - len(blue_tags(run.acked))
    assert count(conn, "SELECT count(*) FROM memberships WHERE team = 'red'") == greens


def test_create_table_is_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, CREATE_ORDERS.tables)
    cases = {
        "{op: create_table, table: users, columns: [{name: a, type: int}]}": "table",
        "{op: create_table, table: t, columns: [{name: a, type: int}, {name: a, type: text}]}": "columns[1].name",
        "{op: create_table, table: t, columns: [{name: a, type: nosuchtype}]}": "columns[0].type",
        "{op: create_table, table: t, columns: [{name: a, type: int, default: \"'x'\"}]}": "columns[0].default",
        "{op: create_table, table: t, columns: [{name: a, type: int, check: 'b > 0'}]}": "columns[0].check",
        "{op: create_table, table: t, columns: [{name: a, type: int}], primary_key: [b]}": "primary_key",
        "{op: create_table, table: t, columns: [{name: a, type: int, references: {table: nope, column: id}}]}": (
            "columns[0].references.table"
        ),
        "{op: create_table, table: t, columns: [{name: a, type: text, references: {table: users, column: email}}]}": (
            "columns[0].references.column"
        ),
        "{op: create_table, table: users_pkey, columns: [{name: a, type: int}]}": "table",
    }
    with open_session(dsn) as c:
        for op, fld in cases.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: t\noperations:\n  - {op}\n"), file="t.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))
    assert not exists(conn, "public.t")


def test_drop_table_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, DROP_LOG) as run:
        blue, green = run.blue, run.green
        run.expand()
        assert exists(blue, f"{BLUE}.audit_log")
        assert not exists(green, f"{run.s.green_version}.audit_log")
        assert exists(green, f"{run.s.green_version}.users")
        blue.execute("INSERT INTO audit_log (user_id, message) VALUES (1, 'still here')")
        green.execute("INSERT INTO users (email) VALUES ('g@x.org')")
        assert blue.execute("SELECT count(*) FROM users WHERE email = 'g@x.org'").fetchone() == (1,)
        run.exchange()

        run.through("cutover")
        blue.execute("INSERT INTO audit_log (user_id, message) VALUES (2, 'after cutover')")
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (302 + len(blue_tags(run.acked)),)

        run.contract()
        assert not exists(conn, "public.audit_log")
        green.execute("INSERT INTO users (email) VALUES ('after@x.org')")
        assert green.execute("SELECT count(*) FROM users").fetchone() == (302 + len(run.acked),)


def test_drop_table_refuses_a_referenced_table(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, DROP_LOG.tables)
    with open_session(dsn) as c, pytest.raises(SpecError) as err:
        preflight.validate(c, migration("name: d\noperations:\n  - {op: drop_table, table: users}\n"))
    assert err.value.field == "table" and "audit_log_user_id_fkey" in str(err.value)
    # dropping the referencing table first in the same migration makes it possible
    both = "name: d\noperations:\n  - {op: drop_table, table: audit_log}\n  - {op: drop_table, table: users}\n"
    with open_session(dsn) as c:
        preflight.validate(c, migration(both))


def test_rename_table_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, RENAME_USERS) as run:
        blue, green, green_version = run.blue, run.green, run.s.green_version
        run.expand()
        assert exists(blue, f"{BLUE}.users") and not exists(blue, f"{BLUE}.members")
        assert exists(green, f"{green_version}.members") and not exists(green, f"{green_version}.users")
        green.execute("INSERT INTO members (email) VALUES ('g@x.org')")
        assert blue.execute("SELECT count(*) FROM users WHERE email = 'g@x.org'").fetchone() == (1,)
        blue.execute("UPDATE users SET email = 'changed@x.org' WHERE id = 3")
        assert green.execute("SELECT email FROM members WHERE id = 3").fetchone() == ("changed@x.org",)
        run.exchange()

        run.through("cutover")
        blue.execute("INSERT INTO users (email) VALUES ('late@x.org')")
        assert green.execute("SELECT count(*) FROM members WHERE email = 'late@x.org'").fetchone() == (1,)

        run.contract()
        assert exists(conn, "public.members") and not exists(conn, "public.users")
        green.execute("INSERT INTO members (email) VALUES ('after@x.org')")
        assert green.execute("SELECT count(*) FROM members").fetchone() == (303 + len(run.acked),)
        # the foreign key of audit_log follows the table
        green.execute(
            "INSERT INTO audit_log (user_id, message) SELECT id, 'x' FROM members WHERE email = 'after@x.org'"
        )


def test_rename_table_refuses_a_taken_name(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, RENAME_USERS.tables)
    for taken in ("audit_log", "users_pkey", "users_id_seq"):
        m = migration(f"name: r\noperations:\n  - {{op: rename_table, table: users, to: {taken}}}\n")
        with open_session(dsn) as c, pytest.raises(SpecError) as err:
            preflight.validate(c, m)
        assert err.value.field == "to", taken


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[scenario], stop_after)


def test_rollback_drops_the_created_table_with_its_rows(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, CREATE_ORDERS) as run:
        run.expand()
        run.green.execute("INSERT INTO orders (user_id) VALUES (1)")
        run.exchange()
        run.rollback()
    assert not exists(conn, "public.orders")
    assert not exists(conn, "public.orders_id_seq")


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])


def test_drop_a_referenced_table_with_the_table_that_references_it(dsn: str, conn: psycopg.Connection) -> None:
    # the referencing table sorts after the referenced one: the foreign key goes before either drop
    setup = (
        "CREATE TABLE a_parent (id int PRIMARY KEY); "
        "CREATE TABLE b_child (id int PRIMARY KEY, p int REFERENCES a_parent)"
    )
    conn.execute(setup)
    conn.execute("INSERT INTO a_parent VALUES (1); INSERT INTO b_child VALUES (1, 1)")
    m = migration("name: d\noperations:\n  - {op: drop_table, table: b_child}\n  - {op: drop_table, table: a_parent}\n")
    complete(dsn, m)
    assert not exists(conn, "public.a_parent") and not exists(conn, "public.b_child")
    assert snapshot(conn) == plain_alter_snapshot(conn, setup, "DROP TABLE b_child; DROP TABLE a_parent")
