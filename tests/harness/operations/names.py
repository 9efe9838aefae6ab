"""Migration names that start with a digit, hold '-', or pass 63 bytes with the schema (tests/integration/
test_migration_names.py): the green version schema is derived from them, quoted, shortened with a hash."""

from __future__ import annotations

import psycopg

from tests.harness.scenario import Scenario, Table, count, same_side

USERS = Table("users", "id bigserial PRIMARY KEY, email text NOT NULL", rows=100, values={"email": "'u' || g"})


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO users (email) VALUES (%s)", (f"w{n}",))


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM users WHERE email = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)


BLUE_SIDE, GREEN_SIDE = same_side(_write, _sees)


def nickname(name: str) -> Scenario:
    """add_column nickname, in a migration of this name."""
    return Scenario(
        tables=(USERS,),
        migration=f"""
name: {name}
operations:
  - {{op: add_column, table: users, column: {{name: nickname, type: text, default: "'anon'"}}}}
""",
        plain="ALTER TABLE users ADD COLUMN nickname text DEFAULT 'anon'",
        blue=BLUE_SIDE,
        green=GREEN_SIDE,
    )


DIGIT_FIRST = nickname("01_add-nickname")
LONG = nickname("2026_12_07_0001_" + "add_the_nickname_column_that_users_asked_for")
