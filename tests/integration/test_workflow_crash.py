"""Crash survival: a worker process killed with SIGKILL mid-backfill, PostgreSQL restarted mid-backfill."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift.backfill.walk import Throttle
from liveshift.cli.stack.postgres import free_port
from liveshift.versions.triggers import BACKFILL_DIRECT, BACKFILL_TOUCH
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import APPROVE, ApproveRequest, MigrationInput, MigrationOptions
from tests.harness.apps import ADD_COLUMN, Writers, seed
from tests.harness.crash import kill_mid_backfill, slow_request, stop
from tests.harness.db import migration, rows_done, until_rows_done
from tests.harness.postgres import PostgresServer
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, wait_for_phase, worker_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).parent.parent.parent

# Counts every backfill batch statement (either backfill path), including those whose transaction never
# commits: a sequence is not transactional, so a batch lost with its worker still counts.
COUNT_BATCHES = sql.SQL(
    """
CREATE SEQUENCE backfill_statements;
CREATE FUNCTION count_backfill_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('liveshift.version', true) IN ({touch}, {direct}) THEN
        PERFORM nextval('backfill_statements');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER count_backfill_statement AFTER UPDATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION count_backfill_statement();
-- ALWAYS: the direct backfill runs with session_replication_role = replica, which fires no ordinary trigger
ALTER TABLE users ENABLE ALWAYS TRIGGER count_backfill_statement;
"""
).format(touch=sql.Literal(BACKFILL_TOUCH), direct=sql.Literal(BACKFILL_DIRECT))


def scrape(port: int) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def seed_without_a_key(conn: psycopg.Connection, rows: int) -> int:
    """`users` as `seed` makes it but with no key at all (backfilled by block ranges); the most rows a block holds."""
    conn.execute("CREATE TABLE users (id bigserial NOT NULL, email text NOT NULL)")
    conn.execute(f"INSERT INTO users (email) SELECT 'User' || g || '@Example.com' FROM generate_series(1, {rows}) g")
    row = conn.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM users GROUP BY (ctid::text::point)[0]) AS b")
    return int(row.fetchone()[0])  # type: ignore[index]


@pytest.mark.parametrize("keyed", [True, False], ids=["primary_key", "no_key"])
async def test_worker_killed_mid_backfill(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, tmp_path: Path, keyed: bool
) -> None:
    # the most rows one batch backfills: 50 keys, or the one block 50 rows round up to
    if keyed:
        seed(conn, rows=3000)
        per_batch = 50
    else:
        per_batch = seed_without_a_key(conn, rows=3000)
    conn.execute(COUNT_BATCHES)
    task_queue = f"liveshift-crash-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    first = worker_process(temporal, task_queue, dsn, log)
    second = None
    try:
        handle = await start_migration(temporal.client, slow_request(ADD_COLUMN), task_queue)
        killed_at = await kill_mid_backfill(first, dsn, 600, 3000)
        await asyncio.sleep(2)
        assert await asyncio.to_thread(rows_done, dsn) == killed_at, "nothing runs without a worker"
        lowers = [r[0] for r in conn.execute("SELECT lower_key FROM liveshift.checkpoints ORDER BY partition")]
        assert (lowers[0] == [0]) != keyed, "key ranges start open, block ranges at block 0"

        ports = (free_port(), free_port())
        second = worker_process(temporal, task_queue, dsn, log, ports)
        with Writers(dsn) as writers:
            status = await wait_for_phase(handle, "awaiting_contract", timeout=120)
            writers.halt()
        assert writers.errors == []
        assert status.verify is not None and status.verify.ok
        # each committed batch moved its checkpoint once; a batch lost with the worker was redone
        batches, partitions = conn.execute(
            "SELECT sum(batches), count(*) FROM liveshift.checkpoints WHERE done"
        ).fetchone()  # type: ignore[misc]
        statements = conn.execute("SELECT last_value FROM backfill_statements").fetchone()[0]  # type: ignore[index]
        assert partitions == 2
        assert batches <= statements <= batches + partitions, "at most one batch per partition is redone"

        # the new worker's /metrics: liveshift's own, and the Temporal SDK's
        liveshift_metrics = await asyncio.to_thread(scrape, ports[0])
        labels = 'migration="users_email_lower",table="users"'
        rows = re.search(r"liveshift_rows_backfilled_total\{" + labels + r"\} (\S+)", liveshift_metrics)
        lost = 2 * per_batch  # a batch per partition lost with the first worker
        assert rows is not None and 0 < float(rows.group(1)) <= 3000 + len(writers.written) - killed_at + lost
        assert 'liveshift_batch_duration_seconds_count{table="users"}' in liveshift_metrics
        phase = 'liveshift_migration_phase{migration="users_email_lower",phase="awaiting_contract"} 1.0'
        assert phase in liveshift_metrics
        sdk_metrics = await asyncio.to_thread(scrape, ports[1])
        assert "temporal_activity_execution_latency" in sdk_metrics

        await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
        result = await handle.result()
        assert result.phase == "complete"
        wrong = conn.execute("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)").fetchone()
        assert wrong == (0,)
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (3000 + len(writers.written),)
        name = "add_column_worker_killed" + ("" if keyed else "_no_key")
        record_history(name, (await handle.fetch_history()).to_json())
    finally:
        stop(first, second)


async def test_postgres_restarted_mid_backfill(
    dsn: str, pg_server: PostgresServer, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        seed(c, rows=2000)
    request = MigrationInput(
        target=liveshift_worker.target,
        migration=migration(ADD_COLUMN),
        options=MigrationOptions(
            auto_cutover=True,
            soak_seconds=0,
            progress_interval_s=0.5,
            throttle=Throttle(initial_batch=50, min_batch=50, max_batch=50, max_rows_per_second=400),
        ),
    )
    handle = await start_migration(temporal.client, request, liveshift_worker.task_queue)
    await until_rows_done(dsn, 400)
    await asyncio.to_thread(pg_server.restart)
    result = await handle.result()
    assert result.phase == "complete"
    # the partition's attempt that lost its connection reported why before Temporal retried it
    assert result.last_error is not None and result.last_error.startswith("backfill users/0: "), result.last_error
    with psycopg.connect(dsn, autocommit=True) as c:
        wrong = c.execute("SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)").fetchone()
        assert wrong == (0,)
        assert c.execute("SELECT count(*) FROM users").fetchone() == (2000,)
