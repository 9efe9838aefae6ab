"""Every operation on a partitioned table (range, a hash sub-level, a DEFAULT partition) through every phase and
rolled back from each, blue and green clients writing into every partition; and what plan refuses, by name."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases, preflight
from liveshift.backfill.walk import run_partition
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.preflight.partitioned import NOT_VALID_FOREIGN_KEY_SINCE, check_partitioned
from liveshift.store.record import load_record
from liveshift.values import Throttle
from tests.harness.db import backfill_all, migration, partition_hooks, snapshot
from tests.harness.operations.partitioned import EVENTS, KIND_INDEX_AFTER, LOGS, SCENARIOS, USERS
from tests.harness.scenario import PHASES_BEFORE_CONTRACT, every_phase, load_tables, rollback_from

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_phase(dsn: str, conn: psycopg.Connection, name: str) -> None:
    every_phase(dsn, conn, SCENARIOS[name])


@pytest.mark.parametrize("phase", PHASES_BEFORE_CONTRACT)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, name: str, phase: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[name], phase)


def _refusal(conn: psycopg.Connection, op: str) -> str:
    """What plan says of a migration of one operation, on `events` and `logs` with their partitions."""
    load_tables(conn, (USERS, EVENTS, LOGS))
    m = migration(f"name: refused\noperations:\n  - {op}\n")
    before = snapshot(conn)
    with pytest.raises(SpecError) as refused:
        preflight.validate(conn, m, "refused.yaml")
    assert snapshot(conn) == before
    message = str(refused.value)
    assert message.startswith("refused.yaml: operations[0]"), message
    return message


REFUSED = {
    "unique without the partition key": (
        "{op: create_index, table: events, name: events_n_uniq, columns: [n], unique: true}",
        "table 'events' is partitioned by range (created_at): a unique index or key on it must include every column "
        "of its partition keys (at every level), as PostgreSQL requires (missing: created_at, id)",
    ),
    "a partition named": (
        "{op: add_column, table: events_2024, column: {name: x, type: int}}",
        "table 'events_2024' is a partition of partitioned table 'events': liveshift changes a partitioned table as "
        "a whole, through its partitioned table (name 'events' instead)",
    ),
    "a partition key column retyped": (
        "{op: alter_column, table: logs, column: level, type: varchar(10)}",
        "it drops or retypes column 'level', which is in a partition key of partitioned table 'logs': PostgreSQL "
        "allows neither",
    ),
    "a partition key column dropped": (
        "{op: drop_column, table: logs, column: level, down: \"'info'\"}",
        "it drops or retypes column 'level', which is in a partition key of partitioned table 'logs'",
    ),
    "a unique constraint without the partition key": (
        "{op: add_constraint, table: events, name: events_n_key, type: unique, columns: [n, id]}",
        "a unique index or key on it must include every column of its partition keys (at every level), as "
        "PostgreSQL requires (missing: created_at)",
    ),
    "a unique new column": (
        "{op: add_column, table: events, column: {name: code, type: text, unique: true}}",
        "a unique index or key on it must include every column of its partition keys (at every level), as "
        "PostgreSQL requires (missing: created_at, id)",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_at_plan_naming_the_table_and_why(conn: psycopg.Connection, case: str) -> None:
    op, reason = REFUSED[case]
    assert reason in _refusal(conn, op)


def test_a_foreign_key_left_not_valid_is_refused_before_postgresql_18(conn: psycopg.Connection) -> None:
    """A validated key is validated per partition and attached on any release (test_partitioned_keys.py); one
    left NOT VALID, rebuilt by a column swap, stays NOT VALID, which a partitioned table holds from 18 only. The
    plan of this server, read as an older one's (such a key cannot exist on an older server, but plan must
    refuse rather than wedge whatever it meets)."""
    if conn.info.server_version < NOT_VALID_FOREIGN_KEY_SINCE:
        pytest.skip("a partitioned table holds a foreign key NOT VALID from PostgreSQL 18")
    load_tables(conn, (USERS,))
    conn.execute(
        "CREATE TABLE scores (id bigint NOT NULL, n int, PRIMARY KEY (id)) PARTITION BY HASH (id); "
        "CREATE TABLE scores_h0 PARTITION OF scores FOR VALUES WITH (MODULUS 1, REMAINDER 0); "
        "ALTER TABLE scores ADD CONSTRAINT scores_n_fk FOREIGN KEY (n) REFERENCES users (id) NOT VALID"
    )
    m = migration("name: refused\noperations:\n  - {op: alter_column, table: scores, column: n, type: bigint}\n")
    plan = preflight.validate(conn, m, "refused.yaml")
    with pytest.raises(SpecError) as refused:
        check_partitioned(plan, 150010, "refused.yaml")
    message = str(refused.value)
    assert message.startswith("refused.yaml: operations[0]"), message
    assert "NOT VALID to partitioned table 'scores', which PostgreSQL supports from version 18" in message


SMALL = Throttle(initial_batch=20, min_batch=20, max_batch=20, lock_timeout_ms=60_000)


def _checkpoints(conn: psycopg.Connection, name: str) -> dict[str, tuple[int, bool]]:
    rows = conn.execute(
        "SELECT table_name, sum(rows_done)::int, bool_and(done) FROM liveshift.checkpoints WHERE migration = %s "
        "GROUP BY table_name",
        (name,),
    ).fetchall()
    return {table: (done, finished) for table, done, finished in rows}


@pytest.mark.parametrize("name", ["add_not_null", "list_keyless"])
def test_a_stopped_backfill_resumes_partition_by_partition(dsn: str, conn: psycopg.Connection, name: str) -> None:
    """Each leaf partition has its own checkpoints: a walk stopped mid-way (a worker killed between batches loses
    no more than its open batch, test_backfill.py) resumes where its partition stopped, the others untouched."""
    scenario = SCENARIOS[name]
    load_tables(conn, scenario.tables)
    m = scenario.m
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
        tables = phases.plan_backfill(c, m.name, parallelism=1)
        leaves = {t.table for t in tables}
        parent = "events" if name == "add_not_null" else "logs"
        assert leaves == {
            leaf.name for leaf in phases.plan_of(load_record(c, m.name)).physical.tables[parent].partitioning.leaves
        }  # type: ignore[union-attr]
        first = sorted(leaves)[0]
        batches = iter(range(3))
        stop = partition_hooks(should_stop=lambda: next(batches, None) is None)
        target = next(t for t in phases.plan_of(load_record(c, m.name)).backfill_targets() if t.table == first)
        progress = run_partition(
            c, migration=m.name, schema="public", target=target, partition=0, throttle=SMALL, hooks=stop
        )
        assert not progress.done and progress.rows_done > 0
        stopped = _checkpoints(c, m.name)
        # the checkpoint counts the whole key windows done (a window's turns past it are redone on resume)
        assert stopped[first][0] <= progress.rows_done and stopped[first][1] is False
        assert all(stopped[leaf] == (0, False) for leaf in leaves - {first})
        for table in tables:  # as the workflow: every partition of every leaf, the stopped one resumed
            for p in range(table.partitions):
                t = next(t for t in phases.plan_of(load_record(c, m.name)).backfill_targets() if t.table == table.table)
                run_partition(c, migration=m.name, schema="public", target=t, partition=p, throttle=SMALL)
        done = _checkpoints(c, m.name)
        assert all(finished for _, finished in done.values())
        assert done[first][0] >= progress.rows_done
        phases.validate_constraints(c, m.name)
        report = phases.verify(c, m.name)
        assert report.ok, report.summary()
        assert {t.table for t in report.tables} == leaves


def test_a_partition_attached_with_rows_during_the_migration_stops_verify_naming_it(
    dsn: str, conn: psycopg.Connection
) -> None:
    """A partition created during the migration holds only rows the trigger wrote; one attached with rows of its
    own holds rows no backfill touched: verify reads the partitions as they are then and reports those."""
    scenario = SCENARIOS["add_not_null"]
    load_tables(conn, scenario.tables)
    m = scenario.m
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    backfill_all(dsn, m.name)
    # a new partition, written through the partitioned table (the trigger fills it)
    conn.execute("CREATE TABLE events_2030 PARTITION OF events FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')")
    conn.execute("INSERT INTO events (id, created_at, kind) VALUES (9000001, '2030-05-01', 'click')")
    with open_session(dsn) as c:
        report = phases.verify(c, m.name)
    assert report.ok, report.summary()
    assert "events_2030" in {t.table for t in report.tables}
    # a table with rows of its own, attached: its rows were never backfilled
    # (with the partitioned table's constraints, liveshift's NOT NULL proof among them, as ATTACH requires)
    conn.execute("CREATE TABLE events_2031 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    conn.execute(
        "INSERT INTO events_2031 (id, created_at, kind, _ls_new_priority) VALUES (9000002, '2031-05-01', 'view', 1)"
    )
    conn.execute("ALTER TABLE events DETACH PARTITION events_default")
    conn.execute("ALTER TABLE events ATTACH PARTITION events_2031 FOR VALUES FROM ('2031-01-01') TO ('2032-01-01')")
    with open_session(dsn) as c:
        report = phases.verify(c, m.name)
    assert not report.ok
    bad = {t.table: t.mismatches for t in report.tables if t.mismatches}
    assert bad == {"events_2031": 1}
    assert "events_default" not in {t.table for t in report.tables}  # detached: no longer the table's


def test_indexes_after_backfill_build_each_leafs_index_in_the_validate_phase(conn: psycopg.Connection) -> None:
    """`indexes: after_backfill` on a partitioned table: the index over the new column, each leaf's built
    CONCURRENTLY and attached, is in the validate phase, not in expand."""
    load_tables(conn, (EVENTS,))
    plan = preflight.validate(conn, migration(KIND_INDEX_AFTER.migration), "m.yaml")
    steps = {phase: " ".join(s.description for s in plan.phases()[phase]) for phase in ("expand", "validate")}
    assert "_ls_ix_events_kind_idx" not in steps["expand"]
    assert "events_2025_h1__ls_ix_events_kind_idx" in steps["validate"]
