"""create_index and drop_index through every phase, with a blue and a green client reading and writing."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.helpers import migration, snapshot
from tests.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    Scenario,
    Table,
    count,
    each_step_twice_equals_once,
    every_phase,
    expand,
    load_tables,
    rollback_from,
    same_side,
)

pytestmark = pytest.mark.integration

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


def _index(conn: psycopg.Connection, name: str) -> tuple[bool, bool, str] | None:
    return conn.execute(
        "SELECT ix.indisvalid, ix.indisunique, pg_get_indexdef(ix.indexrelid) FROM pg_index ix "
        "WHERE ix.indexrelid = to_regclass(%s)",
        (f"public.{name}",),
    ).fetchone()


def test_create_index_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, CREATE_UNIQUE) as run:
        blue, green = run.blue, run.green
        run.expand()
        # after expand the index exists, valid, and both versions write under it
        valid, unique, _ = _index(conn, "users_email_uniq")  # type: ignore[misc]
        assert valid and unique
        blue.execute("INSERT INTO users (email) VALUES ('b@x.org')")
        green.execute("INSERT INTO users (email) VALUES ('g@x.org')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            green.execute("INSERT INTO users (email) VALUES ('b@x.org')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            blue.execute("INSERT INTO users (email) VALUES ('g@x.org')")
        plan = green.execute("EXPLAIN SELECT * FROM users WHERE email = 'g@x.org'").fetchall()
        assert any("users_email_uniq" in line for (line,) in plan)
        run.exchange()

        run.through("cutover")
        blue.execute("INSERT INTO users (email) VALUES ('late@x.org')")
        run.contract()
        green.execute("INSERT INTO users (email) VALUES ('after@x.org')")
        assert green.execute("SELECT count(*) FROM users").fetchone() == (504 + len(run.acked),)


def test_partial_index_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, CREATE_PARTIAL) as run:
        blue, green = run.blue, run.green
        run.expand()
        _, _, definition = _index(conn, "users_adults")  # type: ignore[misc]
        assert definition.endswith("USING btree (age, name) WHERE (age >= 18)")
        blue.execute("INSERT INTO users (email, age) VALUES ('b@x.org', 20)")
        green.execute("INSERT INTO users (email, age) VALUES ('g@x.org', 21)")
        run.exchange()
        run.through("cutover")
        run.contract()
        assert green.execute("SELECT count(*) FROM users WHERE age >= 18 AND email LIKE '_@x.org'").fetchone() == (2,)


def test_hash_index_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    every_phase(dsn, conn, CREATE_HASH)


def test_failed_unique_index_leaves_nothing_after_rollback(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, CREATE_UNIQUE.tables)
    conn.execute("INSERT INTO users (email) VALUES ('u1@x.org')")  # a duplicate: the unique build fails
    before = snapshot(conn)
    m = CREATE_UNIQUE.m
    with pytest.raises(psycopg.errors.UniqueViolation):
        expand(dsn, m)
    with open_session(dsn) as c:
        phases.rollback(c, m.name)
    assert _index(conn, "users_email_uniq") is None
    assert snapshot(conn) == before


def test_create_index_is_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, CREATE_UNIQUE.tables)
    cases = {
        "{op: create_index, name: users_name_idx, table: users, columns: [email]}": "name",
        "{op: create_index, name: users, table: users, columns: [email]}": "name",
        "{op: create_index, name: users_id_seq, table: users, columns: [email]}": "name",
        "{op: create_index, name: i, table: nope, columns: [email]}": "table",
        "{op: create_index, name: i, table: users, columns: [email, nope]}": "columns[1]",
        "{op: create_index, name: i, table: users, columns: [email], method: spgist}": "method",
        "{op: create_index, name: i, table: users, columns: [email], method: hash, unique: true}": "unique",
        "{op: create_index, name: i, table: users, columns: [email], where: 'nope > 1'}": "where",
    }
    with open_session(dsn) as c:
        for op, fld in cases.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: i\noperations:\n  - {op}\n"), file="i.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))


def test_drop_index_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, DROP_NAME_IDX) as run:
        blue, green = run.blue, run.green
        run.expand()
        # the index keeps serving both versions until contract
        assert _index(conn, "users_name_idx") is not None
        blue.execute("INSERT INTO users (email, name) VALUES ('b@x.org', 'bee')")
        green.execute("INSERT INTO users (email, name) VALUES ('g@x.org', 'gee')")
        run.exchange()
        run.through("cutover")
        assert _index(conn, "users_name_idx") is not None
        run.contract()
        assert _index(conn, "users_name_idx") is None
        assert green.execute("SELECT count(*) FROM users WHERE name IN ('bee', 'gee')").fetchone() == (2,)


def test_drop_index_is_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, DROP_NAME_IDX.tables)
    for name in ("nope", "users_pkey"):
        with open_session(dsn) as c, pytest.raises(SpecError) as err:
            preflight.validate(c, migration(f"name: d\noperations:\n  - {{op: drop_index, name: {name}}}\n"))
        assert err.value.field == "name", name
    with open_session(dsn) as c, pytest.raises(SpecError) as err:
        preflight.validate(c, migration("name: d\noperations:\n  - {op: drop_index, name: users_pkey}\n"))
    assert "drop_constraint" in str(err.value)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[scenario], stop_after)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])
