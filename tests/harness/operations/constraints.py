"""The scenarios of add_constraint (check, unique, foreign key) and drop_constraint
(tests/integration/test_op_constraints.py)."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Table, count, same_side

TABLES = (
    Table(
        "users",
        "id bigserial PRIMARY KEY, email text NOT NULL, age int NOT NULL DEFAULT 0, "
        "CONSTRAINT email_has_at CHECK (position('@' IN email) > 0)",
        rows=400,
        values={"email": "'u' || g || '@x.org'", "age": "g % 90"},
    ),
    Table(
        "orders",
        "id bigserial PRIMARY KEY, user_id bigint, total numeric NOT NULL DEFAULT 0",
        rows=400,
        values={"user_id": "g % 400 + 1", "total": "g"},
    ),
)


def _sees(conn: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert count(conn, "SELECT count(*) FROM users WHERE email = ANY(%s)", emails) == len(tags)
    assert count(conn, "SELECT count(*) FROM orders WHERE total = ANY(%s)", [-t for t in tags]) == len(tags)


def _write(c: psycopg.Connection, n: int) -> None:
    # a user and an order of theirs; totals are negative so they never clash with the seeded ones
    c.execute(
        "WITH u AS (INSERT INTO users (email, age) VALUES (%s, 30) RETURNING id) "
        "INSERT INTO orders (user_id, total) SELECT id, %s FROM u",
        (f"w{n}@x.org", -n),
    )


def scenario(name: str, op: str, plain: str) -> Scenario:
    blue, green = same_side(_write, _sees)
    return Scenario(
        tables=TABLES, migration=f"name: {name}\noperations:\n  - {op}\n", plain=plain, blue=blue, green=green
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
