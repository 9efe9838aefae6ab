"""The history of a migration is O(partitions + phases), not O(backfill duration): backfill partitions report
progress in their heartbeat details (no history event), which `liveshift status` merges in while they run.

Two migrations of the same shape run one after the other on one worker, each backfill held to the same rows/s cap
with a progress interval of 0.1 s, one over ten times the rows of the other (so ten times as long); the
longer one's history may hold at most 10 events more."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from liveshift.values import Throttle
from liveshift.workflows import client as workflow_client
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import MigrationInput, MigrationOptions, MigrationStatus
from tests.harness.db import migration
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SHORT, LONG = 400, 4000  # rows: at the cap below about 0.4 s and 4 s of backfill
CAP = Throttle(initial_batch=50, min_batch=50, max_batch=50, max_rows_per_second=1000, pause_poll_s=0.05)


def add_column(table: str) -> str:
    return f"""
name: {table}_email_lower
operations:
  - op: add_column
    table: {table}
    column: {{name: email_lower, type: text, nullable: false}}
    up: lower(email)
"""


def seed(conn: psycopg.Connection, table: str, rows: int) -> None:
    conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, email text NOT NULL)")
    conn.execute(f"INSERT INTO {table} (email) SELECT 'User' || g || '@Example.com' FROM generate_series(1, {rows}) g")


async def start(temporal: TemporalServer, worker: WorkerHandle, table: str) -> WorkflowHandle[object, MigrationStatus]:
    options = MigrationOptions(auto_cutover=True, soak_seconds=0, progress_interval_s=0.1, throttle=CAP)
    request = MigrationInput(target=worker.target, migration=migration(add_column(table)), options=options)
    return await start_migration(temporal.client, request, task_queue=worker.task_queue)


async def watch_backfill(handle: WorkflowHandle[object, MigrationStatus]) -> list[int]:
    """Rows done as `liveshift status` shows them, each read taken in backfill, until the migration ends."""
    seen = []
    while True:
        status = await workflow_client.status(handle)
        if status.phase == "backfill":
            seen.append(status.rows_done)
        if status.phase in ("complete", "failed", "rolled_back"):
            return seen
        await asyncio.sleep(0.1)


async def test_history_does_not_grow_with_the_backfills_duration(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    seed(conn, "short_users", SHORT)
    seed(conn, "long_users", LONG)
    short = await start(temporal, liveshift_worker, "short_users")
    await short.result()  # one migration in flight per schema
    long = await start(temporal, liveshift_worker, "long_users")
    seen = await watch_backfill(long)
    results = [await h.result() for h in (short, long)]
    assert [(r.phase, r.rows_done, r.rows_total) for r in results] == [
        ("complete", SHORT, SHORT),
        ("complete", LONG, LONG),
    ]

    # progress reached the status while the backfill ran, and moved: about every second, not only at the end
    moving = sorted({n for n in seen if 0 < n < LONG})
    assert len(moving) >= 2, f"rows done seen in backfill: {seen}"

    histories = [await h.fetch_history() for h in (short, long)]
    events = [len(h.events) for h in histories]
    assert events[1] <= events[0] + 10, f"history events: {SHORT} rows {events[0]}, {LONG} rows {events[1]}"
    signalled = [
        e for h in histories for e in h.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert signalled == [], "no progress signal"
    record_history("add_column_progress_in_heartbeats", histories[1].to_json())
