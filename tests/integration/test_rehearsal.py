"""The rehearsal (liveshift/rehearsal/): the whole migration on a scratch clone of the target, every phase and
rollback from each, the scratch database given back however it ends, and the target only read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift.errors import SpecError
from liveshift.rehearsal import run as rehearsal_run
from liveshift.rehearsal.run import rehearse
from liveshift.rehearsal.scratch import PREFIX
from tests.harness.cli import liveshift
from tests.harness.db import migration, snapshot
from tests.harness.postgres import PostgresServer, ensure_owner_role, fresh_database


def may_create_databases(conn: psycopg.Connection) -> None:
    """The rehearsal without a scratch target creates a database: with LIVESHIFT_TEST_WORKER_ROLE the test's role
    may not (the refusal has its own test)."""
    row = conn.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if not (row and row[0]):
        pytest.skip("the test's role may not create databases (LIVESHIFT_TEST_WORKER_ROLE)")


pytestmark = pytest.mark.integration

SETUP = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, score integer NOT NULL DEFAULT 0);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), total integer);
INSERT INTO users (email, score) SELECT 'u' || g || '@x.org', g FROM generate_series(1, 3000) g;
INSERT INTO orders (user_id, total) SELECT 1 + g % 3000, g FROM generate_series(1, 3000) g;
CREATE VIEW high_scores AS SELECT id, score FROM users WHERE score > 100;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON users USING (score >= 0);
"""

WIDEN = """
name: users_score_bigint
schema: public
operations:
  - op: alter_column
    table: users
    column: score
    type: bigint
"""

RAW_FAILS = """
  - op: raw_sql
    up: ALTER TABLE users ADD CONSTRAINT score_small CHECK (score < 10)
    down: ALTER TABLE users DROP CONSTRAINT score_small
"""

EXPECTED = [
    ("rollback from expand", "expand"),
    ("rollback from expand", "rollback"),
    ("rollback from backfill", "expand"),
    ("rollback from backfill", "backfill"),
    ("rollback from backfill", "rollback"),
    ("rollback from verify", "expand"),
    ("rollback from verify", "backfill"),
    ("rollback from verify", "verify"),
    ("rollback from verify", "rollback"),
    ("rollback from cutover", "expand"),
    ("rollback from cutover", "backfill"),
    ("rollback from cutover", "verify"),
    ("rollback from cutover", "cutover"),
    ("rollback from cutover", "rollback"),
    ("forward", "expand"),
    ("forward", "backfill"),
    ("forward", "verify"),
    ("forward", "cutover"),
    ("forward", "contract"),
]


def scratch_databases(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)).fetchall()
    return [r[0] for r in rows]


def test_every_phase_and_rollback_from_each_on_a_clone(dsn: str, conn: psycopg.Connection) -> None:
    may_create_databases(conn)
    conn.execute(SETUP)
    before = snapshot(conn)
    report = rehearse(dsn, migration(WIDEN), rows=500)
    assert report.ok, report.summary()
    assert [(p.run, p.phase) for p in report.phases] == EXPECTED
    assert report.sampled_rows["public.users"] == 500
    assert 0 < report.sampled_rows["public.orders"] <= 500  # orders of users left out of the sample are not copied
    # the view over the changed column was carried through contract in the clone; rollback left the catalog as it was
    assert all("as before expand" in p.detail for p in report.phases if p.phase == "rollback")
    # the target is only read: no liveshift schema, no version, the catalog as it was; the scratch is gone
    assert snapshot(conn) == before
    assert conn.execute("SELECT to_regnamespace('liveshift')").fetchone() == (None,)
    assert scratch_databases(conn) == []


def test_a_failing_migration_is_reported_at_its_phase(dsn: str, conn: psycopg.Connection) -> None:
    may_create_databases(conn)
    conn.execute(SETUP)
    failing = "name: raw_fails\nschema: public\noperations:" + RAW_FAILS
    report = rehearse(dsn, migration(failing))
    assert not report.ok
    assert [(p.run, p.phase, p.ok) for p in report.phases] == [("rollback from expand", "expand", False)]
    assert "score_small" in report.phases[0].detail and "23514" in report.phases[0].detail
    assert scratch_databases(conn) == []


def test_interrupted_the_scratch_database_is_dropped(
    dsn: str, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    may_create_databases(conn)
    conn.execute(SETUP)

    def interrupted(self: rehearsal_run.Rehearsal) -> None:
        assert scratch_databases(conn), "the scratch database exists while the rehearsal runs"
        raise KeyboardInterrupt

    monkeypatch.setattr(rehearsal_run.Rehearsal, "run_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rehearse(dsn, migration(WIDEN))
    assert scratch_databases(conn) == []


def test_without_a_scratch_target_or_createdb_it_is_refused(owner_dsn: str) -> None:
    with psycopg.connect(owner_dsn, autocommit=True) as c:
        c.execute(SETUP)
    with pytest.raises(SpecError, match=r"no scratch target is configured .* may not create databases \(it needs"):
        rehearse(owner_dsn, migration(WIDEN))


@pytest.fixture
def scratch_target(pg_server: PostgresServer) -> Iterator[str]:
    """An empty database of its own, owned by and connected to as a role of its own (not the bootstrap)."""
    role = "ls_test_scratch"
    ensure_owner_role(pg_server.admin_dsn, role)
    with fresh_database(pg_server, role) as database:
        yield database


def test_a_scratch_target_is_used_and_emptied(owner_dsn: str, scratch_target: str, pg_server: PostgresServer) -> None:
    """The owner may not create databases; the scratch target takes the clone, and is empty again after."""
    with psycopg.connect(owner_dsn, autocommit=True) as c:
        c.execute(SETUP)
        c.execute(sql.SQL("GRANT SELECT ON users TO {}").format(sql.Identifier("ls_test_scratch")))
    report = rehearse(owner_dsn, migration(WIDEN), scratch_dsn=scratch_target)
    assert report.ok, report.summary()
    assert report.scratch.startswith("the scratch target")
    with psycopg.connect(scratch_target, autocommit=True) as c:
        objects = c.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
        ).fetchone()
        assert objects == (0,)
    with psycopg.connect(scratch_target, autocommit=True) as c:
        c.execute("CREATE TABLE leftover (a int)")
    with pytest.raises(SpecError, match=r"scratch target .* is not empty"):
        rehearse(owner_dsn, migration(WIDEN), scratch_dsn=scratch_target)


def test_plan_rehearse_prints_every_phase(dsn: str, conn: psycopg.Connection, tmp_path: Path) -> None:
    may_create_databases(conn)
    conn.execute(SETUP)
    file = tmp_path / "m.yaml"
    file.write_text(WIDEN)
    text = liveshift("plan", str(file), "--dsn", dsn, "--rehearse", "--sample-rows", "100")
    assert text.returncode == 0, text.stderr
    assert "rehearsal of users_score_bigint on scratch database ls_rehearsal_" in text.stdout
    assert "  rollback from cutover:\n" in text.stdout and "    contract: ok: " in text.stdout
    assert "result: passed" in text.stdout
    failing = tmp_path / "f.yaml"
    failing.write_text(WIDEN.replace("name: users_score_bigint", "name: users_x") + RAW_FAILS)
    out = liveshift("plan", str(failing), "--dsn", dsn, "--rehearse", "--json")
    assert out.returncode == 1, out.stderr
    rehearsal = json.loads(out.stdout)["rehearsal"]
    assert rehearsal["ok"] is False and rehearsal["phases"][0]["phase"] == "expand"
    assert scratch_databases(conn) == []


def test_plan_rehearse_refused_names_what_is_missing(owner_dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(owner_dsn, autocommit=True) as c:
        c.execute(SETUP)
    file = tmp_path / "m.yaml"
    file.write_text(WIDEN)
    out = liveshift("plan", str(file), "--dsn", owner_dsn, "--rehearse")
    assert out.returncode == 2
    assert "no scratch target is configured" in out.stderr and "may not create databases" in out.stderr
