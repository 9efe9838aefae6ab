"""create_partition: the next partition of a range (or list) partitioned table, at expand, holding no long lock.

Without a DEFAULT partition, `CREATE TABLE … PARTITION OF`: the new partition is empty, so catalog only (a brief
ACCESS EXCLUSIVE on the partitioned table). With one, PostgreSQL would scan the DEFAULT partition under ACCESS
EXCLUSIVE for rows of the new bound; instead the table is created standalone (LIKE the partitioned table) and
attached as attach_partition does, the DEFAULT partition's exclusion of the bound validated first. Rollback detaches
it and drops it, unless rows were written into it meanwhile: those are kept, in the detached table.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from liveshift.catalog import Catalog
from liveshift.ddl.statements import create_partition_of, create_table_like, drop_table_if_empty
from liveshift.operations.base import OpContext, OpPlan
from liveshift.operations.create_table import relation_names
from liveshift.operations.partition_lifecycle import NewPartitionOp, default_partition, detach_steps


class CreatePartition(NewPartitionOp):
    op_name: ClassVar[str] = "create_partition"
    op: Literal["create_partition"] = "create_partition"

    def check(self, catalog: Catalog) -> None:
        table = self.partitioned(catalog)
        self.check_bound(table)
        taken = relation_names(catalog) | {
            p.name for t in catalog.tables.values() if t.partitioning for p in t.partitioning.partitions
        }
        if self.partition in taken:
            raise self.fail(
                "partition", f"a relation named {self.partition!r} already exists in schema {catalog.schema_name}"
            )

    def apply(self, catalog: Catalog) -> Catalog:
        return self.with_partition(catalog, catalog.tables[self.table])

    def plan(self, ctx: OpContext) -> OpPlan:
        table = ctx.before.tables[self.table]
        parent = table.physical
        drop = drop_table_if_empty(ctx.schema, self.partition, parent)
        if default_partition(table) is None:
            create = create_partition_of(ctx.schema, parent, self.partition, self.bound(table))
            return OpPlan(expand=[create], rollback=[*detach_steps(ctx.schema, table, self.partition), drop])
        expand, rollback = self.attach_steps(ctx.schema, table)
        return OpPlan(
            expand=[create_table_like(ctx.schema, parent, self.partition), *expand], rollback=[*rollback, drop]
        )
