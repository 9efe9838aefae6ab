"""add_column through every phase, with a blue and a green client reading and writing."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import engine
from tests.helpers import backfill_all, client, migration, plain_alter_snapshot, snapshot

pytestmark = pytest.mark.integration

MIGRATION = """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false, unique: true}
    up: lower(email)
"""


SETUP = "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)"


@pytest.fixture
def users(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute(SETUP)
    conn.execute("INSERT INTO users (email) SELECT 'User' || g || '@Example.com' FROM generate_series(1, 2000) g")
    return conn


def test_phases(dsn: str, users: psycopg.Connection) -> None:
    before = snapshot(users)
    m = migration(MIGRATION)
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.expand(conn, m.name)

    blue, green = client(dsn, "public_base"), client(dsn, "public_users_email_lower")
    # after expand: blue sees the old shape, green the new; each side's writes reach the other
    assert [d.name for d in blue.execute("SELECT * FROM users LIMIT 0").description] == ["id", "email"]
    assert [d.name for d in green.execute("SELECT * FROM users LIMIT 0").description] == ["id", "email", "email_lower"]
    blue.execute("INSERT INTO users (email) VALUES ('Blue@X.org')")
    assert green.execute("SELECT email_lower FROM users WHERE email = 'Blue@X.org'").fetchone() == ("blue@x.org",)
    green.execute("INSERT INTO users (email, email_lower) VALUES ('Green@X.org', 'green@x.org')")
    assert blue.execute("SELECT count(*) FROM users WHERE email = 'Green@X.org'").fetchone() == (1,)
    blue.execute("UPDATE users SET email = 'Changed@X.org' WHERE id = 1")
    assert green.execute("SELECT email_lower FROM users WHERE id = 1").fetchone() == ("changed@x.org",)

    # after backfill: every old row has its new column
    backfill_all(dsn, m.name)
    assert green.execute("SELECT count(*) FROM users WHERE email_lower IS NULL").fetchone() == (0,)
    assert green.execute("SELECT email_lower FROM users WHERE id = 7").fetchone() == ("user7@example.com",)
    with engine.connect(dsn) as conn:
        engine.validate_constraints(conn, m.name)
        report = engine.verify(conn, m.name)
        assert report.ok, report.summary()
        engine.cutover(conn, m.name)
        assert conn.execute("SELECT liveshift.version_for('public')").fetchone() == ("public_users_email_lower",)
    # after cutover blue still works
    blue.execute("INSERT INTO users (email) VALUES ('Late@Blue.org')")
    assert green.execute("SELECT email_lower FROM users WHERE email = 'Late@Blue.org'").fetchone() == ("late@blue.org",)

    with engine.connect(dsn) as conn:
        engine.contract(conn, m.name)
    green.execute("INSERT INTO users (email, email_lower) VALUES ('After@C.org', 'after@c.org')")
    assert green.execute("SELECT count(*) FROM users").fetchone() == (2004,)
    with pytest.raises(psycopg.errors.UniqueViolation):
        green.execute("INSERT INTO users (email, email_lower) VALUES ('dup', 'after@c.org')")

    # the physical schema equals the plain ALTER's
    after = snapshot(users)
    assert after == plain_alter_snapshot(users, SETUP, "ALTER TABLE users ADD COLUMN email_lower text NOT NULL UNIQUE")
    assert before != after
    assert users.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal"
    ).fetchone() == (0,)
    assert users.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'public_base'").fetchone() == (0,)


@pytest.mark.parametrize("stop_after", ["expand", "backfill", "verify", "cutover"])
def test_rollback_from_each_phase(dsn: str, users: psycopg.Connection, stop_after: str) -> None:
    before = snapshot(users)
    m = migration(MIGRATION)
    blue, green = client(dsn, "public_base"), client(dsn, "public_users_email_lower")
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.expand(conn, m.name)
        green.execute("INSERT INTO users (email, email_lower) VALUES ('g@x', 'g@x')")
        if stop_after != "expand":
            backfill_all(dsn, m.name)
        if stop_after in ("verify", "cutover"):
            engine.validate_constraints(conn, m.name)
            assert engine.verify(conn, m.name).ok
        if stop_after == "cutover":
            engine.cutover(conn, m.name)
        blue.execute("INSERT INTO users (email) VALUES ('b@x')")
        engine.rollback(conn, m.name)
        engine.rollback(conn, m.name)  # twice equals once
    assert snapshot(users) == before
    assert users.execute("SELECT count(*) FROM users WHERE email IN ('g@x', 'b@x')").fetchone() == (2,)


def test_each_step_twice_equals_once(dsn: str, users: psycopg.Connection) -> None:
    m = migration(MIGRATION)
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.prepare(conn, m)
        engine.expand(conn, m.name)
        once = snapshot(conn)
        engine.expand(conn, m.name)
        assert snapshot(conn) == once
        backfill_all(dsn, m.name)
        backfill_all(dsn, m.name)
        engine.validate_constraints(conn, m.name)
        engine.validate_constraints(conn, m.name)
        assert engine.verify(conn, m.name).ok
        engine.cutover(conn, m.name)
        engine.cutover(conn, m.name)
        engine.contract(conn, m.name)
        done = snapshot(conn)
        engine.contract(conn, m.name)
        assert snapshot(conn) == done
