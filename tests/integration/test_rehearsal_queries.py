"""The rehearsal checks the application's real statements (pg_stat_statements, on a server of its own that loads
it) against both versions: each EXPLAINed, never executed, under blue and under green; those green no longer
compiles are reported."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from liveshift import phases
from liveshift.connections import open_session
from liveshift.rehearsal.queries import check_statements, read_statements
from liveshift.rehearsal.run import rehearse
from tests.harness.db import migration
from tests.harness.postgres import PostgresServer, fresh_database, server_of_its_own

pytestmark = pytest.mark.integration

SETUP = """
CREATE EXTENSION pg_stat_statements;
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, nick text);
INSERT INTO users (email, nick) SELECT 'u' || g || '@x.org', 'n' || g FROM generate_series(1, 200) g;
"""

RENAME = """
name: users_handle
schema: public
operations:
  - op: rename_column
    table: users
    column: nick
    to: handle
"""


@pytest.fixture(scope="module")
def stats_server() -> Iterator[PostgresServer]:
    with server_of_its_own(shared_preload_libraries="pg_stat_statements") as server:
        yield server


@pytest.fixture
def target(stats_server: PostgresServer) -> Iterator[str]:
    with fresh_database(stats_server) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SETUP)
            conn.execute("SELECT pg_stat_statements_reset()")
        yield dsn


def application(dsn: str) -> None:
    """What the application runs (as blue would, on the physical tables): parameterised, so recorded with $n."""
    with psycopg.connect(dsn, autocommit=True) as app:
        for i in range(1, 4):
            app.execute("SELECT nick FROM users WHERE id = %s", (i,))
            app.execute("SELECT email FROM users WHERE id = %s", (i,))
            app.execute("UPDATE users SET nick = %s WHERE id = %s", (f"x{i}", i))
            app.execute("SELECT count(*) FROM users")
        app.execute("CREATE TEMPORARY TABLE scratchpad (a int)")
        app.execute("SELECT a FROM scratchpad")  # compiles under neither version: not the migration's doing


def test_the_statements_green_no_longer_compiles_are_reported(target: str) -> None:
    application(target)
    report = rehearse(target, migration(RENAME))
    assert all(p.ok for p in report.phases), report.summary()
    queries = report.queries
    assert queries.available and queries.checked >= 5
    broken = sorted(b.query for b in queries.broken)
    assert broken == ["SELECT nick FROM users WHERE id = $1", "UPDATE users SET nick = $1 WHERE id = $2"]
    assert all('"nick"' in b.error and "does not exist" in b.error and b.calls == 3 for b in queries.broken), queries
    assert queries.failing_under_both >= 1  # the temporary table's (and the set-up's pg_stat_statements_reset())
    assert not report.ok and "no longer compiles under green: SELECT nick" in report.summary()


@pytest.mark.parametrize("generic_plan", [True, False], ids=["explain-generic-plan", "prepare-explain-execute"])
def test_both_ways_of_planning_agree(target: str, generic_plan: bool) -> None:
    """EXPLAIN (GENERIC_PLAN) on 16 and later; PREPARE and EXPLAIN EXECUTE with NULLs before: the same findings."""
    application(target)
    with open_session(target) as conn:
        statements, _ = read_statements(conn)
        assert statements is not None
        m = migration(RENAME)
        plan = phases.prepare(conn, m)
        phases.expand(conn, m.name)
        check = check_statements(conn, statements, plan.blue, plan.green, generic_plan=generic_plan)
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'ls_rehearsal'").fetchone() == (
            0,
        )
    assert sorted(b.query for b in check.broken) == [
        "SELECT nick FROM users WHERE id = $1",
        "UPDATE users SET nick = $1 WHERE id = $2",
    ]


def test_without_the_library_loaded_it_says_so(dsn: str, conn: psycopg.Connection) -> None:
    """The session's server does not preload pg_stat_statements: the extension exists, its view cannot be read."""
    conn.execute("CREATE EXTENSION pg_stat_statements; CREATE TABLE t (id int PRIMARY KEY)")
    statements, note = read_statements(conn)
    assert statements is None and "shared_preload_libraries" in note
