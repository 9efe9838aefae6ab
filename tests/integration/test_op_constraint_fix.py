"""add_constraint with up/down (issue 22, item 8; pgroll's create_constraint): rows that would violate a check,
unique, foreign key or NOT NULL are fixed by `up` into a hidden column carrying the constraint, swapped in at
contract; `down` maps green's writes back; blue and green writing through every phase."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration
from tests.harness.operations.constraint_fix import ALL_FOUR, SCENARIOS, TABLES
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


# the phase matrix runs the four types together, in one migration (ALL_FOUR); each alone below, for what it does


def test_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    every_phase(dsn, conn, ALL_FOUR)
    if conn.info.server_version < 180000:
        return  # NOT NULL constraints have names from PostgreSQL 18 on
    # the NOT NULL takes the name given (SET NOT NULL would name it accounts_nick_not_null)
    row = conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'n' "
        "AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'accounts'::regclass "
        "AND attname = 'nick')]::int2[]"
    ).fetchone()
    assert row == ("accounts_nick_nn",)


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, ALL_FOUR, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, ALL_FOUR)


def _row(c: psycopg.Connection, tag: int) -> tuple:
    row = c.execute("SELECT email, age, team_id, nick FROM accounts WHERE tag = %s", (tag,)).fetchone()
    assert row is not None
    return tuple(row)


def test_blue_writes_are_fixed_for_green_and_green_writes_mapped_back(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, SCENARIOS["unique"]) as run:
        run.expand()
        run.blue.execute("INSERT INTO accounts (tag, email) VALUES (-1, 'u1')")  # a duplicate, for blue
        email = _row(run.green, -1)[0]
        assert email.startswith("u1#")  # fixed by up: unique for green
        with pytest.raises(psycopg.errors.UniqueViolation):
            run.green.execute("INSERT INTO accounts (tag, email) VALUES (-2, %s)", (email,))
        run.green.execute("INSERT INTO accounts (tag, email) VALUES (-3, 'g#7')")
        assert _row(run.blue, -3)[0] == "g"  # down
        run.exchange()
        run.through("cutover")
        run.contract()


def test_check_fixed_for_green_and_enforced_after_contract(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, SCENARIOS["check"]) as run:
        run.expand()
        run.blue.execute("INSERT INTO accounts (tag, age) VALUES (-1, -7)")
        assert _row(run.green, -1)[1] == 0
        assert _row(run.blue, -1)[1] == -7
        run.exchange()
        run.through("cutover")
        run.contract()
        with pytest.raises(psycopg.errors.CheckViolation):
            run.green.execute("INSERT INTO accounts (tag, age) VALUES (-2, -1)")


REFUSED = {
    "type: check, check: age >= 0, columns: [age, nick], up: {age: '0'}": "columns",
    "type: check, check: age >= 0, columns: [age], up: {nick: 'x'}": "up",
    "type: check, check: age >= 0, columns: [age], down: {age: 'age'}": "down",
    "type: not_null, columns: [id]": "columns",
    "type: not_null, columns: [nope]": "columns[0]",
    "type: unique, columns: [email], up: {email: 'nope'}": "up.email",
    "type: foreign_key, columns: [team_id], references: {table: teams, columns: [id, id]}, up: {team_id: '1'}": (
        "references.columns"
    ),
}


def test_refused_at_plan_with_the_reason(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, TABLES)
    for spec, fld in REFUSED.items():
        op = f"{{op: add_constraint, table: accounts, name: c, {spec}}}"
        with open_session(dsn) as c, pytest.raises(SpecError) as err:
            preflight.validate(c, migration(f"name: a\noperations:\n  - {op}\n"), file="a.yaml")
        assert (err.value.index, err.value.op, err.value.field) == (0, "add_constraint", fld), (op, str(err.value))
