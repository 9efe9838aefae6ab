"""add_column through every phase, with a blue and a green client reading and writing."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.db import snapshot
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    Scenario,
    Side,
    Table,
    columns_of,
    count,
    each_step_twice_equals_once,
    rollback_from,
)

pytestmark = pytest.mark.integration

USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL",
    rows=2000,
    values={"email": "'User' || g || '@Example.com'"},
)


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"W{t}@X.org" for t in tags]
    assert count(c, "SELECT count(*) FROM users WHERE email = ANY(%s)", emails) == len(tags)


def _green_sees(c: psycopg.Connection, tags: list[int]) -> None:
    _sees(c, tags)  # and each row's new column, whoever wrote it
    lowered = [f"w{t}@x.org" for t in tags]
    assert count(c, "SELECT count(*) FROM users WHERE email_lower = ANY(%s)", lowered) == len(tags)


ADD_EMAIL_LOWER = Scenario(
    tables=(USERS,),
    migration="""
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false, unique: true}
    up: lower(email)
""",
    plain="ALTER TABLE users ADD COLUMN email_lower text NOT NULL UNIQUE",
    blue=Side(lambda c, n: c.execute("INSERT INTO users (email) VALUES (%s)", (f"W{n}@X.org",)), _sees),
    green=Side(
        lambda c, n: c.execute(
            "INSERT INTO users (email, email_lower) VALUES (%s, %s)", (f"W{n}@X.org", f"w{n}@x.org")
        ),
        _green_sees,
    ),
)


def test_phases(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, ADD_EMAIL_LOWER) as run:
        before = run.before
        blue, green = run.blue, run.green
        run.expand()
        # after expand: blue sees the old shape, green the new; each side's writes reach the other
        assert columns_of(blue, "users") == ["id", "email"]
        assert columns_of(green, "users") == ["id", "email", "email_lower"]
        blue.execute("INSERT INTO users (email) VALUES ('Blue@X.org')")
        assert green.execute("SELECT email_lower FROM users WHERE email = 'Blue@X.org'").fetchone() == ("blue@x.org",)
        green.execute("INSERT INTO users (email, email_lower) VALUES ('Green@X.org', 'green@x.org')")
        assert blue.execute("SELECT count(*) FROM users WHERE email = 'Green@X.org'").fetchone() == (1,)
        blue.execute("UPDATE users SET email = 'Changed@X.org' WHERE id = 1")
        assert green.execute("SELECT email_lower FROM users WHERE id = 1").fetchone() == ("changed@x.org",)
        run.exchange()

        # after backfill: every old row has its new column
        run.backfill()
        assert green.execute("SELECT count(*) FROM users WHERE email_lower IS NULL").fetchone() == (0,)
        assert green.execute("SELECT email_lower FROM users WHERE id = 7").fetchone() == ("user7@example.com",)
        run.exchange()
        run.through("cutover")  # version_for('public') names green after cutover
        # after cutover blue still works
        blue.execute("INSERT INTO users (email) VALUES ('Late@Blue.org')")
        assert green.execute("SELECT email_lower FROM users WHERE email = 'Late@Blue.org'").fetchone() == (
            "late@blue.org",
        )

        run.contract()  # the physical schema equals the plain ALTER's; no trigger, no blue schema left
        green.execute("INSERT INTO users (email, email_lower) VALUES ('After@C.org', 'after@c.org')")
        assert green.execute("SELECT count(*) FROM users").fetchone() == (2004 + len(run.acked),)
        with pytest.raises(psycopg.errors.UniqueViolation):
            green.execute("INSERT INTO users (email, email_lower) VALUES ('dup', 'after@c.org')")
    assert snapshot(conn) != before


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, ADD_EMAIL_LOWER, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, ADD_EMAIL_LOWER)
