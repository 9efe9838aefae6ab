"""After the backfill: rebuild the indexes it left at twice their size (REINDEX INDEX CONCURRENTLY).

Every backfilled row is a non-HOT update, so each index the table had gets a second entry per row. Free-space
reuse (reclaim.py) keeps an index whose order is not the walk's near its size: its leaves get a few entries per
batch, and the VACUUMs beside the batches remove the dead ones. The index the walk follows (the key's) keeps its
size too while the batches' key runs are spread over it (keyset.py); walked by consecutive keys (`spread` 1), it
and any index in the same order get all of a batch's new entries on the same leaves while the old versions are
still the batch's own, not dead, so PostgreSQL's bottom-up deletion cannot make room and the leaves split: they
end at about 2x (measured in docs/benchmark.md). An index expand built on a new column fills from all NULL as the
backfill goes, and grows likewise. A rebuild brings such an index back to a fresh build's size; an index that
stayed within the threshold is left alone.

Which: each btree index the catalog snapshot (read before expand) lists on a backfilled table, valid then, on
columns contract keeps (an index on a changed column's old one goes with it), whose
size now exceeds `REBUILD_THRESHOLD` times its size then (a leaf partition's index: the partitioned index's leaves
together, against its size then; each leaf is rebuilt, the partitioned index itself has no storage). Snapshots
older than the size field record 0: no rebuild (what was in flight keeps its behaviour). Also each index expand
built on a backfilled table (`_built_in`).

Each rebuild is an executor step (`statements.reindex_concurrently`): the lock policy's lock_timeout and retries,
the `_ccnew` copy a failed attempt leaves dropped before the retry, and a preceding step that drops an invalid
`_ccold` (a failure after the swap); its guard compares sizes again, so a repeated phase skips what it rebuilt.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from liveshift.catalog import Index, Table
from liveshift.ddl.statements import concurrent_copy_name, drop_invalid_index, reindex_concurrently
from liveshift.ddl.steps import Step, qualified
from liveshift.operations.base import hidden_name
from liveshift.plan import BackfillTarget, MigrationPlan

# rebuild an index once it is this much larger than before expand (the plain ALTER leaves it about at 1x)
REBUILD_THRESHOLD = 1.2

# the index's name, the last part of its quoted qualified name ("schema"."name")
_LAST_IDENTIFIER = re.compile(r'"((?:[^"]|"")*)"$')

_LEAF_INDEX = """
SELECT c.relname FROM pg_partition_tree(to_regclass(%s)) t
JOIN pg_index x ON x.indexrelid = t.relid JOIN pg_class c ON c.oid = t.relid
WHERE t.isleaf AND x.indrelid = to_regclass(%s)
"""


def rebuildable(index: Index) -> bool:
    """A valid btree index with a size recorded (REINDEX CONCURRENTLY cannot rebuild an exclusion constraint's)."""
    return index.valid and index.method == "btree" and index.bytes > 0


def rebuild_steps(conn: psycopg.Connection, plan: MigrationPlan) -> list[Step]:
    """The rebuild steps of every backfilled table, in the order of its backfill targets."""
    steps: list[Step] = []
    built = _built_in(plan, "expand")
    for target in plan.backfill_targets():
        table = plan.physical.tables[target.parent or target.table]
        kept = _kept_columns(plan, table.name)
        steps += _target_steps(conn, plan.schema, target, table, kept)
        for name in built.get(target.table, []):
            steps.append(drop_invalid_index(plan.schema, concurrent_copy_name(name, "ccold")))
            steps.append(reindex_concurrently(plan.schema, target.table, name, None))
    return steps


def built_sizes(plan: MigrationPlan, target: BackfillTarget, phase: str = "expand") -> list[int]:
    """Bytes before expand of each index that `phase` builds again over the target table's new columns (the
    snapshot's index it stands for: `_ls_ix_<name>`, or the primary key's `_ls_pk_<constraint>`). Built at expand,
    the backfill fills it and it is rebuilt; built at validate (`column_swap.Swap.index_steps`), once, after the
    backfill: what `liveshift plan` counts for each. An index added that had no counterpart counts as nothing."""
    built = set(_built_in(plan, phase).get(target.table, []))
    table = plan.physical.tables.get(target.table)
    if table is None:
        return []
    names = {i.name: {hidden_name("ix", i.name), hidden_name("pk", i.constraint or "")} for i in table.indexes}
    return [i.bytes for i in table.indexes if built & names[i.name]]


def leftover_steps(conn: psycopg.Connection, plan: MigrationPlan) -> list[Step]:
    """For rollback: drop the INVALID copies (`_ccnew`) and old indexes (`_ccold`) a rebuild cancelled or failed
    half-way may have left; each a no-op unless such an index exists and is invalid."""
    steps = []
    for step in rebuild_steps(conn, plan):
        if step.index_to_clean is not None:  # a rebuild: its copy's name; the `_ccold` step is in the list already
            steps.append(drop_invalid_index(plan.schema, _name_of(step.index_to_clean)))
        else:
            steps.append(step)
    return steps


def _name_of(identifier: sql.Composable) -> str:
    """The last part of a qualified identifier ("schema"."name")."""
    found = _LAST_IDENTIFIER.search(identifier.as_string(None))
    assert found is not None, identifier
    return found.group(1).replace('""', '"')


def _built_in(plan: MigrationPlan, phase: str) -> dict[str, list[str]]:
    """The indexes `phase` builds CONCURRENTLY, by table (a leaf partition's own). Those expand builds are built
    over the new columns while they are NULL, then filled by the backfill in the walk's order just before the
    NULLs, which splits every leaf in half, so each ends at about twice a fresh build. No size of theirs before
    the backfill means anything, so they are rebuilt whatever their size (a repeated phase rebuilds them again:
    correct, only slower)."""
    built: dict[str, list[str]] = {}
    for step in plan.phases()[phase]:
        for part in step.parts or (step,):
            index = part.index_to_clean
            if index is None or part.lock is None or not part.lock.tables:
                continue
            built.setdefault(part.lock.tables[0][1], []).append(_name_of(index))
    return built


def _kept_columns(plan: MigrationPlan, physical: str) -> set[str]:
    """The table's physical columns that contract keeps (a changed column's old one is dropped, with its indexes)."""
    final = plan.logical_table_of(physical)
    return {c.physical for c in final.columns} if final is not None else set()


def _target_steps(
    conn: psycopg.Connection, schema: str, target: BackfillTarget, table: Table, kept: set[str]
) -> list[Step]:
    steps = []
    for index in filter(rebuildable, table.indexes):
        if any(column is not None and column not in kept for column in index.columns):
            continue  # contract drops it with its column: not worth rebuilding
        name = index.name if target.parent is None else _leaf_index(conn, schema, index.name, target.table)
        if name is None:  # the leaf has no part of it (attached since without one? then it is not ours)
            continue
        limit = int(index.bytes * REBUILD_THRESHOLD)
        steps.append(drop_invalid_index(schema, concurrent_copy_name(name, "ccold")))
        steps.append(reindex_concurrently(schema, target.table, name, (index.name, limit)))
    return steps


def _leaf_index(conn: psycopg.Connection, schema: str, index: str, leaf: str) -> str | None:
    """The name of partitioned index `index`'s part on leaf partition `leaf`."""
    row = conn.execute(
        _LEAF_INDEX, (qualified(schema, index).as_string(None), qualified(schema, leaf).as_string(None))
    ).fetchone()
    return str(row[0]) if row else None
