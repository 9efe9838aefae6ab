"""integer primary key -> bigint with a referencing foreign key, blue and green clients writing throughout."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from liveshift import phases
from liveshift.connections import open_session
from liveshift.ddl.executor import StepRunner
from liveshift.store.record import load_record
from tests.harness.db import backfill_all, client, complete, migration, plain_alter_snapshot, snapshot

pytestmark = pytest.mark.integration

SERIAL = """
CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL);
CREATE TABLE order_items (
    id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    qty integer NOT NULL CHECK (qty > 0)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
"""
IDENTITY = SERIAL.replace("id serial PRIMARY KEY, note", "id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note")
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
# the indexes over the new key columns built in the validate phase, after the backfill (not at expand)
AFTER_BACKFILL = MIGRATION + "    indexes: after_backfill\n"
BLUE, GREEN = "public_base", "public_orders_id_bigint"
ORDERS = 500


def _load(conn: psycopg.Connection, setup: str) -> None:
    conn.execute(setup)
    conn.execute(f"INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, {ORDERS}) g")
    conn.execute(
        "INSERT INTO order_items (order_id, qty) SELECT 1 + (g * 7) %% %s, 1 + g %% 5 FROM generate_series(1, %s) g",
        (ORDERS, ORDERS * 2),
    )


def _parents(conn: psycopg.Connection) -> dict[int, str]:
    rows = conn.execute("SELECT i.id, o.note FROM order_items i JOIN orders o ON o.id = i.order_id").fetchall()
    return dict(rows)  # type: ignore[arg-type]


class Writer(threading.Thread):
    """An application on one version: inserts an order with an item, updates an item, until stopped."""

    def __init__(self, dsn: str, version: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.version = dsn, version
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.orders: list[tuple[int, str]] = []

    def run(self) -> None:
        with client(self.dsn, self.version) as conn:
            conn.execute("SET statement_timeout = '5s'")
            n = 0
            while not self.stop.is_set():
                n += 1
                note = f"{self.version} {n}"
                try:
                    with conn.transaction():
                        row = conn.execute("INSERT INTO orders (note) VALUES (%s) RETURNING id", (note,)).fetchone()
                        assert row is not None
                        conn.execute("INSERT INTO order_items (order_id, qty) VALUES (%s, 1)", (row[0],))
                        conn.execute("UPDATE order_items SET qty = qty + 1 WHERE id = %s", (1 + n % 50,))
                    self.orders.append((row[0], note))
                except psycopg.Error as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.01)


@contextmanager
def writing(dsn: str, version: str) -> Iterator[Writer]:
    writer = Writer(dsn, version)
    writer.start()
    try:
        yield writer
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.errors == [], writer.errors[:3]
    assert len(writer.orders) > 0


def _sequence(conn: psycopg.Connection) -> tuple[str, int, str]:
    row = conn.execute(
        "SELECT s.seqtypid::regtype::text, s.seqmax, pg_get_serial_sequence('orders', 'id') "
        "FROM pg_sequence s WHERE s.seqrelid = pg_get_serial_sequence('orders', 'id')::regclass"
    ).fetchone()
    assert row is not None
    return row  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("setup", "spec"),
    [(SERIAL, MIGRATION), (IDENTITY, MIGRATION), (IDENTITY, AFTER_BACKFILL)],
    ids=["serial", "identity", "identity-indexes-after-backfill"],
)
def test_phases(dsn: str, conn: psycopg.Connection, setup: str, spec: str) -> None:
    _load(conn, setup)
    parents = _parents(conn)
    before = snapshot(conn)
    m = migration(spec)
    with writing(dsn, BLUE) as blue:
        with open_session(dsn) as ls:
            plan = phases.prepare(ls, m)
            described = "\n".join(s.description for steps in plan.phases().values() for s in steps)
            assert "order_items" in described and "references orders.id" in described
            phases.expand(ls, m.name)
        with writing(dsn, GREEN) as green:
            backfill_all(dsn, m.name)
            with open_session(dsn) as ls:
                phases.validate_constraints(ls, m.name)
                report = phases.verify(ls, m.name)
                assert report.ok, report.summary()
                assert {t.table for t in report.tables} == {"orders", "order_items"}
                phases.cutover(ls, m.name)
            time.sleep(0.3)
            blue.stop.set()  # blue applications have moved to green before contract drops their views
            blue.join(timeout=30)
            with open_session(dsn) as ls:
                phases.contract(ls, m.name)
            time.sleep(0.3)
    # every write of both sides is there, each item still points to its own order
    for order_id, note in blue.orders + green.orders:
        assert conn.execute("SELECT note FROM orders WHERE id = %s", (order_id,)).fetchone() == (note,)
        assert conn.execute("SELECT count(*) FROM order_items WHERE order_id = %s", (order_id,)).fetchone() == (1,)
    assert {k: v for k, v in _parents(conn).items() if k in parents} == parents

    after = snapshot(conn)
    assert after == plain_alter_snapshot(conn, setup, PLAIN)
    assert after != before
    seq_type, seq_max, _ = _sequence(conn)
    assert (seq_type, seq_max) == ("bigint", 2**63 - 1)
    top = conn.execute("SELECT max(id) FROM orders").fetchone()[0]  # type: ignore[index]
    with client(dsn, GREEN) as app:
        new_id = app.execute("INSERT INTO orders (note) VALUES ('next') RETURNING id").fetchone()[0]  # type: ignore[index]
        assert top < new_id <= top + 5
        override = "OVERRIDING SYSTEM VALUE " if setup == IDENTITY else ""
        app.execute(f"INSERT INTO orders (id, note) {override}VALUES (3000000000, 'big')")
        app.execute("INSERT INTO order_items (order_id, qty) VALUES (3000000000, 1)")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            app.execute("INSERT INTO order_items (order_id, qty) VALUES (3000000001, 1)")
        app.execute("DELETE FROM orders WHERE id = 3000000000")  # ON DELETE CASCADE kept
        assert app.execute("SELECT count(*) FROM order_items WHERE order_id = 3000000000").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (BLUE,)).fetchone() == (0,)


@pytest.mark.parametrize(
    ("stop_after", "spec"),
    [(stop, MIGRATION) for stop in ("expand", "backfill", "verify", "cutover")]
    + [(stop, AFTER_BACKFILL) for stop in ("backfill", "verify")],
)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str, spec: str) -> None:
    _load(conn, SERIAL)
    before, sequence = snapshot(conn), _sequence(conn)
    m = migration(spec)
    with writing(dsn, BLUE) as blue, open_session(dsn) as ls:
        phases.prepare(ls, m)
        phases.expand(ls, m.name)
        with writing(dsn, GREEN) as green:
            if stop_after != "expand":
                backfill_all(dsn, m.name)
            if stop_after in ("verify", "cutover"):
                phases.validate_constraints(ls, m.name)
                assert phases.verify(ls, m.name).ok
            if stop_after == "cutover":
                phases.cutover(ls, m.name)
            time.sleep(0.3)
        phases.rollback(ls, m.name)
        phases.rollback(ls, m.name)  # twice equals once
        time.sleep(0.3)
    assert snapshot(conn) == before
    assert _sequence(conn) == sequence  # integer again, owned by orders.id
    for order_id, note in blue.orders + green.orders:
        assert conn.execute("SELECT note FROM orders WHERE id = %s", (order_id,)).fetchone() == (note,)
        assert conn.execute("SELECT count(*) FROM order_items WHERE order_id = %s", (order_id,)).fetchone() == (1,)
    new_id = conn.execute("INSERT INTO orders (note) VALUES ('after') RETURNING id").fetchone()[0]  # type: ignore[index]
    assert new_id > max(i for i, _ in blue.orders + green.orders)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    _load(conn, IDENTITY)
    m = migration(MIGRATION)
    with open_session(dsn) as ls:
        phases.prepare(ls, m)
        phases.expand(ls, m.name)
        once = snapshot(ls)
        phases.expand(ls, m.name)
        assert snapshot(ls) == once
        backfill_all(dsn, m.name)
        backfill_all(dsn, m.name)
        phases.validate_constraints(ls, m.name)
        validated = snapshot(ls)
        phases.validate_constraints(ls, m.name)
        assert snapshot(ls) == validated
        assert phases.verify(ls, m.name).ok
        phases.cutover(ls, m.name)
        plan = phases.plan_of(load_record(ls, m.name))
        # a contract interrupted after its first half and run again from the start
        steps = plan.contract_steps()
        StepRunner().run(ls, steps[: len(steps) // 2])
        phases.contract(ls, m.name)
        done = snapshot(ls)
        StepRunner().run(ls, steps)
        assert snapshot(ls) == done
    assert done == plain_alter_snapshot(conn, IDENTITY, PLAIN)
    next_id = conn.execute("INSERT INTO orders (note) VALUES ('x') RETURNING id").fetchone()[0]  # type: ignore[index]
    assert next_id == ORDERS + 1


def test_self_referencing_key(dsn: str, conn: psycopg.Connection) -> None:
    setup = "CREATE TABLE nodes (id serial PRIMARY KEY, parent_id integer REFERENCES nodes (id), name text)"
    conn.execute(setup)
    conn.execute("INSERT INTO nodes (name) VALUES ('root')")
    conn.execute("INSERT INTO nodes (parent_id, name) SELECT 1, 'n' || g FROM generate_series(1, 50) g")
    complete(
        dsn,
        migration("name: nodes_bigint\noperations:\n  - {op: alter_column, table: nodes, column: id, type: bigint}"),
    )
    plain = "ALTER TABLE nodes ALTER COLUMN id TYPE bigint, ALTER COLUMN parent_id TYPE bigint"
    assert snapshot(conn) == plain_alter_snapshot(conn, setup, plain)
    assert conn.execute("SELECT count(*) FROM nodes WHERE parent_id = 1").fetchone() == (50,)
    assert conn.execute("INSERT INTO nodes (parent_id) VALUES (1) RETURNING id").fetchone() == (52,)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO nodes (parent_id) VALUES (3000000000)")
