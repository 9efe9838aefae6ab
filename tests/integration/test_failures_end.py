"""What plan accepts ends: a failure no retry can fix ends the migration within one attempt and rolls it back,
with the server's message in the status; a transient one keeps retrying (tests/unit/test_failures.py has the
classification)."""

from __future__ import annotations

import psycopg
import pytest
from temporalio.api.enums.v1 import EventType

from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    STATUS,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
)
from tests.harness.db import migration
from tests.harness.temporal import TemporalServer, WorkerHandle, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# a COMMENT on a column the same file adds: at expand the column is stored hidden under another name
COMMENT_ON_ADDED_COLUMN = """
name: users_nickname
operations:
  - op: add_column
    table: users
    column: {name: nickname, type: text}
    up: "'n' || id"
  - op: raw_sql
    up: COMMENT ON COLUMN public.users.nickname IS 'what friends call them'
    down: SELECT 1
"""


async def test_a_deterministic_error_at_expand_rolls_back_after_one_attempt(
    temporal: TemporalServer, liveshift_worker: WorkerHandle, conn: psycopg.Connection
) -> None:
    conn.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)")
    conn.execute("INSERT INTO users (email) SELECT 'u' || g FROM generate_series(1, 100) g")
    request = MigrationInput(
        target=liveshift_worker.target,
        migration=migration(COMMENT_ON_ADDED_COLUMN),
        options=MigrationOptions(auto_cutover=True, soak_seconds=0),
    )
    handle = await start_migration(temporal.client, request, task_queue=liveshift_worker.task_queue)
    with pytest.raises(Exception) as failed:
        await handle.result()
    assert 'column "nickname" of relation "public.users" does not exist (SQLSTATE 42703)' in str(failed.value.cause)
    status = await handle.query("status", result_type=MigrationStatus)
    assert status.phase == "rolled_back"
    assert status.last_error == 'column "nickname" of relation "public.users" does not exist (SQLSTATE 42703)'
    expand_attempts = [
        e.activity_task_started_event_attributes.attempt
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.attempt > 1
    ]
    assert expand_attempts == []  # no activity was retried: the failure ended the migration at once
    # rolled back: the hidden column and the green version are gone, every row kept
    columns = [r[0] for r in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass")]
    assert not [c for c in columns if c.startswith("_ls_")]
    assert conn.execute("SELECT to_regnamespace('public_users_nickname')").fetchone() == (None,)
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (100,)


SCORE_BIGINT = """
name: users_score_bigint
operations:
  - op: alter_column
    table: users
    column: score
    type: bigint
"""


async def test_a_contract_that_would_fail_leaves_everything_and_waits_for_the_operator(
    temporal: TemporalServer, liveshift_worker: WorkerHandle, conn: psycopg.Connection
) -> None:
    """A view on the changed column made after prepare (so not carried through): contract's trial transaction
    fails on it, nothing is dropped, the migration waits at the contract gate with the error; once the view is
    gone, an approval contracts."""
    conn.execute("CREATE TABLE users (id bigserial PRIMARY KEY, score int NOT NULL DEFAULT 0)")
    conn.execute("INSERT INTO users (score) SELECT g FROM generate_series(1, 100) g")
    request = MigrationInput(
        target=liveshift_worker.target,
        migration=migration(SCORE_BIGINT),
        options=MigrationOptions(auto_cutover=True),
    )
    handle = await start_migration(temporal.client, request, task_queue=liveshift_worker.task_queue)
    status = await wait_for_phase(handle, "awaiting_contract", timeout=60)
    conn.execute("CREATE VIEW top_scores AS SELECT id, score FROM users WHERE score > 90")
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    while status.last_error is None:
        status = await handle.query(STATUS, result_type=MigrationStatus)
    assert status.last_error.startswith("contract would fail, nothing was changed: cannot drop column score")
    assert status.last_error.endswith("(SQLSTATE 2BP01)")
    assert (status.phase, status.waiting_for) == ("awaiting_contract", "contract")
    columns = {r[0] for r in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass")}
    assert {"score", "_ls_new_score"} <= columns  # nothing dropped: blue and green both still whole
    assert conn.execute("SELECT count(*) FROM top_scores").fetchone() == (10,)
    conn.execute("DROP VIEW top_scores")
    await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
    assert (await handle.result()).phase == "complete"
    assert conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'users'::regclass AND attname = 'score'"
    ).fetchone() == ("bigint",)
