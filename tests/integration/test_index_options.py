"""create_index's options through every phase, each rollback, each step twice; refusals name the field."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration
from tests.harness.operations.index_options import OPTIONS
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


def test_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    every_phase(dsn, conn, OPTIONS)
    definition = conn.execute("SELECT pg_get_indexdef('users_email_age'::regclass)").fetchone()
    assert definition is not None and 'COLLATE "C" text_pattern_ops' in definition[0]


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, OPTIONS, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, OPTIONS)


def test_refusals_name_the_field(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, OPTIONS.tables)
    base = "{op: create_index, name: i, table: users, "
    cases = {
        "columns: [{name: email, order: desc}], method: hash}": "columns[0]",
        "columns: [email], include: [nope]}": "include[0]",
        "columns: [tags], method: gin, include: [age]}": "include",
        "columns: [email], nulls_not_distinct: true}": "nulls_not_distinct",
        "columns: [{name: email, opclass: 'x; drop'}]}": "columns.0.opclass",
        "columns: [email], storage_parameters: {'a b': 1}}": "storage_parameters",
    }
    with open_session(dsn) as c:
        for op, fld in cases.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: t\noperations:\n  - {base}{op}\n"), file="t.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))
