"""Comments, rename_constraint and set_replica_identity through every phase, each rollback, each step twice."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration
from tests.harness.operations.comments import COMMENTS, NAMES_AND_IDENTITY
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

SCENARIOS = {"comments": COMMENTS, "names_and_identity": NAMES_AND_IDENTITY}


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


def test_refusals_name_the_field(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, COMMENTS.tables)
    cases = {
        "{op: comment, table: users, column: nope, comment: x}": "column",
        "{op: comment, table: users, constraint: nope, comment: x}": "constraint",
        "{op: comment, table: users, column: email, constraint: users_email_key, comment: x}": "constraint",
        "{op: comment, table: users}": "comment",
        "{op: alter_column, table: users, column: email}": "column",
        "{op: rename_constraint, table: users, name: nope, to: x}": "name",
        "{op: rename_constraint, table: users, name: users_email_key, to: users_email_check}": "to",
        "{op: rename_constraint, table: users, name: users_email_key, to: users_pkey}": "to",
        "{op: set_replica_identity, table: users, identity: index}": "index",
        "{op: set_replica_identity, table: users, identity: full, index: users_pkey}": "index",
        "{op: set_replica_identity, table: users, identity: index, index: nope}": "index",
        "{op: set_replica_identity, table: users, identity: sometimes}": "identity",
    }
    with open_session(dsn) as c:
        for op, fld in cases.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: t\noperations:\n  - {op}\n"), file="t.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))
