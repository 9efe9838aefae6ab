"""drop_column and rename_column through every phase, with a blue and a green client reading and writing."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import engine
from liveshift.errors import SpecError
from tests.helpers import client, migration
from tests.integration.test_op_support import (
    BLUE,
    PHASES_BEFORE_CONTRACT,
    Scenario,
    advance,
    columns_of,
    contract,
    contract_matches_plain,
    each_step_twice_equals_once,
    expand,
    load,
    rollback_keeps_writes,
)

pytestmark = pytest.mark.integration

SETUP = "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text, age int NOT NULL DEFAULT 0)"
ROWS = (
    "INSERT INTO users (email, name, age) "
    "SELECT 'u' || g || '@x.org', 'User ' || g, g % 90 FROM generate_series(1, 500) g"
)


def _kept(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (emails,)).fetchone() == (len(tags),)
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (500 + len(tags),)


DROP_NAME = Scenario(
    setup=SETUP,
    rows=ROWS,
    migration="""
name: users_drop_name
operations:
  - op: drop_column
    table: users
    column: name
""",
    plain="ALTER TABLE users DROP COLUMN name",
    blue_write=lambda c, n: c.execute("INSERT INTO users (email, name) VALUES (%s, 'blue')", (f"w{n}@x.org",)),
    green_write=lambda c, n: c.execute("INSERT INTO users (email, age) VALUES (%s, 30)", (f"w{n}@x.org",)),
    kept=_kept,
)

# email is NOT NULL without a default: green writes need `down` to fill it
DROP_EMAIL = Scenario(
    setup=SETUP,
    rows=ROWS,
    migration="""
name: users_drop_email
operations:
  - op: drop_column
    table: users
    column: email
    down: "'w' || (name) || '@x.org'"
""",
    plain="ALTER TABLE users DROP COLUMN email",
    blue_write=lambda c, n: c.execute("INSERT INTO users (email, name) VALUES (%s, 'blue')", (f"w{n}@x.org",)),
    green_write=lambda c, n: c.execute("INSERT INTO users (name) VALUES (%s)", (str(n),)),
    kept=_kept,
)

RENAME_NAME = Scenario(
    setup=SETUP,
    rows=ROWS,
    migration="""
name: users_full_name
operations:
  - op: rename_column
    table: users
    column: name
    to: full_name
""",
    plain="ALTER TABLE users RENAME COLUMN name TO full_name",
    blue_write=lambda c, n: c.execute("INSERT INTO users (email, name) VALUES (%s, 'blue')", (f"w{n}@x.org",)),
    green_write=lambda c, n: c.execute("INSERT INTO users (email, full_name) VALUES (%s, 'green')", (f"w{n}@x.org",)),
    kept=_kept,
)

SCENARIOS = {"drop_nullable": DROP_NAME, "drop_not_null_with_down": DROP_EMAIL, "rename": RENAME_NAME}


def test_drop_column_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = DROP_NAME
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
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

    advance(dsn, s.m, "cutover")
    with engine.connect(dsn) as c:
        assert c.execute("SELECT liveshift.version_for('public')").fetchone() == (s.green,)
    # after cutover blue keeps working
    blue.execute("INSERT INTO users (email, name) VALUES ('late@x.org', 'Late')")
    assert green.execute("SELECT count(*) FROM users WHERE email = 'late@x.org'").fetchone() == (1,)

    contract(dsn, s.m)
    assert columns_of(green, "users") == ["id", "email", "age"]
    green.execute("INSERT INTO users (email) VALUES ('after@x.org')")
    assert green.execute("SELECT count(*) FROM users").fetchone() == (504,)
    contract_matches_plain(conn, s)


def test_drop_not_null_column_fills_it_from_down(dsn: str, conn: psycopg.Connection) -> None:
    s = DROP_EMAIL
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
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
    advance(dsn, s.m, "cutover")
    green.execute("INSERT INTO users (name) VALUES ('cut')")
    assert blue.execute("SELECT email FROM users WHERE name = 'cut'").fetchone() == ("wcut@x.org",)
    contract(dsn, s.m)
    green.execute("INSERT INTO users (name) VALUES ('after')")
    assert green.execute("SELECT count(*) FROM users").fetchone() == (504,)
    contract_matches_plain(conn, s)


def test_drop_not_null_column_without_down_is_refused(dsn: str, conn: psycopg.Connection) -> None:
    load(conn, DROP_EMAIL)
    m = migration("name: d\noperations:\n  - {op: drop_column, table: users, column: email}\n")
    with engine.connect(dsn) as c:
        with pytest.raises(SpecError) as err:
            engine.validate(c, m, file="d.yaml")
        assert err.value.index == 0 and err.value.field == "down"
        assert "NOT NULL without a default" in str(err.value)
        # a NOT NULL column with a default needs no `down`
        engine.validate(c, migration("name: d\noperations:\n  - {op: drop_column, table: users, column: age}\n"))
    bad = migration("name: d\noperations:\n  - {op: drop_column, table: users, column: email, down: 'nope +'}\n")
    with engine.connect(dsn) as c, pytest.raises(SpecError) as err:
        engine.validate(c, bad)
    assert err.value.field == "down"
    with engine.connect(dsn) as c, pytest.raises(SpecError) as err:
        engine.validate(c, migration("name: d\noperations:\n  - {op: drop_column, table: users, column: nope}\n"))
    assert err.value.field == "column"


def test_rename_column_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = RENAME_NAME
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    assert columns_of(blue, "users") == ["id", "email", "name", "age"]
    assert columns_of(green, "users") == ["id", "email", "full_name", "age"]
    green.execute("INSERT INTO users (email, full_name) VALUES ('g@x.org', 'Gina')")
    assert blue.execute("SELECT name FROM users WHERE email = 'g@x.org'").fetchone() == ("Gina",)
    blue.execute("UPDATE users SET name = 'Bob' WHERE id = 2")
    assert green.execute("SELECT full_name FROM users WHERE id = 2").fetchone() == ("Bob",)
    green.execute("UPDATE users SET full_name = 'Bobby' WHERE id = 2")
    assert blue.execute("SELECT name FROM users WHERE id = 2").fetchone() == ("Bobby",)

    advance(dsn, s.m, "cutover")
    blue.execute("INSERT INTO users (email, name) VALUES ('late@x.org', 'Late')")
    assert green.execute("SELECT full_name FROM users WHERE email = 'late@x.org'").fetchone() == ("Late",)

    contract(dsn, s.m)
    assert columns_of(green, "users") == ["id", "email", "full_name", "age"]
    green.execute("INSERT INTO users (email, full_name) VALUES ('after@x.org', 'After')")
    assert conn.execute("SELECT full_name FROM users WHERE email = 'after@x.org'").fetchone() == ("After",)
    contract_matches_plain(conn, s)


def test_rename_column_refuses_a_taken_name(dsn: str, conn: psycopg.Connection) -> None:
    load(conn, RENAME_NAME)
    m = migration("name: r\noperations:\n  - {op: rename_column, table: users, column: name, to: email}\n")
    with engine.connect(dsn) as c, pytest.raises(SpecError) as err:
        engine.validate(c, m)
    assert err.value.field == "to" and "already exists" in str(err.value)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    rollback_keeps_writes(dsn, conn, SCENARIOS[scenario], stop_after)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])
