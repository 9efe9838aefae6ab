"""drop_column and rename_column through every phase, with a blue and a green client reading and writing."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration
from tests.harness.operations.columns import DROP_EMAIL, DROP_NAME, RENAME_NAME, SCENARIOS
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    columns_of,
    count,
    each_step_twice_equals_once,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


def test_drop_column_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, DROP_NAME) as run:
        blue, green = run.blue, run.green
        run.expand()
        # after expand: green no longer sees the column; blue still does, and each side sees the other's rows
        assert columns_of(blue, "users") == ["id", "email", "name", "age"]
        assert columns_of(green, "users") == ["id", "email", "age"]
        green.execute("INSERT INTO users (email, age) VALUES ('g@x.org', 41)")
        assert blue.execute("SELECT name, age FROM users WHERE email = 'g@x.org'").fetchone() == (None, 41)
        blue.execute("INSERT INTO users (email, name) VALUES ('b@x.org', 'Blue')")
        blue.execute("UPDATE users SET name = 'Renamed', age = 7 WHERE id = 1")
        assert green.execute("SELECT age FROM users WHERE id = 1").fetchone() == (7,)
        green.execute("UPDATE users SET age = 8 WHERE id = 1")
        assert blue.execute("SELECT name, age FROM users WHERE id = 1").fetchone() == ("Renamed", 8)
        assert green.execute("SELECT count(*) FROM users WHERE email = 'b@x.org'").fetchone() == (1,)
        run.exchange()

        run.through("cutover")  # version_for('public') names green
        # after cutover blue keeps working
        blue.execute("INSERT INTO users (email, name) VALUES ('late@x.org', 'Late')")
        assert green.execute("SELECT count(*) FROM users WHERE email = 'late@x.org'").fetchone() == (1,)

        run.contract()
        assert columns_of(green, "users") == ["id", "email", "age"]
        green.execute("INSERT INTO users (email) VALUES ('after@x.org')")
        assert green.execute("SELECT count(*) FROM users").fetchone() == (504 + len(run.acked),)


def test_drop_not_null_column_fills_it_from_down(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, DROP_EMAIL) as run:
        blue, green = run.blue, run.green
        run.expand()
        assert columns_of(green, "users") == ["id", "name", "age"]
        # a green insert cannot name email; `down` fills it, so the NOT NULL column accepts the row
        green.execute("INSERT INTO users (name) VALUES ('gina')")
        assert blue.execute("SELECT email FROM users WHERE name = 'gina'").fetchone() == ("wgina@x.org",)
        # a green update recomputes it from the new row as well
        green.execute("UPDATE users SET name = 'gino' WHERE name = 'gina'")
        assert blue.execute("SELECT email FROM users WHERE name = 'gino'").fetchone() == ("wgino@x.org",)
        # blue writes are untouched by `down`
        blue.execute("INSERT INTO users (email, name) VALUES ('own@x.org', 'bob')")
        assert blue.execute("SELECT email FROM users WHERE name = 'bob'").fetchone() == ("own@x.org",)
        assert green.execute("SELECT count(*) FROM users WHERE name = 'bob'").fetchone() == (1,)
        run.exchange()
        run.through("cutover")
        green.execute("INSERT INTO users (name) VALUES ('cut')")
        assert blue.execute("SELECT email FROM users WHERE name = 'cut'").fetchone() == ("wcut@x.org",)
        run.contract()
        green.execute("INSERT INTO users (name) VALUES ('after')")
        assert green.execute("SELECT count(*) FROM users").fetchone() == (504 + len(run.acked),)


def test_drop_not_null_column_without_down_is_refused(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, DROP_EMAIL.tables)
    m = migration("name: d\noperations:\n  - {op: drop_column, table: users, column: email}\n")
    with open_session(dsn) as c:
        with pytest.raises(SpecError) as err:
            preflight.validate(c, m, file="d.yaml")
        assert err.value.index == 0 and err.value.field == "down"
        assert "NOT NULL without a default" in str(err.value)
        # a NOT NULL column with a default needs no `down`
        preflight.validate(c, migration("name: d\noperations:\n  - {op: drop_column, table: users, column: age}\n"))
    bad = migration("name: d\noperations:\n  - {op: drop_column, table: users, column: email, down: 'nope +'}\n")
    with open_session(dsn) as c, pytest.raises(SpecError) as err:
        preflight.validate(c, bad)
    assert err.value.field == "down"
    with open_session(dsn) as c, pytest.raises(SpecError) as err:
        preflight.validate(c, migration("name: d\noperations:\n  - {op: drop_column, table: users, column: nope}\n"))
    assert err.value.field == "column"


def test_rename_column_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, RENAME_NAME) as run:
        blue, green = run.blue, run.green
        run.expand()
        assert columns_of(blue, "users") == ["id", "email", "name", "age"]
        assert columns_of(green, "users") == ["id", "email", "full_name", "age"]
        green.execute("INSERT INTO users (email, full_name) VALUES ('g@x.org', 'Gina')")
        assert blue.execute("SELECT name FROM users WHERE email = 'g@x.org'").fetchone() == ("Gina",)
        blue.execute("UPDATE users SET name = 'Bob' WHERE id = 2")
        assert green.execute("SELECT full_name FROM users WHERE id = 2").fetchone() == ("Bob",)
        green.execute("UPDATE users SET full_name = 'Bobby' WHERE id = 2")
        assert blue.execute("SELECT name FROM users WHERE id = 2").fetchone() == ("Bobby",)
        run.exchange()

        run.through("cutover")
        blue.execute("INSERT INTO users (email, name) VALUES ('late@x.org', 'Late')")
        assert green.execute("SELECT full_name FROM users WHERE email = 'late@x.org'").fetchone() == ("Late",)

        run.contract()
        assert columns_of(green, "users") == ["id", "email", "full_name", "age"]
        green.execute("INSERT INTO users (email, full_name) VALUES ('after@x.org', 'After')")
        assert conn.execute("SELECT full_name FROM users WHERE email = 'after@x.org'").fetchone() == ("After",)


def test_rename_column_refuses_a_taken_name(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, RENAME_NAME.tables)
    m = migration("name: r\noperations:\n  - {op: rename_column, table: users, column: name, to: email}\n")
    with open_session(dsn) as c, pytest.raises(SpecError) as err:
        preflight.validate(c, m)
    assert err.value.field == "to" and "already exists" in str(err.value)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    run = rollback_from(dsn, conn, SCENARIOS[scenario], stop_after)
    assert count(conn, "SELECT count(*) FROM users") == 500 + len(run.acked)  # no row lost, none doubled


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])
