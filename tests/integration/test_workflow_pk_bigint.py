"""Issue 6 on Temporal: orders.id integer -> bigint (order_items.order_id references it) run by the real
workflow, with a blue and a green application inserting orders and items throughout, the worker process
SIGKILLed mid-backfill; and a rollback mid-backfill under the same load."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psycopg
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle

from liveshift.backfill.walk import Throttle
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    ROLLBACK,
    SA_TABLES,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    RollbackRequest,
)
from tests.harness.apps import App, view_exists
from tests.harness.db import migration, plain_alter_snapshot, rows_done, snapshot, until_rows_done
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, wait_for_phase, worker_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SETUP = """
CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL);
CREATE TABLE order_items (
    id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    qty integer NOT NULL CHECK (qty > 0)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
"""
PLAIN = "ALTER TABLE orders ALTER COLUMN id TYPE bigint; ALTER TABLE order_items ALTER COLUMN order_id TYPE bigint"
MIGRATION = """
name: orders_id_bigint
operations:
  - op: alter_column
    table: orders
    column: id
    type: bigint
    up: id::bigint
    down: id::integer
"""
ITEMS_NOTE = """
name: order_items_note
operations:
  - op: add_column
    table: order_items
    column: {name: note, type: text}
"""
BLUE, GREEN = "public_base", "public_orders_id_bigint"
ORDERS, ITEMS = 1000, 2000
# ~250 rows/s per table in batches of 50: the backfill of both tables lasts several seconds
THROTTLE = Throttle(initial_batch=50, min_batch=50, max_batch=50, max_rows_per_second=250, pause_poll_s=0.1)

Order = tuple[int, str, int]  # (order id, note, id of its one item)


def load(conn: psycopg.Connection) -> None:
    conn.execute(SETUP)
    conn.execute("INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, %s) g", (ORDERS,))
    conn.execute(
        "INSERT INTO order_items (order_id, qty) SELECT 1 + (g * 7) %% %s, 1 + g %% 5 FROM generate_series(1, %s) g",
        (ORDERS, ITEMS),
    )


def parents(conn: psycopg.Connection) -> dict[int, str]:
    """item id -> the note of the order it belongs to."""
    rows = conn.execute("SELECT i.id, o.note FROM order_items i JOIN orders o ON o.id = i.order_id").fetchall()
    return dict(rows)  # type: ignore[arg-type]


def sequence(conn: psycopg.Connection) -> tuple[str, int, int]:
    """The sequence behind orders.id: (data type, max value, last value)."""
    row = conn.execute(
        "SELECT s.data_type, s.max_value, s.last_value FROM pg_sequences s "
        "WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass = "
        "pg_get_serial_sequence('orders', 'id')::regclass"
    ).fetchone()
    assert row is not None, "orders.id owns no sequence"
    return row  # type: ignore[return-value]


def order_writer(version: str, updates: range) -> Callable[[psycopg.Connection, int], Order | None]:
    """An application on `version`: an order with one item in one transaction, and an update of an old item."""

    def write(conn: psycopg.Connection, i: int) -> Order | None:
        if version == GREEN and not view_exists(conn, f"{GREEN}.order_items"):
            return None  # green applications start once their version exists
        note = f"{version} {i}"
        with conn.transaction():
            (order_id,) = conn.execute("INSERT INTO orders (note) VALUES (%s) RETURNING id", (note,)).fetchone()  # type: ignore[misc]
            (item_id,) = conn.execute(
                "INSERT INTO order_items (order_id, qty) VALUES (%s, 1) RETURNING id", (order_id,)
            ).fetchone()  # type: ignore[misc]
            conn.execute("UPDATE order_items SET qty = qty + 1 WHERE id = %s", (updates[i * 7 % len(updates)],))
        return order_id, note, item_id

    return write


class OrderWriters:
    """Blue (before expand until its version is retired) and green (from expand on), as in test_workflow_happy."""

    def __init__(self, dsn: str) -> None:
        self.blue: App[Order] = App(dsn, BLUE, order_writer(BLUE, range(1, ITEMS // 2 + 1)))
        self.green: App[Order] = App(dsn, GREEN, order_writer(GREEN, range(ITEMS // 2 + 1, ITEMS + 1)))

    def __enter__(self) -> OrderWriters:
        self.blue.start()
        self.green.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.blue.halt()
        self.green.halt()

    @property
    def errors(self) -> list[str]:
        return self.blue.errors + self.green.errors

    @property
    def written(self) -> list[Order]:
        return self.blue.written + self.green.written


def assert_every_write_kept(conn: psycopg.Connection, writers: OrderWriters, seeded: dict[int, str]) -> None:
    orders = dict(conn.execute("SELECT id, note FROM orders").fetchall())
    items = dict(conn.execute("SELECT id, order_id FROM order_items").fetchall())
    for order_id, note, item_id in writers.written:
        assert orders.get(order_id) == note, f"order {order_id} ({note}) lost or changed"
        assert items.get(item_id) == order_id, f"item {item_id} of order {order_id} lost or moved"
    assert len(orders) == ORDERS + len(writers.written)
    assert len(items) == ITEMS + len(writers.written)
    assert {k: v for k, v in parents(conn).items() if k in seeded} == seeded, "an old item changed its parent"
    orphans = conn.execute(
        "SELECT count(*) FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = i.order_id)"
    ).fetchone()
    assert orphans == (0,)


@contextlib.asynccontextmanager
async def terminated_if_left_running(handle: WorkflowHandle) -> AsyncIterator[None]:
    """A failing test must not leave its workflow running: the next one of these tables would be refused."""
    try:
        yield
    finally:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("test ended")


async def test_bigint_key_with_worker_killed_mid_backfill(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, tmp_path: Path
) -> None:
    load(conn)
    seeded = parents(conn)
    task_queue = f"liveshift-pk-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    workers = [worker_process(temporal, task_queue, dsn, log)]
    request = MigrationInput(
        target="test",
        migration=migration(MIGRATION),
        options=MigrationOptions(auto_cutover=True, progress_interval_s=0.5, throttle=THROTTLE),
    )
    try:
        with OrderWriters(dsn) as writers:  # from before expand to after contract
            handle = await start_migration(temporal.client, request, task_queue)
            async with terminated_if_left_running(handle):
                await until_rows_done(dsn, 500)
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait(timeout=10)
                killed_at = await asyncio.to_thread(rows_done, dsn)
                assert killed_at < ORDERS + ITEMS, "the backfill finished before the kill: slow it down"
                await asyncio.sleep(2)
                assert await asyncio.to_thread(rows_done, dsn) == killed_at, "nothing runs without a worker"
                workers.append(worker_process(temporal, task_queue, dsn, log))

                status = await wait_for_phase(handle, "awaiting_contract", timeout=120)
                await asyncio.sleep(0.3)  # blue keeps writing after cutover
                writers.blue.halt()  # blue applications have moved to green: contract drops their version
                await handle.execute_update(APPROVE, ApproveRequest(gate="contract"), result_type=str)
                result = await handle.result()
                green_at_end = len(writers.green.written)
                await asyncio.sleep(0.3)  # green keeps writing after contract
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    assert writers.errors == [], writers.errors[:3]
    assert len(writers.blue.written) > 20 and len(writers.green.written) > green_at_end > 0

    assert status.verify is not None and status.verify.ok, status.verify
    assert {t.table for t in status.verify.tables} == {"orders", "order_items"}
    # the referencing table found in the catalog is part of the migration, for operators too
    assert status.tables == ["order_items", "orders"]
    assert (await handle.describe()).typed_search_attributes.get(SA_TABLES) == ["order_items", "orders"]
    progress = {t.table: (t.rows_done, t.rows_total) for t in status.progress}
    assert progress["orders"][0] == progress["orders"][1] >= ORDERS
    assert progress["order_items"][0] == progress["order_items"][1] >= ITEMS
    assert result.phase == "complete"
    assert [t.phase for t in result.transitions].count("backfill") == 1

    # every row correct in both tables, every write kept, each item under its own order
    assert_every_write_kept(conn, writers, seeded)
    assert snapshot(conn) == plain_alter_snapshot(conn, SETUP, PLAIN)
    validated = conn.execute(
        "SELECT convalidated FROM pg_constraint WHERE conrelid = 'order_items'::regclass AND contype = 'f'"
    ).fetchall()
    assert validated == [(True,)]

    # the sequence moved with the key, widened, its value kept: the next insert without an id gets the next value
    seq_type, seq_max, last = sequence(conn)
    assert (seq_type, seq_max) == ("bigint", 2**63 - 1)
    assert last == conn.execute("SELECT max(id) FROM orders").fetchone()[0]  # type: ignore[index]
    assert conn.execute("INSERT INTO orders (note) VALUES ('next') RETURNING id").fetchone() == (last + 1,)
    # a key beyond 2^31 in orders, referenced from order_items
    conn.execute("INSERT INTO orders (id, note) VALUES (3000000000, 'big')")
    conn.execute("INSERT INTO order_items (order_id, qty) VALUES (3000000000, 1)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO order_items (order_id, qty) VALUES (3000000001, 1)")
    assert parents(conn)[max(parents(conn))] == "big"
    record_history("pk_bigint_worker_killed", (await handle.fetch_history()).to_json())


async def test_bigint_key_rollback_mid_backfill(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle
) -> None:
    load(conn)
    seeded = parents(conn)
    before, (seq_type, seq_max, _) = snapshot(conn), sequence(conn)
    request = MigrationInput(
        target=liveshift_worker.target,
        migration=migration(MIGRATION),
        options=MigrationOptions(progress_interval_s=0.5, throttle=THROTTLE),
    )
    with OrderWriters(dsn) as writers:  # blue until after the rollback; green until its version goes
        handle = await start_migration(temporal.client, request, liveshift_worker.task_queue)
        async with terminated_if_left_running(handle):
            await wait_for_phase(handle, "backfill")
            # The workflow id derives from the tables the file names (the starter cannot read the catalog):
            # a migration of order_items starts, and the database refuses it at plan: the key change reaches it.
            other = await start_migration(
                temporal.client,
                request.model_copy(update={"migration": migration(ITEMS_NOTE)}),
                liveshift_worker.task_queue,
            )
            with pytest.raises(WorkflowFailureError) as info:
                await other.result()
            assert (
                "migration 'orders_id_bigint' is still in flight on schema 'public' and changes or reads table "
                "'order_items'"
            ) in str(info.value.cause)
            await until_rows_done(dsn, 500)
            assert await asyncio.to_thread(rows_done, dsn) < ORDERS + ITEMS
            writers.green.halt()  # green applications leave before their version does
            await handle.execute_update(ROLLBACK, RollbackRequest(reason="back to integer"), result_type=str)
            during_rollback = len(writers.blue.written)
            result = await handle.result()
            await asyncio.sleep(0.3)  # blue keeps writing after the rollback
    assert writers.errors == [], writers.errors[:3]
    assert len(writers.blue.written) > during_rollback and len(writers.green.written) > 0
    assert result.phase == "rolled_back" and result.rollback_reason == "back to integer"

    # the integer key, the original constraints and indexes, the sequence: as before expand
    assert snapshot(conn) == before
    last = conn.execute("SELECT max(id) FROM orders").fetchone()[0]  # type: ignore[index]
    assert sequence(conn) == (seq_type, seq_max, last) and seq_type == "integer"
    assert_every_write_kept(conn, writers, seeded)
    assert conn.execute("INSERT INTO orders (note) VALUES ('after') RETURNING id").fetchone() == (last + 1,)
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        conn.execute("INSERT INTO orders (id, note) VALUES (3000000000, 'too big for integer')")
