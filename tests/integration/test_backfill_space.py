"""Free-space reuse (backfill/reclaim.py) and the space estimate `liveshift plan` prints (backfill/space.py).

Sizes, not timings: the table after a backfill with a VACUUM between batches against the same change done by a plain
ALTER on a copy, and against the backfill without it; the estimate against what a real backfill measured. Also who
waits on whom (the VACUUM skips a table whose lock it cannot have, and never makes the walk wait) and that no
application write is lost meanwhile.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from liveshift import phases, preflight
from liveshift.backfill import rebuild, space
from liveshift.backfill.walk import NoPartitionHooks
from liveshift.connections import open_session
from liveshift.values import Progress, Throttle
from tests.harness.db import backfill_all, client, migration
from tests.harness.space import MIGRATION, ROWS, create, reuse
from tests.harness.zero_stall import App, Watch, running

pytestmark = pytest.mark.integration

BLUE = "public_base"


def size(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute("SELECT pg_table_size(%s::regclass) + pg_indexes_size(%s::regclass)", (table, table)).fetchone()
    assert row is not None
    return int(row[0])


def vacuums(conn: psycopg.Connection, table: str) -> int:
    """Completed VACUUMs of the table (a skipped one is not counted), as the statistics have them now."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = %s::regclass", (table,)).fetchone()
    assert row is not None
    return int(row[0])


def plain_alter_size(conn: psycopg.Connection) -> int:
    """The same table and change done by a plain ALTER: the size liveshift is measured against."""
    create(conn, "plain")
    conn.execute("ALTER TABLE plain ALTER COLUMN amount TYPE bigint")
    return size(conn, "plain")


def migrate(dsn: str, throttle: Throttle) -> None:
    """Expand, backfill with `throttle`, verify, cut over and contract."""
    name = expand(dsn)
    backfill_all(dsn, name, throttle=throttle)
    with open_session(dsn) as conn:
        phases.validate_constraints(conn, name)
        report = phases.verify(conn, name)
        assert report.ok, report.summary()
        phases.cutover(conn, name)
        phases.contract(conn, name)


@pytest.fixture
def accounts(conn: psycopg.Connection) -> psycopg.Connection:
    create(conn, "accounts")
    return conn


def test_reuse_keeps_the_table_near_the_plain_alters_size(dsn: str, accounts: psycopg.Connection) -> None:
    plain, base = plain_alter_size(accounts), vacuums(accounts, "accounts")
    migrate(dsn, reuse(0.05))
    after = size(accounts, "accounts")
    assert vacuums(accounts, "accounts") - base >= 10  # one after every 5% of the rows, the last interval excepted
    # the heap holds the new column beside the old one's bytes (dropped, not rewritten) and the row marker; the
    # primary key's index has had two entries per key (ratio measured here: about 1.3; without reuse about 2)
    assert after <= 1.45 * plain, (after, plain)


def heaps(conn: psycopg.Connection) -> tuple[int, int]:
    """The heap of the migrated table and of the plain ALTER's (indexes aside: the rebuild may have run)."""
    heap = conn.execute("SELECT pg_table_size('accounts'), pg_table_size('plain')").fetchone()
    assert heap is not None
    return int(heap[0]), int(heap[1])


def test_without_reuse_consecutive_keys_leave_every_old_version(dsn: str, accounts: psycopg.Connection) -> None:
    plain_alter_size(accounts)
    base = vacuums(accounts, "accounts")
    migrate(dsn, reuse(0, spread=1))
    assert vacuums(accounts, "accounts") == base
    heap, plain = heaps(accounts)
    assert heap >= 1.8 * plain, (heap, plain)


def test_without_vacuums_spread_runs_reuse_their_pages(dsn: str, accounts: psycopg.Connection) -> None:
    """Key runs spread over a window revisit each page after the batch that left dead versions there committed:
    PostgreSQL prunes the page on the way (no VACUUM) and the next run's new versions fit in it."""
    plain_alter_size(accounts)
    base = vacuums(accounts, "accounts")
    migrate(dsn, reuse(0))
    assert vacuums(accounts, "accounts") == base
    heap, plain = heaps(accounts)
    assert heap <= 1.5 * plain, (heap, plain)


def test_the_vacuum_skips_a_locked_table_and_the_walk_does_not_wait(dsn: str, accounts: psycopg.Connection) -> None:
    """Another holder of a lock VACUUM conflicts with (an index build, DDL, autovacuum): the walk goes on without
    the VACUUM (SKIP_LOCKED), and nobody waits on the backfill's session."""
    m = expand(dsn)
    base = vacuums(accounts, "accounts")
    with psycopg.connect(dsn) as holder:
        holder.execute("LOCK TABLE accounts IN SHARE UPDATE EXCLUSIVE MODE")
        backfill_all(dsn, m, throttle=reuse(0.05))
        waiting = holder.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
        assert waiting == (0,)
        holder.rollback()
    assert vacuums(accounts, "accounts") == base


class VacuumsSeen(NoPartitionHooks):
    """At each progress report (between the walk's batches, its session idle), the sessions vacuuming the table."""

    def __init__(self, dsn: str) -> None:
        self.watcher = psycopg.connect(dsn, autocommit=True)
        self.seen: list[tuple[int, list[int]]] = []  # (batches done, pids of the VACUUMs then running)

    def on_progress(self, progress: Progress) -> None:
        self.seen.append((progress.batches, self.vacuuming()))

    def vacuuming(self) -> list[int]:
        rows = self.watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query ILIKE 'VACUUM%accounts%'"
        ).fetchall()
        return [pid for (pid,) in rows]


def test_each_vacuum_runs_beside_the_batches_and_the_walk_waits_for_the_last(
    dsn: str, accounts: psycopg.Connection
) -> None:
    """The VACUUMs run in a session of their own while the walk's batches go on, one at a time, and the walk
    returns only once the last has ended. The VACUUMs are made slow (cost-based delay for every page) so that
    each spans several batches."""
    name = expand(dsn)
    database = sql.Identifier(accounts.info.dbname)
    accounts.execute(sql.SQL("ALTER DATABASE {} SET vacuum_cost_delay = '2ms'").format(database))
    accounts.execute(sql.SQL("ALTER DATABASE {} SET vacuum_cost_limit = 1").format(database))
    hooks = VacuumsSeen(dsn)
    with hooks.watcher:
        backfill_all(dsn, name, throttle=reuse(0.05), hooks=hooks)
        after = hooks.vacuuming()
    beside = [batches for batches, pids in hooks.seen if pids]
    assert len(beside) >= 5, hooks.seen  # batches committed while a VACUUM ran in another session
    assert max(len(pids) for _, pids in hooks.seen) == 1  # one at a time
    assert after == []  # none outlives the walk


# the relation locks application statements take: none conflicts with VACUUM's SHARE UPDATE EXCLUSIVE
APPLICATION_MODES = {"AccessShareLock", "RowShareLock", "RowExclusiveLock"}


def test_applications_never_wait_on_the_vacuums(dsn: str, accounts: psycopg.Connection) -> None:
    """Who waits on whom while the backfill vacuums between batches: blue reads, updates and inserts all along,
    and no application statement waits on a relation lock a liveshift session holds or requests (a row the
    running batch holds is another matter: that wait is the batch's, bounded by its size)."""
    name = expand(dsn)
    base = vacuums(accounts, "accounts")
    statements = [
        "SELECT count(*) FROM accounts WHERE id < 200",
        "UPDATE accounts SET amount = amount + 1 WHERE id = 17",
        "INSERT INTO accounts (amount, note) VALUES (1, 'app')",
        "UPDATE accounts SET note = 'app' WHERE id = 59001",
    ]
    watch = Watch(dsn)
    with running(watch, App(dsn, BLUE, statements)):
        watch.active.set()
        backfill_all(dsn, name, throttle=Throttle(reclaim_every=0.05, reclaim_min_rows=1, max_batch=2000))
        watch.pause()
    assert watch.polls > 10 and vacuums(accounts, "accounts") - base >= 10
    on_relations = [w for w in watch.waiting_on_liveshift if w[3] in APPLICATION_MODES]
    assert on_relations == []
    # and the VACUUM never queued itself (SKIP_LOCKED)
    assert all(w[3] != "ShareUpdateExclusiveLock" for w in watch.liveshift_waiting)


def expand(dsn: str) -> str:
    m = migration(MIGRATION)
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
        phases.expand(conn, m.name)
    return m.name


class BlueWriter:
    """Blue updates `amount` of random rows through its version while the backfill vacuums; remembers every
    acknowledged value."""

    def __init__(self, dsn: str) -> None:
        self.dsn, self.stop, self.acknowledged = dsn, threading.Event(), dict[int, int]()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._loop)

    def _loop(self) -> None:
        rng = random.Random(24)
        try:
            with client(self.dsn, BLUE) as app:
                while not self.stop.is_set():
                    key, value = rng.randrange(1, ROWS + 1), rng.randrange(10**6)
                    app.execute("UPDATE accounts SET amount = %s WHERE id = %s", (value, key))
                    self.acknowledged[key] = value
        except BaseException as exc:
            self.errors.append(exc)

    @contextmanager
    def running(self) -> Iterator[BlueWriter]:
        self.thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            self.thread.join()
        assert not self.errors, self.errors


@pytest.mark.parametrize("key", [True, False], ids=["key ranges", "block ranges"])
def test_no_acknowledged_write_is_lost_while_vacuuming(dsn: str, conn: psycopg.Connection, key: bool) -> None:
    """Rows move as the backfill writes their new versions into freed pages: every pending row is still found
    (by its key, or in the block range it was in: a VACUUM moves no live row) and every blue write kept."""
    create(conn, "accounts", key)
    accounts, base = conn, vacuums(conn, "accounts")
    with BlueWriter(dsn).running() as writer:
        backfill_all(dsn, expand(dsn), throttle=Throttle(reclaim_every=0.05, reclaim_min_rows=1, max_batch=500))
        time.sleep(0.1)
    assert len(writer.acknowledged) > 20 and vacuums(accounts, "accounts") - base >= 5
    with open_session(dsn) as conn:
        report = phases.verify(conn, "amount_bigint")
        assert report.ok, report.summary()
    stored = dict(accounts.execute("SELECT id, amount FROM accounts WHERE id = ANY(%s)", (list(writer.acknowledged),)))
    assert stored == writer.acknowledged


@pytest.mark.parametrize("every", [0.05, 0.0])
def test_the_plans_estimate_is_what_a_backfill_takes(dsn: str, accounts: psycopg.Connection, every: float) -> None:
    """The estimate `liveshift plan` prints, made before expand, against the growth a real migration measured."""
    with open_session(dsn) as conn:
        plan = preflight.validate(conn, migration(MIGRATION))
        (target,) = plan.backfill_targets()
        estimate = space.estimate(conn, plan.schema, target, reuse(every))
    before = size(accounts, "accounts")
    assert estimate.rows == ROWS and estimate.row_after > estimate.row_before
    migrate(dsn, reuse(every))
    grown = size(accounts, "accounts") - before
    # after contract: the heap's growth (no index doubled with the key runs spread; without VACUUMs the other
    # index did, and was rebuilt after the backfill)
    assert 0.85 <= grown / estimate.remains <= 1.18, (grown, estimate)
    assert estimate.remains == estimate.heap_extra <= estimate.peak_extra


NOTE_TO_VARCHAR = """
name: note_varchar
operations:
  - {op: alter_column, table: noted, column: note, type: "varchar(64)", up: "note::varchar(64)", down: "note::text"}
"""


def test_the_estimate_counts_the_index_expand_builds_on_the_new_column(dsn: str, conn: psycopg.Connection) -> None:
    """The index over the changed column is built again over the new one at expand (from all NULL, filled by the
    backfill, then rebuilt): the estimate counts it twice while it is filled and once more for its rebuild's copy."""
    create(conn, "noted", note_index=True)
    with open_session(dsn) as session:
        plan = preflight.validate(session, migration(NOTE_TO_VARCHAR))
        (target,) = plan.backfill_targets()
        sizes = rebuild.built_sizes(plan, target)
        estimate = space.estimate(session, plan.schema, target, Throttle(), sizes)
    index = conn.execute("SELECT pg_relation_size('noted_note')").fetchone()
    assert index is not None and sizes == [index[0]]
    assert (estimate.index_extra, estimate.rebuild_copy) == (2 * index[0], index[0])


ID_TO_BIGINT = """
name: id_to_bigint
operations:
  - {op: alter_column, table: keyed, column: id, type: bigint, up: "id::bigint", down: "id::integer"}
"""


@pytest.mark.parametrize("after_backfill", [False, True], ids=["at-expand", "after-backfill"])
def test_the_estimate_counts_the_new_key_index_where_it_is_built(
    dsn: str, conn: psycopg.Connection, after_backfill: bool
) -> None:
    """The primary key's type change: the new key's unique index (`_ls_pk_keyed_pkey`) stands for the old key's.
    Built at expand, it is counted twice while the backfill fills it, plus its rebuild's copy; with `indexes:
    after_backfill`, built once after the backfill (column_swap.py), it is counted once, with no copy."""
    create(conn, "keyed")
    conn.execute("ALTER TABLE keyed ALTER COLUMN id TYPE integer")
    spec = ID_TO_BIGINT.replace('down: "id::integer"', 'down: "id::integer", indexes: after_backfill')
    with open_session(dsn) as session:
        plan = preflight.validate(session, migration(spec if after_backfill else ID_TO_BIGINT))
        (target,) = plan.backfill_targets()
        rebuilt, built_after = rebuild.built_sizes(plan, target), rebuild.built_sizes(plan, target, "validate")
        estimate = space.estimate(session, plan.schema, target, Throttle(), rebuilt, built_after)
    row = conn.execute("SELECT pg_relation_size('keyed_pkey')").fetchone()
    assert row is not None
    key = row[0]
    if after_backfill:
        assert (rebuilt, built_after) == ([], [key])
        assert (estimate.index_extra, estimate.rebuild_copy) == (key, 0)
    else:
        assert (rebuilt, built_after) == ([key], [])
        assert (estimate.index_extra, estimate.rebuild_copy) == (2 * key, key)


CHAINED = """
name: chained
operations:
  - {op: add_column, table: accounts, column: {name: note_lower, type: text}, up: lower(note)}
  - {op: add_column, table: accounts, column: {name: tag, type: text}, up: "note_lower || '#'"}
"""


def test_an_up_the_sample_cannot_compute_is_estimated_by_the_new_types(dsn: str, accounts: psycopg.Connection) -> None:
    """An `up` reading what an earlier operation adds cannot be evaluated before expand: `liveshift plan` does not
    fail, and counts each new column by its type (text: GUESS_VARLENA bytes) and the marker."""
    with open_session(dsn) as conn:
        plan = preflight.validate(conn, migration(CHAINED))
        (target,) = plan.backfill_targets()
        estimate = space.estimate(conn, plan.schema, target, Throttle())
    assert estimate.row_after == estimate.row_before + 2 * space.GUESS_VARLENA + space.MARKER_BYTES
