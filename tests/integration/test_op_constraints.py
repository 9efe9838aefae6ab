"""add_constraint (check, unique, foreign key) and drop_constraint through every phase, blue and green writing."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import engine
from liveshift.errors import SpecError
from tests.helpers import backfill_all, client, migration, snapshot
from tests.integration.test_op_support import (
    BLUE,
    PHASES_BEFORE_CONTRACT,
    Scenario,
    advance,
    contract,
    contract_matches_plain,
    each_step_twice_equals_once,
    expand,
    load,
    rollback_keeps_writes,
)

pytestmark = pytest.mark.integration

SETUP = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, age int NOT NULL DEFAULT 0,
                    CONSTRAINT email_has_at CHECK (position('@' IN email) > 0));
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, total numeric NOT NULL DEFAULT 0);
"""
ROWS = """
INSERT INTO users (email, age) SELECT 'u' || g || '@x.org', g % 90 FROM generate_series(1, 400) g;
INSERT INTO orders (user_id, total) SELECT g % 400 + 1, g FROM generate_series(1, 400) g;
"""


def _kept(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (emails,)).fetchone() == (len(tags),)
    assert conn.execute("SELECT count(*) FROM orders WHERE total = ANY(%s)", ([-t for t in tags],)).fetchone() == (
        len(tags),
    )


def _write(c: psycopg.Connection, n: int) -> None:
    # a user and an order of theirs; totals are negative so they never clash with the seeded ones
    c.execute(
        "WITH u AS (INSERT INTO users (email, age) VALUES (%s, 30) RETURNING id) "
        "INSERT INTO orders (user_id, total) SELECT id, %s FROM u",
        (f"w{n}@x.org", -n),
    )


def scenario(name: str, op: str, plain: str) -> Scenario:
    return Scenario(
        setup=SETUP,
        rows=ROWS,
        migration=f"name: {name}\noperations:\n  - {op}\n",
        plain=plain,
        blue_write=_write,
        green_write=_write,
        kept=_kept,
    )


CHECK = scenario(
    "users_age_check",
    "{op: add_constraint, table: users, name: age_nonneg, type: check, check: age >= 0}",
    "ALTER TABLE users ADD CONSTRAINT age_nonneg CHECK (age >= 0)",
)
UNIQUE = scenario(
    "users_email_unique",
    "{op: add_constraint, table: users, name: users_email_key, type: unique, columns: [email]}",
    "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)",
)
FOREIGN_KEY = scenario(
    "orders_user_fk",
    "{op: add_constraint, table: orders, name: orders_user_fk, type: foreign_key, columns: [user_id], "
    "references: {table: users, columns: [id], on_delete: CASCADE}}",
    "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE",
)
DROP = scenario(
    "drop_email_check",
    "{op: drop_constraint, table: users, name: email_has_at}",
    "ALTER TABLE users DROP CONSTRAINT email_has_at",
)

SCENARIOS = {"check": CHECK, "unique": UNIQUE, "foreign_key": FOREIGN_KEY, "drop_constraint": DROP}


def _constraint(conn: psycopg.Connection, table: str, name: str) -> tuple[bool] | None:
    return conn.execute(
        "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
        (f"public.{table}", name),
    ).fetchone()


def test_check_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = CHECK
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    # after expand: NOT VALID, yet enforced for new writes of both versions
    assert _constraint(conn, "users", "age_nonneg") == (False,)
    for side in (blue, green):
        with pytest.raises(psycopg.errors.CheckViolation):
            side.execute("INSERT INTO users (email, age) VALUES ('neg@x.org', -1)")
    blue.execute("INSERT INTO users (email, age) VALUES ('b@x.org', 1)")
    assert green.execute("SELECT age FROM users WHERE email = 'b@x.org'").fetchone() == (1,)
    # after the validate phase: validated, with no lock that stops writes
    backfill_all(dsn, s.m.name)
    with engine.connect(dsn) as c:
        engine.validate_constraints(c, s.m.name)
    assert _constraint(conn, "users", "age_nonneg") == (True,)
    advance(dsn, s.m, "cutover")
    green.execute("INSERT INTO users (email, age) VALUES ('g@x.org', 2)")
    contract(dsn, s.m)
    with pytest.raises(psycopg.errors.CheckViolation):
        green.execute("UPDATE users SET age = -5 WHERE id = 1")
    contract_matches_plain(conn, s)


def test_check_that_existing_rows_violate_fails_validation_and_rolls_back(dsn: str, conn: psycopg.Connection) -> None:
    s = CHECK
    load(conn, s)
    conn.execute("ALTER TABLE users DROP CONSTRAINT email_has_at")
    conn.execute("UPDATE users SET age = -1 WHERE id = 5")
    before = snapshot(conn)
    expand(dsn, s.m)  # NOT VALID: existing rows are not checked yet
    with engine.connect(dsn) as c:
        with pytest.raises(psycopg.errors.CheckViolation):
            engine.validate_constraints(c, s.m.name)
        engine.rollback(c, s.m.name)
    assert snapshot(conn) == before


def test_unique_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = UNIQUE
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    # after expand: a unique index (not yet a constraint) already refuses duplicates from both versions
    assert _constraint(conn, "users", "users_email_key") is None
    blue.execute("INSERT INTO users (email) VALUES ('b@x.org')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        green.execute("INSERT INTO users (email) VALUES ('b@x.org')")
    green.execute("INSERT INTO users (email) VALUES ('g@x.org')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        blue.execute("UPDATE users SET email = 'g@x.org' WHERE id = 1")
    advance(dsn, s.m, "cutover")
    contract(dsn, s.m)
    # after contract: the index became the constraint
    assert _constraint(conn, "users", "users_email_key") == (True,)
    with pytest.raises(psycopg.errors.UniqueViolation):
        green.execute("INSERT INTO users (email) VALUES ('u1@x.org')")
    contract_matches_plain(conn, s)


def test_foreign_key_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = FOREIGN_KEY
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    assert _constraint(conn, "orders", "orders_user_fk") == (False,)
    for side in (blue, green):
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            side.execute("INSERT INTO orders (user_id) VALUES (999999)")
    green.execute("INSERT INTO orders (user_id, total) VALUES (7, 1)")
    blue.execute("DELETE FROM users WHERE id = 7")  # ON DELETE CASCADE already applies
    assert green.execute("SELECT count(*) FROM orders WHERE user_id = 7").fetchone() == (0,)
    backfill_all(dsn, s.m.name)
    with engine.connect(dsn) as c:
        engine.validate_constraints(c, s.m.name)
    assert _constraint(conn, "orders", "orders_user_fk") == (True,)
    advance(dsn, s.m, "cutover")
    contract(dsn, s.m)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        green.execute("INSERT INTO orders (user_id) VALUES (999999)")
    contract_matches_plain(conn, s)


def test_drop_constraint_phases(dsn: str, conn: psycopg.Connection) -> None:
    s = DROP
    load(conn, s)
    expand(dsn, s.m)
    blue, green = client(dsn, BLUE), client(dsn, s.green)
    # the constraint holds for both versions until contract
    for side in (blue, green):
        with pytest.raises(psycopg.errors.CheckViolation):
            side.execute("INSERT INTO users (email) VALUES ('no-at')")
    advance(dsn, s.m, "cutover")
    assert _constraint(conn, "users", "email_has_at") == (True,)
    contract(dsn, s.m)
    assert _constraint(conn, "users", "email_has_at") is None
    green.execute("INSERT INTO users (email) VALUES ('no-at')")
    contract_matches_plain(conn, s)


def test_add_constraint_is_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load(conn, CHECK)
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
    with engine.connect(dsn) as c:
        for op, fld in cases.items():
            with pytest.raises(SpecError) as err:
                engine.validate(c, migration(f"name: a\noperations:\n  - {op}\n"), file="a.yaml")
            assert (err.value.index, err.value.field) == (0, fld), (op, str(err.value))


def test_drop_constraint_is_refused_on_bad_input(dsn: str, conn: psycopg.Connection) -> None:
    load(conn, FOREIGN_KEY)
    conn.execute("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)")
    for op in (
        "{op: drop_constraint, table: users, name: nope}",
        "{op: drop_constraint, table: users, name: users_pkey}",
    ):
        with engine.connect(dsn) as c, pytest.raises(SpecError) as err:
            engine.validate(c, migration(f"name: d\noperations:\n  - {op}\n"))
        assert err.value.field == "name", op


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    rollback_keeps_writes(dsn, conn, SCENARIOS[scenario], stop_after)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])
