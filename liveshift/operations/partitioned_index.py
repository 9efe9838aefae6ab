"""An index on a partitioned table, built without a long lock on any partition.

PostgreSQL cannot build an index on a partitioned table CONCURRENTLY, and a plain CREATE INDEX holds SHARE on
every partition for the whole build. So, as PostgreSQL's documentation describes: each leaf partition's index is
built CONCURRENTLY (reads and writes continue), the partitioned table's index (and each sub-level's) is created
ON ONLY (catalog only: a brief SHARE lock), and the partitions' indexes are attached to it, deepest level first
(catalog only, no scan). The last attach makes the partitioned index valid. Dropping it cannot be concurrent:
DROP INDEX takes ACCESS EXCLUSIVE on the table and its partitions, for a catalog change only.
"""

from __future__ import annotations

from liveshift.catalog import Partitioning, Table
from liveshift.ddl.statements import (
    IndexOptions,
    attach_partition_index,
    create_index_concurrently,
    create_index_on_only,
    drop_index_concurrently,
    drop_partitioned_index,
    partition_index_name,
)
from liveshift.ddl.steps import Step


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
