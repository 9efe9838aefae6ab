"""A worker process killed with SIGKILL mid-backfill of a partitioned table: each leaf partition keeps its own
checkpoints, the new worker resumes each where it stopped, and no row is backfilled twice or missed."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift.versions.triggers import BACKFILL_DIRECT, BACKFILL_TOUCH
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import APPROVE, ApproveRequest
from tests.harness.crash import kill_mid_backfill, slow_request, stop
from tests.harness.scenario import Table, load_tables
from tests.harness.temporal import TemporalServer, wait_for_phase, worker_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROWS = 3000
LEAVES = ("events_2024", "events_2025", "events_default")

EVENTS = Table(
    "events",
    "id bigint NOT NULL, created_at date NOT NULL, kind text NOT NULL, PRIMARY KEY (id, created_at)",
    rows=ROWS,
    values={"id": "g", "created_at": "date '2024-01-01' + (g % 3) * 366", "kind": "'Kind ' || g"},
    options="PARTITION BY RANGE (created_at)",
    then=(
        "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE events_default PARTITION OF events DEFAULT",
    ),
)

MIGRATION = """
name: events_kind_lower
operations:
  - {op: add_column, table: events, column: {name: kind_lower, type: text, nullable: false}, up: lower(kind)}
"""

# Each committed backfill write of a row, by leaf (transactional: a batch lost with its worker leaves none), and
# each backfill statement per leaf, committed or not (a sequence is not transactional).
COUNT_BACKFILL = sql.SQL(
    """
CREATE TABLE backfilled (leaf text NOT NULL, id bigint NOT NULL);
CREATE FUNCTION log_backfilled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('liveshift.version', true) IN ({touch}, {direct}) THEN
        IF TG_LEVEL = 'ROW' THEN
            INSERT INTO backfilled VALUES (TG_TABLE_NAME, NEW.id);
        ELSE
            PERFORM nextval(format('%I', 'statements_' || TG_TABLE_NAME));
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER log_backfilled AFTER UPDATE ON events FOR EACH ROW EXECUTE FUNCTION log_backfilled();
"""
).format(touch=sql.Literal(BACKFILL_TOUCH), direct=sql.Literal(BACKFILL_DIRECT))


def count_statements(conn: psycopg.Connection) -> None:
    """A statement trigger on each leaf: the backfill updates the leaves, not the partitioned table. Both triggers
    ALWAYS: the direct backfill runs with session_replication_role = replica, which fires no ordinary trigger."""
    for leaf in LEAVES:
        conn.execute(sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(f"statements_{leaf}")))
        conn.execute(
            sql.SQL("CREATE TRIGGER log_statements AFTER UPDATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}()").format(
                sql.Identifier(leaf), sql.Identifier("log_backfilled")
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER log_statements, ENABLE ALWAYS TRIGGER log_backfilled").format(
                sql.Identifier(leaf)
            )
        )


def statements(conn: psycopg.Connection) -> dict[str, int]:
    """Backfill statements run on each leaf so far (committed or not)."""
    out = {}
    for leaf in LEAVES:
        row = conn.execute(
            sql.SQL("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {}").format(
                sql.Identifier(f"statements_{leaf}")
            )
        ).fetchone()
        out[leaf] = int(row[0])  # type: ignore[index]
    return out


def checkpoints(conn: psycopg.Connection) -> dict[tuple[str, int], tuple[int, int, bool]]:
    """(leaf, partition) -> (rows done, batches, done)."""
    rows = conn.execute("SELECT table_name, partition, rows_done, batches, done FROM liveshift.checkpoints")
    return {(t, p): (r, b, d) for t, p, r, b, d in rows}


async def test_worker_killed_mid_backfill_resumes_partition_by_partition(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, tmp_path: Path
) -> None:
    load_tables(conn, (EVENTS,))
    conn.execute(COUNT_BACKFILL)
    count_statements(conn)
    task_queue = f"liveshift-crash-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    first = worker_process(temporal, task_queue, dsn, log)
    second = None
    try:
        handle = await start_migration(temporal.client, slow_request(MIGRATION), task_queue)
        await kill_mid_backfill(first, dsn, 600, ROWS)
        at_kill = checkpoints(conn)
        assert {leaf for leaf, _ in at_kill} == set(LEAVES), "a backfill target, with checkpoints, per leaf"
        stopped = {key for key, (_, _, done) in at_kill.items() if not done}
        assert stopped, "every leaf partition finished before the kill"
        ran_at_kill = statements(conn)

        second = worker_process(temporal, task_queue, dsn, log)
        status = await wait_for_phase(handle, "awaiting_contract", timeout=120)
        assert status.verify is not None and status.verify.ok
        after = checkpoints(conn)
        assert all(done for _, _, done in after.values())
        ran = statements(conn)
        for key, (rows, batches, done) in at_kill.items():
            # each checkpoint was kept: it went on from where it stopped, never back
            assert after[key][0] >= rows and after[key][1] >= batches, key
            if done:  # a finished partition is not walked again
                assert after[key][:2] == (rows, batches), key
        for leaf in LEAVES:
            # each committed batch moved its leaf's checkpoint once; at most one batch per partition was redone
            batches = sum(b for (t, _), (_, b, _) in after.items() if t == leaf)
            partitions = sum(1 for t, _ in after if t == leaf)
            assert batches <= ran[leaf] <= batches + partitions, (leaf, batches, ran[leaf])
            assert ran[leaf] >= ran_at_kill[leaf]
        # no row backfilled twice, none missed
        twice = conn.execute("SELECT count(*) FROM (SELECT id FROM backfilled GROUP BY id HAVING count(*) > 1) d")
        assert twice.fetchone() == (0,)
        assert conn.execute("SELECT count(DISTINCT id) FROM backfilled").fetchone() == (ROWS,)
        by_leaf = dict(conn.execute("SELECT leaf, count(*) FROM backfilled GROUP BY leaf").fetchall())
        assert by_leaf == {leaf: ROWS // 3 for leaf in LEAVES}

        await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
        result = await handle.result()
        assert result.phase == "complete"
        wrong = conn.execute("SELECT count(*) FROM events WHERE kind_lower IS DISTINCT FROM lower(kind)").fetchone()
        assert wrong == (0,)
    finally:
        stop(first, second)
