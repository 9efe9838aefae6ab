"""Constraint names and options through every phase, each rollback and each step twice; refusals name the field."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration
from tests.harness.operations.constraint_options import BOOKINGS, NAMED_COLUMN
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

SCENARIOS = {"bookings": BOOKINGS, "named_column": NAMED_COLUMN}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_phase(dsn: str, conn: psycopg.Connection, name: str) -> None:
    every_phase(dsn, conn, SCENARIOS[name])


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, name: str, stop_after: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[name], stop_after)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, name: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[name])


def test_the_constraints_hold_for_green(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, BOOKINGS) as run:
        run.expand()
        green = run.green
        insert = "INSERT INTO bookings (user_id, room, during) VALUES (1, %s, tstzrange(now(), now() + '1h'))"
        green.execute(insert, (-1,))
        with pytest.raises(psycopg.errors.ExclusionViolation):  # overlapping, where room < 0
            green.execute(insert, (-2,))
        green.execute(
            "INSERT INTO bookings (user_id, room, during, team_id, team_user) "
            "VALUES (1, 3, tstzrange(now(), now() + '1h'), 2, 2)"
        )
        run.blue.execute("DELETE FROM members WHERE team_id = 2")  # SET NULL (team_user) only
        assert green.execute("SELECT team_id, team_user FROM bookings WHERE room = 3").fetchone() == (2, None)
        run.exchange()
        run.rollback()


def test_refusals_name_the_field(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, BOOKINGS.tables)
    table = "{op: create_table, table: t, columns: [{name: a, type: bigint}, {name: b, type: int}], constraints: "
    cases = {
        table + "[{type: check, check: a > 0}]}": "constraints[0].name",
        table + "[{type: unique, columns: [nope]}]}": "constraints[0].columns",
        table + "[{type: unique}]}": "constraints[0].columns",
        table + "[{type: foreign_key, columns: [a], references: {table: teams, columns: [id, id]}}]}": (
            "constraints[0].references.columns"
        ),
        table + "[{type: foreign_key, columns: [a, b], references: {table: members, columns: [team_id, user_id], "
        "on_delete: CASCADE, on_delete_columns: [b]}}]}": "constraints[0].references.on_delete_columns",
        table + "[{type: unique, columns: [a], initially_deferred: true}]}": "constraints[0].initially_deferred",
        table + "[{type: exclude, exclude: [{column: a, operator: 'x; drop'}]}]}": "constraints.0.exclude.0.operator",
        "{op: add_column, table: users, column: {name: t, type: bigint, references: {table: teams, column: id, "
        "initially_deferred: true}}}": "column.references.initially_deferred",
        "{op: alter_column, table: users, column: org, references: {table: teams, column: id, on_delete: CASCADE, "
        "on_delete_columns: [org]}}": "references.on_delete_columns",
    }
    with open_session(dsn) as c:
        for op, fld in cases.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: t\noperations:\n  - {op}\n"), file="t.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))
