"""Identity and generated columns (create_table, add_column, alter_column) and add_primary_key through every phase,
with a blue and a green client reading and writing (issue 22, items 2 and 7)."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.catalog import read_catalog
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.plan import build_plan
from tests.harness.db import migration, snapshot
from tests.harness.operations.identity import (
    ADD_IDENTITY_COLUMN,
    ADD_PRIMARY_KEY,
    ALTER_PRIMARY_KEY,
    ALTER_TO_IDENTITY,
    EVENTS,
    ITEMS,
    NEEDS_18,
    SCENARIOS,
    USERS,
)
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    count,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


def runnable(conn: psycopg.Connection, scenario: str) -> None:
    if scenario in NEEDS_18 and conn.info.server_version < 180000:
        pytest.skip("virtual generated columns need PostgreSQL 18")


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_every_phase(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    runnable(conn, scenario)
    every_phase(dsn, conn, SCENARIOS[scenario])


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    runnable(conn, scenario)
    rollback_from(dsn, conn, SCENARIOS[scenario], stop_after)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    runnable(conn, scenario)
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])


def test_a_new_identity_column_numbers_every_row_and_continues_after_contract(
    dsn: str, conn: psycopg.Connection
) -> None:
    with Run(dsn, conn, ADD_IDENTITY_COLUMN) as run:
        expand = [s.description for s in build_plan(run.m, read_catalog(conn, "public"), None).expand_steps()]
        # each expand step commits on its own: the sequence and the default exist before the trigger draws from
        # the sequence and before the NOT NULL check, so no insert between two steps meets a NULL number
        first = {key: next(i for i, d in enumerate(expand) if key in d) for key in ("sequence", "default", "trigger")}
        check = next(i for i, d in enumerate(expand) if "IS NOT NULL" in d)
        assert first["sequence"] < first["default"] < min(first["trigger"], check)
        run.expand()
        # blue's insert (its view has no such column) draws a number too
        run.blue.execute("INSERT INTO users (email) VALUES ('blue@x.org')")
        assert run.green.execute("SELECT number FROM users WHERE email = 'blue@x.org'").fetchone() != (None,)
        run.exchange()
        run.through("cutover")
        run.contract()
    # every row numbered once; the identity takes over where the fill sequence stood, which is gone
    assert count(conn, "SELECT count(DISTINCT number) FROM users") == count(conn, "SELECT count(*) FROM users")
    top = count(conn, "SELECT max(number) FROM users")
    assert count(conn, "INSERT INTO users (email) VALUES ('after@x.org') RETURNING number") == top + 1
    assert count(conn, "SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE '\\_ls\\_%'") == 0
    with pytest.raises(psycopg.errors.GeneratedAlways):
        conn.execute("INSERT INTO users (email, number) VALUES ('x@x.org', 1)")


def test_an_identity_added_to_a_column_starts_past_what_blue_wrote_meanwhile(
    dsn: str, conn: psycopg.Connection
) -> None:
    with Run(dsn, conn, ALTER_TO_IDENTITY) as run:
        run.through("cutover")
        # blue writes a key of its own choosing after the plan read the table: the identity must start past it
        run.blue.execute("INSERT INTO items (id, name) VALUES (5000, 'chosen')")
        run.contract()
    assert count(conn, "SELECT count(*) FROM pg_class WHERE relname = 'items_id_seq' AND relkind = 'S'") == 1
    # the first row written after contract (green's, in run.contract) drew the value right past blue's
    assert count(conn, "SELECT min(id) FROM items WHERE id > 5000") == 5001


def test_add_primary_key_proves_not_null_without_a_scan_under_the_lock(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, ADD_PRIMARY_KEY) as run:
        planned = build_plan(run.m, read_catalog(conn, "public"), None).phases()
        phases = {phase: [s.description for s in steps] for phase, steps in planned.items()}
        run.expand()
        # from expand on, a NULL key is refused for both versions (the NOT VALID check), duplicates by the index
        for side in (run.blue, run.green):
            with pytest.raises(psycopg.errors.CheckViolation):
                side.execute("INSERT INTO events (kind) VALUES ('none')")
            with pytest.raises(psycopg.errors.UniqueViolation):
                side.execute("INSERT INTO events (id, kind) VALUES (1, 'again')")
        run.exchange()
        run.through("cutover")
        run.contract()
    assert any("concurrently" in d for d in phases["expand"])
    assert any("NOT NULL proven" in d for d in phases["contract"])
    assert conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'"
    ).fetchall() == [("events_pkey",)]


def test_refusals_name_the_field_and_say_why(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, (USERS, ITEMS, EVENTS))
    conn.execute("CREATE TABLE plain_ids (id integer NOT NULL, n integer)")
    conn.execute("CREATE TABLE prices (id int PRIMARY KEY, p int, g int GENERATED ALWAYS AS (p * 2) STORED)")
    cases = {
        # a stored generated column on a live table needs a rewrite
        "{op: add_column, table: users, column: {name: c, type: int, generated: 'price * 2'}}": (
            "column.generated",
            "rewriting the table",
        ),
        "{op: add_column, table: users, column: {name: c, type: text, identity: always}}": (
            "column.identity",
            "smallint, integer or bigint",
        ),
        "{op: alter_column, table: users, column: price, identity: always}": ("identity", "accepts NULL"),
        "{op: alter_column, table: plain_ids, column: id, identity: always}": ("identity", "no btree index"),
        "{op: alter_column, table: items, column: id, identity: always, type: bigint}": ("identity", "alone"),
        "{op: alter_column, table: prices, column: p, type: bigint}": ("column", "generated column 'g' reads"),
        "{op: add_primary_key, table: users, columns: [email]}": ("table", "has a primary key already"),
        "{op: alter_primary_key, table: events, columns: [kind]}": ("table", "has no primary key"),
        "{op: add_primary_key, table: events, columns: [nope]}": ("columns[0]", "does not exist"),
        "{op: create_table, table: t, columns: [{name: a, type: int, identity: always, default: '1'}]}": (
            "columns[0].identity",
            "no default",
        ),
        "{op: create_table, table: t, columns: [{name: a, type: int, generated: 'nope + 1'}]}": (
            "columns[0].generated",
            "does not compile",
        ),
    }
    if conn.info.server_version < 180000:
        virtual = "{expression: price, stored: false}"
        cases[f"{{op: add_column, table: users, column: {{name: c, type: int, generated: {virtual}}}}}"] = (
            "column.generated.stored",
            "needs PostgreSQL 18",
        )
    before = snapshot(conn)
    with open_session(dsn) as c:
        for op, (fld, why) in cases.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: t\noperations:\n  - {op}\n"), file="t.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))
            assert why in str(err.value), (op, str(err.value))
    assert snapshot(conn) == before


def test_alter_primary_key_moves_the_foreign_keys_onto_the_old_columns_unique_constraint(
    dsn: str, conn: psycopg.Connection
) -> None:
    with Run(dsn, conn, ALTER_PRIMARY_KEY) as run:
        run.through("cutover")
        # until contract the old key still stands, and the foreign key is still on its index
        fk_index = "SELECT conindid::regclass::text FROM pg_constraint WHERE conname = 'transfers_account_id_fkey'"
        assert conn.execute(fk_index).fetchone() == ("accounts_pkey",)
        run.contract()
    assert conn.execute(fk_index).fetchone() == ("accounts_id_key",)
    validated = "SELECT convalidated FROM pg_constraint WHERE conname = 'transfers_account_id_fkey'"
    assert conn.execute(validated).fetchone() == (True,)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO transfers (account_id) VALUES (-1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO accounts (id, code) VALUES (-1, 'c1')")
