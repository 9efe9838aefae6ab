"""Partitions created, attached and detached (create_partition, attach_partition, detach_partition): every phase,
rollback from each, each phase twice equal to once, contract equal to the plain statement; ATTACH proven to scan
neither the new partition nor the DEFAULT one; an interrupted DETACH CONCURRENTLY finalized."""

from __future__ import annotations

import threading

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.ddl.executor import StepRunner
from liveshift.errors import SpecError
from liveshift.spec import Migration
from liveshift.values import LockPolicy
from tests.harness.db import LockEvents, migration, plain_alter_snapshot, snapshot
from tests.harness.operations.partition_lifecycle import READINGS, SCENARIOS
from tests.harness.operations.partitioned import EVENTS, LOGS, TENANTS, USERS
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    advance,
    contract,
    each_step_twice_equals_once,
    every_phase,
    expand,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_phase(dsn: str, conn: psycopg.Connection, name: str) -> None:
    every_phase(dsn, conn, SCENARIOS[name])


@pytest.mark.parametrize("phase", PHASES_BEFORE_CONTRACT)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, name: str, phase: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[name], phase)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_phase_twice_equals_once(dsn: str, conn: psycopg.Connection, name: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[name])


def _expand_hearing(dsn: str, m: Migration) -> list[str]:
    """Prepare and expand, keeping what PostgreSQL says at DEBUG1 (where ATTACH says it skipped a scan)."""
    heard: list[str] = []
    with open_session(dsn) as c:
        phases.prepare(c, m)
        c.add_notice_handler(lambda d: heard.append(d.message_primary or ""))
        c.execute("SET client_min_messages = debug1")
        phases.expand(c, m.name)
    return heard


@pytest.mark.parametrize("name", ["attach_with_default", "create_with_default"])
def test_attach_scans_neither_the_partition_nor_the_default_partition(
    dsn: str, conn: psycopg.Connection, name: str
) -> None:
    """The validated CHECKs prove the bound: ATTACH says it skipped both scans; the CHECKs are gone once attached."""
    scenario = SCENARIOS[name]
    load_tables(conn, scenario.tables)
    heard = _expand_hearing(dsn, scenario.m)
    assert 'partition constraint for table "events_2030" is implied by existing constraints' in heard, heard
    assert (
        'updated partition constraint for default partition "events_default" is implied by existing constraints'
        in heard
    ), heard
    checks = conn.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE conname LIKE '\\_ls\\_%'"
    ).fetchall()
    assert checks == []
    bound = conn.execute("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'events_2030'").fetchone()
    assert bound == ("FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')",)


def test_a_default_partition_holding_rows_of_the_new_bound_is_refused_at_plan(
    dsn: str, conn: psycopg.Connection
) -> None:
    scenario = SCENARIOS["create_with_default"]
    load_tables(conn, scenario.tables)
    conn.execute("INSERT INTO events (id, created_at, kind) VALUES (7, '2030-06-01', 'view')")  # into the DEFAULT
    before = snapshot(conn)
    with pytest.raises(SpecError) as refused:
        preflight.validate(conn, scenario.m, "m.yaml")
    assert str(refused.value) == (
        "m.yaml: operations[0] (create_partition): field 'table': 'events_default' holds rows within the bound of "
        "the new partition 'events_2030' of 'events': the migration would stop at their check; move them first"
    )
    assert snapshot(conn) == before


def test_a_table_to_attach_holding_rows_outside_its_bound_is_refused_at_plan(
    dsn: str, conn: psycopg.Connection
) -> None:
    scenario = SCENARIOS["attach"]
    load_tables(conn, scenario.tables)
    conn.execute("INSERT INTO ranged_2030 (id, created_at, kind) VALUES (7, '2031-06-01', 'view')")
    with pytest.raises(SpecError) as refused:
        preflight.validate(conn, scenario.m, "m.yaml")
    assert "field 'partition': 'ranged_2030' holds rows outside the bound of the new partition" in str(refused.value)


def test_rows_of_the_new_bound_written_into_the_default_partition_after_plan_stop_expand_naming_them(
    dsn: str, conn: psycopg.Connection
) -> None:
    """VALIDATE finds them (reads and writes continuing) where ATTACH would have under ACCESS EXCLUSIVE; rollback
    then leaves everything as it was."""
    scenario = SCENARIOS["create_with_default"]
    load_tables(conn, scenario.tables)
    before = snapshot(conn)
    with open_session(dsn) as c:
        phases.prepare(c, scenario.m)
    conn.execute("INSERT INTO events (id, created_at, kind) VALUES (7, '2030-06-01', 'view')")  # into the DEFAULT
    with pytest.raises(psycopg.errors.CheckViolation) as stopped, open_session(dsn) as c:
        phases.expand(c, scenario.m.name)
    assert '"_ls_not_events_2030" of relation "events_default" is violated' in str(stopped.value)
    conn.execute("DELETE FROM events WHERE id = 7")
    with open_session(dsn) as c:
        phases.rollback(c, scenario.m.name)
    assert snapshot(conn) == before
    assert conn.execute("SELECT to_regclass('events_2030')").fetchone() == (None,)


def test_an_interrupted_detach_is_finalized_by_contract(dsn: str, conn: psycopg.Connection) -> None:
    """DETACH … CONCURRENTLY stopped in its wait for older queries (here by a lock timeout) leaves the detach
    pending, which a second DETACH … CONCURRENTLY refuses: contract finalizes it."""
    scenario = SCENARIOS["detach"]
    load_tables(conn, scenario.tables)
    m = scenario.m
    advance(dsn, m, "cutover")
    with psycopg.connect(dsn) as reader, psycopg.connect(dsn, autocommit=True) as detacher:
        reader.execute("SELECT count(*) FROM ranged")  # an open transaction that has used the partitioned table
        detacher.execute("SET lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            detacher.execute("ALTER TABLE ranged DETACH PARTITION ranged_2024 CONCURRENTLY")
    pending = "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'ranged_2024'::regclass"
    assert conn.execute(pending).fetchone() == (True,)
    contract(dsn, m)
    assert conn.execute(pending).fetchone() is None
    assert snapshot(conn) == plain_alter_snapshot(conn, scenario.setup(conn), scenario.plain)


def test_rows_written_into_a_created_partition_are_kept_by_rollback(dsn: str, conn: psycopg.Connection) -> None:
    """Rollback detaches the partition it created and drops it only if empty: rows written into it meanwhile stay,
    in the detached table."""
    scenario = SCENARIOS["create"]
    load_tables(conn, scenario.tables)
    expand(dsn, scenario.m)
    conn.execute("INSERT INTO ranged (id, created_at, kind) VALUES (9, '2030-03-01', 'view')")
    assert conn.execute("SELECT count(*) FROM ranged_2030").fetchone() == (1,)
    with open_session(dsn) as c:
        phases.rollback(c, scenario.m.name)
    assert conn.execute("SELECT id FROM ranged_2030").fetchall() == [(9,)]
    assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'ranged_2030'::regclass").fetchone() == (0,)


REFUSED = {
    "hash partitioned": (
        "{op: create_partition, table: tenants, partition: tenants_h3, in: [1]}",
        "table 'tenants' is partitioned by hash over 1 key part(s): create_partition handles range and list "
        "partitioning by one column, so far",
    ),
    "hash partitioned, attached": (
        "{op: attach_partition, table: tenants, partition: bare_2030, in: [1]}",
        "table 'tenants' is partitioned by hash over 1 key part(s): attach_partition handles range and list "
        "partitioning by one column, so far",
    ),
    "range over two columns": (
        "{op: create_partition, table: readings, partition: readings_2, from: '2', to: '3'}",
        "table 'readings' is partitioned by range over 2 key part(s): create_partition handles range and list "
        "partitioning by one column, so far",
    ),
    "a range bound given as a list": (
        "{op: create_partition, table: events, partition: events_2030, in: ['2030-01-01']}",
        "table 'events' is partitioned by range: give 'from' and 'to'",
    ),
    "a name taken": (
        "{op: create_partition, table: events, partition: events_2025_h0, from: '2030-01-01'}",
        "a relation named 'events_2025_h0' already exists in schema public",
    ),
    "not a partition": (
        "{op: detach_partition, table: events, partition: logs_info}",
        "'logs_info' is not a partition of table 'events'",
    ),
    "a sub-level's partition": (
        "{op: detach_partition, table: events, partition: events_2025_h0}",
        "'events_2025_h0' is a partition of 'events_2025', a partition of 'events' itself",
    ),
    "an index missing": (
        "{op: attach_partition, table: events, partition: bare_2030, from: '2030-01-01', to: '2031-01-01'}",
        "table 'bare_2030' lacks an index matching events_kind_idx, events_pkey of 'events': ATTACH would build it",
    ),
    "columns that differ": (
        "{op: attach_partition, table: events, partition: users, from: '2030-01-01', to: '2031-01-01'}",
        "table 'users' must have the columns of 'events'",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_at_plan_naming_the_field(conn: psycopg.Connection, case: str) -> None:
    op, reason = REFUSED[case]
    load_tables(conn, (USERS, EVENTS, LOGS, TENANTS, READINGS))
    conn.execute("CREATE TABLE bare_2030 (LIKE events)")
    m = migration(f"name: refused\noperations:\n  - {op}\n")
    before = snapshot(conn)
    with pytest.raises(SpecError) as refused:
        preflight.validate(conn, m, "refused.yaml")
    assert snapshot(conn) == before
    assert str(refused.value).startswith("refused.yaml: operations[0]"), str(refused.value)
    assert reason in str(refused.value)


def test_a_partition_operation_with_another_change_of_its_table_is_refused(conn: psycopg.Connection) -> None:
    load_tables(conn, (EVENTS,))
    m = migration(
        "name: mixed\noperations:\n  - {op: add_column, table: events, column: {name: x, type: int}}\n"
        "  - {op: create_partition, table: events, partition: events_2030, from: '2030-01-01', to: '2031-01-01'}\n"
    )
    with pytest.raises(SpecError) as refused:
        preflight.validate(conn, m, "mixed.yaml")
    assert "operation 0 (add_column) changes table 'events' too" in str(refused.value)
    assert "operations[1]" in str(refused.value)


def test_a_detach_whose_wait_times_out_is_retried_and_finalized(dsn: str, conn: psycopg.Connection) -> None:
    """A query open on the partitioned table longer than the concurrent lock_timeout: DETACH … CONCURRENTLY times out
    in its wait, leaving the detach pending; the executor retries, skips the detach (pending) and FINALIZE completes
    it once the query ends. Nothing but that query waited."""
    scenario = SCENARIOS["detach"]
    load_tables(conn, scenario.tables)
    m = scenario.m
    advance(dsn, m, "cutover")
    events = LockEvents()
    policy = LockPolicy(concurrent_lock_timeout_ms=200, backoff_initial_s=0.05, backoff_max_s=0.2)
    with psycopg.connect(dsn) as reader:
        reader.execute("SELECT count(*) FROM ranged")  # an open transaction that has used the partitioned table
        timer = threading.Timer(1.5, reader.commit)
        timer.start()
        try:
            with open_session(dsn) as c:
                phases.contract(c, m.name, runner=StepRunner(policy, events))
        finally:
            timer.join()
    assert events.retries, "the detach's wait timed out at least once"
    assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'ranged_2024'::regclass").fetchone() == (0,)
    assert snapshot(conn) == plain_alter_snapshot(conn, scenario.setup(conn), scenario.plain)
