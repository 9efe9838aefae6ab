"""An index on a partitioned table, built without a long lock on any partition.

PostgreSQL cannot build an index on a partitioned table CONCURRENTLY, and a plain CREATE INDEX holds SHARE on
every partition for the whole build. So, as PostgreSQL's documentation describes: each leaf partition's index is
built CONCURRENTLY (reads and writes continue), the partitioned table's index (and each sub-level's) is created
ON ONLY (catalog only: a brief SHARE lock), and the partitions' indexes are attached to it, deepest level first
(catalog only, no scan). The last attach makes the partitioned index valid. Dropping it cannot be concurrent:
DROP INDEX takes ACCESS EXCLUSIVE on the table and its partitions, for a catalog change only.

A column swap rebuilds an index over the old column the same way (rebuilt_partitioned_index), from the index's
definition. A unique constraint's index cannot become the constraint afterwards (PostgreSQL has no `ADD
CONSTRAINT … USING INDEX` on a partitioned table), and a constraint's index only takes partitions' indexes that
are constraints themselves: so each leaf's index, built CONCURRENTLY, becomes its leaf's constraint (`USING INDEX`:
ACCESS EXCLUSIVE on that leaf alone, catalog only), each partitioned level gets the constraint `ON ONLY` (ACCESS
EXCLUSIVE on that level alone, catalog only; its index invalid), and the leaves' indexes are attached as above.
`ALTER TABLE parent ADD CONSTRAINT … UNIQUE` would attach the leaves' constraints too, without a build, but
under ACCESS EXCLUSIVE on the table and every partition at once (docs/operations.md#partitioned-tables).
"""

from __future__ import annotations

from psycopg import sql

from liveshift.catalog import Constraint, Index, Partitioning, Table
from liveshift.ddl.statements import (
    IndexOptions,
    add_unique_on_only,
    attach_partition_index,
    attach_unique_index,
    create_index_as,
    create_index_concurrently,
    create_index_on_only,
    create_index_on_only_as,
    drop_constraint,
    drop_index_concurrently,
    drop_partitioned_index,
    partition_index_name,
    rename_index,
)
from liveshift.ddl.steps import Step
from liveshift.operations.index_rebuild import rebuilt_index, rebuilt_unique


def partitioned_index_steps(
    schema: str,
    table: str,
    partitioning: Partitioning,
    name: str,
    columns: list[str],
    *,
    unique: bool = False,
    method: str = "btree",
    where: str | None = None,
    options: IndexOptions | None = None,
) -> tuple[list[Step], list[Step]]:
    """(expand, rollback) of index `name` on partitioned `table` over physical `columns`."""
    names = {table: (schema, name)}  # the index of each partitioned table or partition, by its table's name
    for p in partitioning.partitions:
        names[p.name] = (p.schema_name, partition_index_name(name, p.name))
    build = [
        create_index_concurrently(
            p.schema_name, p.name, names[p.name][1], columns, unique=unique, method=method, where=where, options=options
        )
        for p in partitioning.leaves
    ]
    only = [
        create_index_on_only(s, t, names[t][1], columns, unique=unique, method=method, where=where, options=options)
        for s, t in [(schema, table), *((p.schema_name, p.name) for p in partitioning.partitions if not p.leaf)]
    ]
    attach = [attach_partition_index(*names[p.parent], *names[p.name]) for p in reversed(partitioning.partitions)]
    # the partitioned index drops the attached ones with it; an attempt that stopped before attaching leaves some
    rollback = [drop_partitioned_index(schema, table, name)]
    rollback += [drop_index_concurrently(*names[p.name]) for p in partitioning.leaves]
    return build + only + attach, rollback


def _names(schema: str, table: str, partitioning: Partitioning, name: str) -> dict[str, tuple[str, str]]:
    """(schema, index) of index `name`'s part on each partitioned table and partition, by its table's name."""
    names = {table: (schema, name)}
    for p in partitioning.partitions:
        names[p.name] = (p.schema_name, partition_index_name(name, p.name))
    return names


def partitioned_unique_steps(
    schema: str, table: str, partitioning: Partitioning, name: str, columns: list[str]
) -> tuple[list[Step], list[Step]]:
    """(expand, rollback) of unique constraint `name` over physical `columns` of partitioned `table` (which
    include its partition keys: partition_key_missing): each leaf's unique index built CONCURRENTLY and made its
    constraint, each partitioned level's constraint added ON ONLY, the leaves' attached (module doc)."""
    names = _names(schema, table, partitioning, name)
    levels = [(schema, table), *((p.schema_name, p.name) for p in partitioning.partitions if not p.leaf)]
    definition = sql.SQL("UNIQUE ({})").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    expand = [
        create_index_concurrently(p.schema_name, p.name, names[p.name][1], columns, unique=True)
        for p in partitioning.leaves
    ]
    expand += [attach_unique_index(p.schema_name, p.name, names[p.name][1]) for p in partitioning.leaves]
    expand += [add_unique_on_only(s, t, names[t][1], definition) for s, t in levels]
    expand += [attach_partition_index(*names[p.parent], *names[p.name]) for p in reversed(partitioning.partitions)]
    # the partitioned table's constraint drops its attached parts with it; a stopped attempt leaves some
    rollback = [drop_constraint(s, t, names[t][1]) for s, t in levels]
    rollback += [drop_constraint(p.schema_name, p.name, names[p.name][1]) for p in partitioning.leaves]
    rollback += [drop_index_concurrently(*names[p.name]) for p in partitioning.leaves]
    return expand, rollback


def rebuilt_partitioned_index(
    schema: str, table: Table, index: Index, constraint: Constraint | None, temp: str, old: str, new: str
) -> tuple[list[Step], list[Step]]:
    """(expand, contract) of `index` of partitioned `table` (its unique `constraint`, if it is one's) built again
    over column `new` instead of `old` as `temp` at expand, per leaf CONCURRENTLY and attached; it takes the old
    names at contract, after the old column's drop removed the old ones (an index rename renames its constraint
    too). Rollback drops column `new`, and every index over it with it, as on any table."""
    partitioning = table.partitioning
    assert partitioning is not None
    names = _names(schema, table.name, partitioning, temp)
    levels = [(schema, table.name), *((p.schema_name, p.name) for p in partitioning.partitions if not p.leaf)]
    expand: list[Step] = []
    for p in partitioning.leaves:
        statement = rebuilt_index(index.definition, p.schema_name, p.name, names[p.name][1], old, new, index.tablespace)
        assert statement is not None  # column_swap.refuse_unsupported read it back
        description = f"rebuild index {index.name} on partition {p.name} over {new} concurrently"
        expand.append(create_index_as(p.schema_name, p.name, names[p.name][1], statement, description))
    if constraint is None:
        for s, t in levels:
            statement = rebuilt_index(index.definition, s, t, names[t][1], old, new, index.tablespace, on_only=True)
            assert statement is not None
            description = f"rebuild index {index.name} on only {t} (partitioned; its partitions' attached)"
            expand.append(create_index_on_only_as(s, t, names[t][1], statement, description))
    else:
        definition = rebuilt_unique(constraint.definition, old, new)
        assert definition is not None  # column_swap.refuse_unsupported read it back
        expand += [attach_unique_index(p.schema_name, p.name, names[p.name][1]) for p in partitioning.leaves]
        expand += [add_unique_on_only(s, t, names[t][1], sql.SQL(definition)) for s, t in levels]
    expand += [attach_partition_index(*names[p.parent], *names[p.name]) for p in reversed(partitioning.partitions)]
    contract = [rename_index(schema, temp, index.name)]
    contract += [
        rename_index(p.schema_name, names[p.name][1], partition_index_name(index.name, p.name))
        for p in partitioning.partitions
    ]
    return expand, contract


def partition_key_missing(table: Table, columns: list[str]) -> str | None:
    """Why a unique index (or key) over `columns` cannot be built on partitioned `table`, or None when it can:
    PostgreSQL enforces uniqueness per partition, so the columns must include every column of the partition key,
    at every level."""
    partitioning = table.partitioning
    assert partitioning is not None
    described = f"{partitioning.strategy} ({', '.join(k or '<expression>' for k in partitioning.key)})"
    if None in partitioning.key or any(None in p.key for p in partitioning.partitions):
        return (
            f"table {table.name!r} is partitioned by {described}, with an expression in a partition key: "
            "PostgreSQL allows no unique index or key on it"
        )
    missing = sorted(partitioning.key_columns() - set(columns))
    if not missing:
        return None
    return (
        f"table {table.name!r} is partitioned by {described}: a unique index or key on it must include every column "
        f"of its partition keys (at every level), as PostgreSQL requires (missing: {', '.join(missing)})"
    )
