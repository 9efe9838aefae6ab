"""add_constraint (check, unique, foreign key) and drop_constraint through every phase, blue and green writing."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import migration, snapshot
from tests.harness.operations.constraints import CHECK, DROP, FOREIGN_KEY, SCENARIOS, UNIQUE
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    each_step_twice_equals_once,
    expand,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


def _constraint(conn: psycopg.Connection, table: str, name: str) -> tuple[bool] | None:
    return conn.execute(
        "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
        (f"public.{table}", name),
    ).fetchone()


def test_check_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, CHECK) as run:
        blue, green = run.blue, run.green
        run.expand()
        # after expand: NOT VALID, yet enforced for new writes of both versions
        assert _constraint(conn, "users", "age_nonneg") == (False,)
        for side in (blue, green):
            with pytest.raises(psycopg.errors.CheckViolation):
                side.execute("INSERT INTO users (email, age) VALUES ('neg@x.org', -1)")
        blue.execute("INSERT INTO users (email, age) VALUES ('b@x.org', 1)")
        assert green.execute("SELECT age FROM users WHERE email = 'b@x.org'").fetchone() == (1,)
        run.exchange()
        # after the validate phase: validated, with no lock that stops writes
        run.backfill()
        run.exchange()
        with open_session(dsn) as c:
            phases.validate_constraints(c, run.m.name)
        assert _constraint(conn, "users", "age_nonneg") == (True,)
        run.through("cutover")
        green.execute("INSERT INTO users (email, age) VALUES ('g@x.org', 2)")
        run.contract()
        with pytest.raises(psycopg.errors.CheckViolation):
            green.execute("UPDATE users SET age = -5 WHERE id = 1")


def test_check_that_existing_rows_violate_fails_validation_and_rolls_back(dsn: str, conn: psycopg.Connection) -> None:
    s = CHECK
    load_tables(conn, s.tables)
    conn.execute("ALTER TABLE users DROP CONSTRAINT email_has_at")
    conn.execute("UPDATE users SET age = -1 WHERE id = 5")
    before = snapshot(conn)
    expand(dsn, s.m)  # NOT VALID: existing rows are not checked yet
    with open_session(dsn) as c:
        with pytest.raises(psycopg.errors.CheckViolation):
            phases.validate_constraints(c, s.m.name)
        phases.rollback(c, s.m.name)
    assert snapshot(conn) == before


def test_unique_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, UNIQUE) as run:
        blue, green = run.blue, run.green
        run.expand()
        # after expand: a unique index (not yet a constraint) already refuses duplicates from both versions
        assert _constraint(conn, "users", "users_email_key") is None
        blue.execute("INSERT INTO users (email) VALUES ('b@x.org')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            green.execute("INSERT INTO users (email) VALUES ('b@x.org')")
        green.execute("INSERT INTO users (email) VALUES ('g@x.org')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            blue.execute("UPDATE users SET email = 'g@x.org' WHERE id = 1")
        run.exchange()
        run.through("cutover")
        run.contract()
        # after contract: the index became the constraint
        assert _constraint(conn, "users", "users_email_key") == (True,)
        with pytest.raises(psycopg.errors.UniqueViolation):
            green.execute("INSERT INTO users (email) VALUES ('u1@x.org')")


def test_foreign_key_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, FOREIGN_KEY) as run:
        blue, green = run.blue, run.green
        run.expand()
        assert _constraint(conn, "orders", "orders_user_fk") == (False,)
        for side in (blue, green):
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                side.execute("INSERT INTO orders (user_id) VALUES (999999)")
        green.execute("INSERT INTO orders (user_id, total) VALUES (7, 1)")
        blue.execute("DELETE FROM users WHERE id = 7")  # ON DELETE CASCADE already applies
        assert green.execute("SELECT count(*) FROM orders WHERE user_id = 7").fetchone() == (0,)
        run.exchange()
        run.backfill()
        run.exchange()
        with open_session(dsn) as c:
            phases.validate_constraints(c, run.m.name)
        assert _constraint(conn, "orders", "orders_user_fk") == (True,)
        run.through("cutover")
        run.contract()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            green.execute("INSERT INTO orders (user_id) VALUES (999999)")


def test_drop_constraint_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, DROP) as run:
        blue, green = run.blue, run.green
        run.expand()
        # the constraint holds for both versions until contract
        for side in (blue, green):
            with pytest.raises(psycopg.errors.CheckViolation):
                side.execute("INSERT INTO users (email) VALUES ('no-at')")
        run.exchange()
        run.through("cutover")
        assert _constraint(conn, "users", "email_has_at") == (True,)
        run.contract()
        assert _constraint(conn, "users", "email_has_at") is None
        green.execute("INSERT INTO users (email) VALUES ('no-at')")


def test_add_constraint_is_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, CHECK.tables)
    base = "op: add_constraint, table: users, name: c"
    cases = {
        f"{{{base}, type: check}}": "check",
        f"{{{base}, type: check, check: age > 0, columns: [age]}}": "columns",
        f"{{{base}, type: check, check: nope > 0}}": "check",
        f"{{{base}, type: unique}}": "columns",
        f"{{{base}, type: unique, columns: [nope]}}": "columns[0]",
        f"{{{base}, type: unique, columns: [email], check: 'true'}}": "check",
        f"{{{base}, type: foreign_key, columns: [id]}}": "references",
        f"{{{base}, type: foreign_key, columns: [id], references: {{table: nope, columns: [id]}}}}": "references.table",
        f"{{{base}, type: foreign_key, columns: [id], references: {{table: orders, columns: [x]}}}}": (
            "references.columns[0]"
        ),
        f"{{{base}, type: foreign_key, columns: [id], references: {{table: orders, columns: [user_id]}}}}": (
            "references.columns"
        ),
        f"{{{base}, type: foreign_key, columns: [id, age], references: {{table: orders, columns: [id]}}}}": (
            "references.columns"
        ),
        f"{{{base}, type: primary_key, columns: [id]}}": "type",
        "{op: add_constraint, table: users, name: email_has_at, type: check, check: 'true'}": "name",
        "{op: add_constraint, table: users, name: orders_pkey, type: unique, columns: [email]}": "name",
    }
    with open_session(dsn) as c:
        for op, fld in cases.items():
            with pytest.raises(SpecError) as err:
                preflight.validate(c, migration(f"name: a\noperations:\n  - {op}\n"), file="a.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))


def test_drop_constraint_is_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, FOREIGN_KEY.tables)
    conn.execute("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)")
    for op in (
        "{op: drop_constraint, table: users, name: nope}",
        "{op: drop_constraint, table: users, name: users_pkey}",
    ):
        with open_session(dsn) as c, pytest.raises(SpecError) as err:
            preflight.validate(c, migration(f"name: d\noperations:\n  - {op}\n"))
        assert err.value.field == "name", op


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[scenario], stop_after)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])
