"""The rebuild of the indexes a backfill doubled (backfill/rebuild.py), in the validate_constraints phase.

Sizes, not timings: walked by consecutive keys (spread 1), the primary key doubles during the backfill and comes
back to the plain ALTER's size on a copy; with the key runs spread (the default) it does not double at all; an
index in another order, which free-space reuse keeps near its size, is left alone. A REINDEX CONCURRENTLY that
failed half-way leaves an INVALID `_ccnew` copy: the phase's retry drops it and rebuilds, and no invalid index
remains.
"""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases
from liveshift.backfill.walk import NO_PARTITION_HOOKS, NoPartitionHooks, PartitionHooks
from liveshift.connections import open_session
from liveshift.values import Throttle
from tests.harness.db import backfill_all, client, migration
from tests.harness.space import MIGRATION, ROWS, create, reuse

pytestmark = pytest.mark.integration

# free-space reuse after every 5% of the rows, batches no larger than an interval (as bench.run's defaults), by
# consecutive keys: the walk that doubles the key's index
THROTTLE = reuse(0.05, spread=1)


def index_size(conn: psycopg.Connection, index: str) -> int:
    row = conn.execute("SELECT pg_relation_size(%s::regclass)", (index,)).fetchone()
    assert row is not None
    return int(row[0])


def filenode(conn: psycopg.Connection, index: str) -> int:
    row = conn.execute("SELECT pg_relation_filenode(%s::regclass)", (index,)).fetchone()
    assert row is not None
    return int(row[0])


def invalid_indexes(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid").fetchall()
    return [r[0] for r in rows]


def backfilled(
    dsn: str, throttle: Throttle = THROTTLE, partitions: int = 1, hooks: PartitionHooks = NO_PARTITION_HOOKS
) -> str:
    """Prepared, expanded and backfilled (`partitions` walked one after the other): the phase before
    validate_constraints."""
    m = migration(MIGRATION)
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
        phases.expand(conn, m.name)
    backfill_all(dsn, m.name, partitions, throttle, hooks)
    return m.name


def test_spread_key_runs_leave_no_index_to_rebuild(dsn: str, conn: psycopg.Connection) -> None:
    create(conn, "plain", note_index=True)
    conn.execute("ALTER TABLE plain ALTER COLUMN amount TYPE bigint")
    create(conn, "accounts", note_index=True)
    name = backfilled(dsn, reuse(0.05))
    nodes = {index: filenode(conn, index) for index in ("accounts_pkey", "accounts_note")}
    for index in nodes:  # bottom-up deletion and the VACUUMs removed the old entries before any leaf split
        assert index_size(conn, index) <= 1.1 * index_size(conn, index.replace("accounts", "plain")), index
    with open_session(dsn) as session:
        phases.validate_constraints(session, name)
        assert phases.verify(session, name).ok
    assert {index: filenode(conn, index) for index in nodes} == nodes  # nothing past the threshold: not rebuilt


class OverlappingSnapshots(NoPartitionHooks):
    """Another walk's transactions, made deterministic: before each batch, a snapshot taken before the previous
    batch began (so before it committed) is still open, as a concurrent partition's batch is while this one
    commits; the snapshot older than that one is released."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.open: list[psycopg.Connection] = []

    def should_stop(self) -> bool:
        if len(self.open) == 2:
            self.open.pop(0).close()  # its transaction ends: rolled back
        session = psycopg.connect(self.dsn)  # a transaction with a snapshot (READ COMMITTED: its statement's)
        session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        session.execute("SELECT count(*) FROM pg_class")
        self.open.append(session)
        return False

    def close(self) -> None:
        for session in self.open:
            session.close()


@pytest.mark.parametrize("partitions", [1, 2])
def test_several_partitions_turn_to_other_leaves_so_an_overlapping_transaction_splits_none(
    dsn: str, conn: psycopg.Connection, partitions: int
) -> None:
    """While a transaction that began before the previous batch committed is open (another partition's batch, with
    `--parallelism`), the entries that batch replaced are not dead yet, and a leaf the next turn returns to splits.
    One walk's turns in plain order return to the same leaves, and the key's index grows; a table walked by several
    partitions interleaves leaf-sized parts of a wider spread, so consecutive turns change leaves."""
    create(conn, "plain", note_index=True)
    conn.execute("ALTER TABLE plain ALTER COLUMN amount TYPE bigint")
    create(conn, "accounts", note_index=True)
    other = OverlappingSnapshots(dsn)
    try:
        backfilled(dsn, reuse(0.05), partitions, other)
    finally:
        other.close()
    grown = index_size(conn, "accounts_pkey") / index_size(conn, "plain_pkey")
    assert (grown >= 1.3) if partitions == 1 else (grown <= 1.1), grown


def test_the_key_index_is_rebuilt_to_the_plain_alters_size(dsn: str, conn: psycopg.Connection) -> None:
    create(conn, "plain", note_index=True)
    conn.execute("ALTER TABLE plain ALTER COLUMN amount TYPE bigint")  # rebuilds every index: fresh builds
    create(conn, "accounts", note_index=True)
    name = backfilled(dsn)
    assert index_size(conn, "accounts_pkey") >= 1.8 * index_size(conn, "plain_pkey")  # the walk's order: split
    note = filenode(conn, "accounts_note")
    with open_session(dsn) as session:
        phases.validate_constraints(session, name)
        assert phases.verify(session, name).ok
    assert index_size(conn, "accounts_pkey") <= 1.05 * index_size(conn, "plain_pkey")
    # another order: reuse kept it within the threshold, so it is not rebuilt
    assert filenode(conn, "accounts_note") == note
    assert index_size(conn, "accounts_note") <= 1.2 * index_size(conn, "plain_note")
    with open_session(dsn) as session:  # a repeated phase (a retried activity) finds nothing to do
        phases.validate_constraints(session, name)
    assert invalid_indexes(conn) == []


def fail_a_rebuild(dsn: str) -> None:
    """A REINDEX CONCURRENTLY that fails after building its copy: it waits for an older snapshot, and times out."""
    with psycopg.connect(dsn) as holder:
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.execute("SELECT 1")  # its snapshot, older than the copy
        with psycopg.connect(dsn, autocommit=True) as failing:
            failing.execute("SET statement_timeout = '2s'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                failing.execute("REINDEX INDEX CONCURRENTLY accounts_pkey")
        holder.rollback()


def test_a_failed_rebuild_leaves_no_invalid_index_after_the_retry(dsn: str, conn: psycopg.Connection) -> None:
    create(conn, "accounts", note_index=True)
    name = backfilled(dsn)
    before = index_size(conn, "accounts_pkey")
    fail_a_rebuild(dsn)
    assert invalid_indexes(conn) == ["accounts_pkey_ccnew"]
    with open_session(dsn) as session:
        phases.validate_constraints(session, name)
    assert invalid_indexes(conn) == []
    assert index_size(conn, "accounts_pkey") <= 0.6 * before


def test_a_rollback_after_a_failed_rebuild_leaves_no_invalid_index(dsn: str, conn: psycopg.Connection) -> None:
    """A rollback requested while a rebuild runs cancels it: what it left is dropped with the rest."""
    create(conn, "accounts", note_index=True)
    name = backfilled(dsn)
    fail_a_rebuild(dsn)
    with open_session(dsn) as session:
        phases.rollback(session, name)
    assert invalid_indexes(conn) == []


ID_BIGINT = """
name: id_bigint
operations:
  - op: alter_column
    table: accounts
    column: id
    type: bigint
    up: id::bigint
    down: id::integer
"""


def index_sizes(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute("SELECT pg_indexes_size(%s::regclass)", (table,)).fetchone()
    assert row is not None
    return int(row[0])


def built_key_index(conn: psycopg.Connection) -> int | None:
    """The filenode of the unique index on the new key column (`_ls_pk_accounts_pkey`), if it exists."""
    row = conn.execute("SELECT pg_relation_filenode(to_regclass('_ls_pk_accounts_pkey'))").fetchone()
    return None if row is None or row[0] is None else int(row[0])


ID_BIGINT_AFTER = ID_BIGINT.replace("name: id_bigint", "name: id_after") + "    indexes: after_backfill\n"


@pytest.mark.parametrize(("spec", "built_at_expand"), [(ID_BIGINT_AFTER, False), (ID_BIGINT, True)])
def test_the_new_key_index_is_built_once_after_the_backfill_when_asked(
    dsn: str, conn: psycopg.Connection, spec: str, built_at_expand: bool
) -> None:
    """The primary key's type change. With `indexes: after_backfill` (`up` and `down` plain casts there and back, so
    the old key's index checks the new key's uniqueness meanwhile) the new key's unique index is built once, at
    validate, after the backfill: no index exists after expand. By default expand
    builds it while the new column is NULL, the backfill fills it in key order just before the NULLs (every leaf
    splits in half), and it is rebuilt. Either way, after contract the table's indexes are the plain ALTER's size."""
    for name in ("plain", "accounts"):
        create(conn, name, note_index=True)
        conn.execute(f"ALTER TABLE {name} ALTER COLUMN id TYPE integer")
    conn.execute("ALTER TABLE plain ALTER COLUMN id TYPE bigint")
    m = migration(spec)
    with open_session(dsn) as session:
        phases.prepare(session, m)
        phases.expand(session, m.name)
    after_expand = built_key_index(conn)
    assert (after_expand is not None) == built_at_expand
    backfill_all(dsn, m.name, throttle=THROTTLE)
    with open_session(dsn) as session:
        phases.validate_constraints(session, m.name)
        after_validate = built_key_index(conn)
        assert after_validate is not None and after_validate != after_expand  # rebuilt, or built only now
        assert phases.verify(session, m.name).ok
        phases.cutover(session, m.name)
        phases.contract(session, m.name)
    assert index_sizes(conn, "accounts") <= 1.1 * index_sizes(conn, "plain")
    assert invalid_indexes(conn) == []


def test_before_the_new_key_index_exists_the_old_key_rejects_greens_duplicate(
    dsn: str, conn: psycopg.Connection
) -> None:
    """Between expand and validate (the index over the new key not built yet), a green insert of a key blue
    already has is refused by the old key's index, through the dual write's `down`."""
    create(conn, "accounts", note_index=True)
    conn.execute("ALTER TABLE accounts ALTER COLUMN id TYPE integer")
    m = migration(ID_BIGINT_AFTER)
    with open_session(dsn) as session:
        phases.prepare(session, m)
        phases.expand(session, m.name)
    assert built_key_index(conn) is None
    with client(dsn, f"public_{m.name}") as green:
        with pytest.raises(psycopg.errors.UniqueViolation, match="accounts_pkey"):
            green.execute("INSERT INTO accounts (id, amount, note) VALUES (1, 1, 'again')")
        green.execute("INSERT INTO accounts (id, amount, note) VALUES (%s, 1, 'new')", (ROWS + 1,))
    row = conn.execute("SELECT count(*) FROM accounts WHERE id = %s", (ROWS + 1,)).fetchone()
    assert row is not None and row[0] == 1


PARTITIONED = (
    "CREATE TABLE {name} (id bigint NOT NULL, amount integer NOT NULL, note text NOT NULL, PRIMARY KEY (id)) "
    "PARTITION BY HASH (id);"
    "CREATE TABLE {name}_p0 PARTITION OF {name} FOR VALUES WITH (MODULUS 2, REMAINDER 0);"
    "CREATE TABLE {name}_p1 PARTITION OF {name} FOR VALUES WITH (MODULUS 2, REMAINDER 1);"
    "INSERT INTO {name} SELECT g, g % 1000, md5(g::text) FROM generate_series(1, {rows}) g;"
    "VACUUM ANALYZE {name}"
)


def test_a_partitioned_tables_index_is_rebuilt_leaf_by_leaf(dsn: str, conn: psycopg.Connection) -> None:
    for name in ("plain", "accounts"):
        for statement in PARTITIONED.format(name=name, rows=ROWS).split(";"):
            conn.execute(statement)
    conn.execute("ALTER TABLE plain ALTER COLUMN amount TYPE bigint")
    name = backfilled(dsn)
    with open_session(dsn) as session:
        phases.validate_constraints(session, name)
    for leaf in ("p0", "p1"):
        assert index_size(conn, f"accounts_{leaf}_pkey") <= 1.05 * index_size(conn, f"plain_{leaf}_pkey"), leaf
    assert invalid_indexes(conn) == []
