"""`start --rehearse`: the worker rehearses the migration on a scratch clone before prepare (only it knows the
target's DSN); a passing rehearsal goes on to the real migration, a failing one ends it before anything touched the
real tables. Records the history add_column_rehearsed (the `rehearse-first` patch, workflows/patches.py)."""

from __future__ import annotations

import psycopg
import pytest

from liveshift.workflows.client import start_migration
from liveshift.workflows.models import MigrationInput, MigrationOptions, MigrationStatus
from tests.harness.db import migration, snapshot
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history


def may_create_databases(conn: psycopg.Connection) -> None:
    """The rehearsal without a scratch target creates a database: with LIVESHIFT_TEST_WORKER_ROLE the test's role
    may not (the refusal has its own test)."""
    row = conn.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if not (row and row[0]):
        pytest.skip("the test's role may not create databases (LIVESHIFT_TEST_WORKER_ROLE)")


pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SETUP = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);
INSERT INTO users (email) SELECT 'U' || g || '@X.org' FROM generate_series(1, 500) g;
"""

ADD = """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text}
    up: lower(email)
"""

FAILS = """
name: users_raw
operations:
  - op: raw_sql
    up: ALTER TABLE users ADD CONSTRAINT short_email CHECK (length(email) < 5)
    down: ALTER TABLE users DROP CONSTRAINT short_email
"""


def request(worker: WorkerHandle, text: str) -> MigrationInput:
    options = MigrationOptions(auto_cutover=True, soak_seconds=0, rehearse=True)
    return MigrationInput(target=worker.target, migration=migration(text), options=options)


async def test_a_passing_rehearsal_goes_on_to_the_migration(
    temporal: TemporalServer, liveshift_worker: WorkerHandle, conn: psycopg.Connection
) -> None:
    may_create_databases(conn)
    conn.execute(SETUP)
    handle = await start_migration(temporal.client, request(liveshift_worker, ADD), liveshift_worker.task_queue)
    status: MigrationStatus = await handle.result()
    assert status.phase == "complete"
    assert status.rehearsal is not None and status.rehearsal.ok
    assert [p.phase for p in status.rehearsal.phases if p.run == "forward"] == [
        "expand",
        "backfill",
        "verify",
        "cutover",
        "contract",
    ]
    assert conn.execute("SELECT count(*) FROM users WHERE email_lower = lower(email)").fetchone() == (500,)
    record_history("add_column_rehearsed", (await handle.fetch_history()).to_json())


async def test_a_failing_rehearsal_ends_before_prepare(
    temporal: TemporalServer, liveshift_worker: WorkerHandle, conn: psycopg.Connection
) -> None:
    may_create_databases(conn)
    conn.execute(SETUP)
    before = snapshot(conn)
    handle = await start_migration(temporal.client, request(liveshift_worker, FAILS), liveshift_worker.task_queue)
    with pytest.raises(Exception) as failed:
        await handle.result()
    assert "rehearsal of users_raw failed: rollback from expand: expand:" in str(failed.value.cause)
    status = await handle.query("status", result_type=MigrationStatus)
    assert status.phase == "failed"
    assert status.rehearsal is not None and not status.rehearsal.ok
    assert "short_email" in (status.last_error or "")
    # nothing touched the real database: no record, no version, the catalog as it was
    assert conn.execute("SELECT to_regnamespace('liveshift')").fetchone() == (None,)
    assert snapshot(conn) == before
