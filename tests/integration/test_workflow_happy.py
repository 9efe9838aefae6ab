"""The migration workflow end to end on a real Temporal dev server and a real PostgreSQL, with a blue
and a green application writing throughout."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from liveshift.backfill.walk import Throttle
from liveshift.workflows.client import AlreadyRunning, start_migration
from liveshift.workflows.models import (
    APPROVE,
    SA_PHASE,
    SA_TABLES,
    SA_TARGET,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
)
from tests.harness.apps import ADD_COLUMN, GREEN, Writers, seed
from tests.harness.db import client, migration
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, wait_for_phase

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_add_column_end_to_end(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn)
    m = migration(ADD_COLUMN)
    request = MigrationInput(
        target=liveshift_worker.target,
        migration=m,
        options=MigrationOptions(
            auto_cutover=True,
            parallelism=2,
            progress_interval_s=0.5,
            throttle=Throttle(initial_batch=200, max_batch=200, max_rows_per_second=1000),
        ),
    )
    with Writers(dsn) as writers:  # from before expand to after contract
        handle = await start_migration(temporal.client, request, task_queue=liveshift_worker.task_queue)
        # a second migration of a table in flight is refused and names the running one
        other = request.model_copy(update={"migration": migration(ADD_COLUMN.replace("name: users_", "name: x_"))})
        running = "migration 'users_email_lower' of users on target 'test' is still running"
        with pytest.raises(AlreadyRunning, match=running):
            await start_migration(temporal.client, other, liveshift_worker.task_queue)
        during = await wait_for_phase(handle, "backfill", "verify", "awaiting_contract")
        status = await wait_for_phase(handle, "awaiting_contract")
        await asyncio.sleep(0.5)  # blue keeps writing after cutover too
        assert conn.execute("SELECT liveshift.version_for('public')").fetchone() == (GREEN,)
        writers.blue.halt()  # blue applications have moved to green: contract drops their version
        blue_at_contract = len(writers.blue.written)

        message = await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
        assert message == "contract approved"
        result = await handle.result()
        green_at_end = len(writers.green.written)
        await asyncio.sleep(0.5)  # green keeps writing after contract
    assert writers.errors == []
    assert blue_at_contract > 20 and len(writers.green.written) > green_at_end
    assert status.verify is not None and status.verify.ok
    assert status.waiting_for == "contract"
    assert during.tables == ["users"]
    [progress] = status.progress
    assert progress.partitions == 2 and progress.partitions_done == 2
    assert progress.rows_done >= 2000 and progress.rows_done == progress.rows_total

    assert result.phase == "complete"
    phases = [t.phase for t in result.transitions]
    assert phases == [
        "starting", "expand", "backfill", "verify", "cutover", "awaiting_contract", "contract", "complete"
    ]  # fmt: skip

    # every row correct, every write kept
    assert conn.execute("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)").fetchone() == (0,)
    kept = conn.execute("SELECT count(*) FROM users WHERE email = ANY(%s)", (writers.written,)).fetchone()
    assert kept == (len(writers.written),)
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (2000 + len(writers.written),)

    # the Temporal UI's view: search attributes and memo, no connection string anywhere in history
    described = await handle.describe()
    assert described.typed_search_attributes.get(SA_PHASE) == "complete"
    assert described.typed_search_attributes.get(SA_TABLES) == ["users"]
    assert described.typed_search_attributes.get(SA_TARGET) == liveshift_worker.target
    assert (await described.memo())["phase"] == "complete"
    history = await handle.fetch_history()
    history_json = json.dumps(history.to_json_dict())
    assert "postgresql://" not in history_json and "127.0.0.1" not in history_json
    assert len(history.events) < 200, "history must grow with phases and progress reports, not rows"
    record_history("add_column_auto_cutover", history.to_json())


RENAME_AND_INDEX = """
name: users_rename_email
operations:
  - op: rename_column
    table: users
    column: email
    to: address
  - op: create_index
    name: users_email_idx
    table: users
    columns: [address]
"""


async def test_operations_without_backfill_and_a_soak_timer(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, rows=300)
    request = MigrationInput(
        target=liveshift_worker.target,
        migration=migration(RENAME_AND_INDEX),
        options=MigrationOptions(auto_cutover=True, soak_seconds=2),
    )
    handle = await start_migration(temporal.client, request, liveshift_worker.task_queue)
    status = await wait_for_phase(handle, "awaiting_contract")
    assert status.contract_at is not None and status.progress == []
    blue, green = client(dsn, "public_base"), client(dsn, "public_users_rename_email")
    blue.execute("INSERT INTO users (email) VALUES ('blue@x.org')")
    green.execute("INSERT INTO users (address) VALUES ('green@x.org')")
    assert green.execute("SELECT count(*) FROM users WHERE address = 'blue@x.org'").fetchone() == (1,)
    result = await handle.result()  # the soak timer, no approval
    assert result.phase == "complete"
    assert [t.phase for t in result.transitions][-3:] == ["awaiting_contract", "contract", "complete"]
    assert (result.transitions[-2].at - result.transitions[-3].at).total_seconds() >= 2
    assert conn.execute("SELECT count(*) FROM users WHERE address IN ('blue@x.org', 'green@x.org')").fetchone() == (2,)
    assert conn.execute("SELECT to_regclass('users_email_idx') IS NOT NULL").fetchone() == (True,)
    blue.close()
    green.close()
