"""create_index and drop_index through every phase, with a blue and a green client reading and writing."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration, snapshot
from tests.harness.operations.indexes import CREATE_HASH, CREATE_PARTIAL, CREATE_UNIQUE, DROP_NAME_IDX, SCENARIOS
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    each_step_twice_equals_once,
    every_phase,
    expand,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


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
        "{op: create_index, name: i, table: users, columns: [email], method: rtree}": "method",
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
