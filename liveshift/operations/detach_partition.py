"""detach_partition: a partition becomes a table of its own at contract, holding no long lock.

At contract, as dropping is: until then both versions read its rows through the partitioned table, and rollback
has nothing to undo. `DETACH PARTITION … CONCURRENTLY` runs outside a transaction; a pending detach (one
interrupted after its first transaction: a worker killed, a lock timeout while it waited for older queries) is
completed with `FINALIZE` on the retry. With a DEFAULT partition PostgreSQL refuses CONCURRENTLY: the plain
DETACH is catalog only, under a brief ACCESS EXCLUSIVE (partition_lifecycle.detach_steps). The detached table is a
table of the schema from then on; the versions of this migration do not show it, the next migration's do.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from liveshift.catalog import Catalog, PartitionOf, Table
from liveshift.operations.base import OpContext, OpPlan, replace_table
from liveshift.operations.partition_lifecycle import PartitionBoundOp, detach_steps


class DetachPartition(PartitionBoundOp):
    op_name: ClassVar[str] = "detach_partition"
    op: Literal["detach_partition"] = "detach_partition"

    def _partition(self, table: Table) -> PartitionOf:
        assert table.partitioning is not None
        found = next((p for p in table.partitioning.partitions if p.name == self.partition), None)
        if found is None:
            raise self.fail("partition", f"{self.partition!r} is not a partition of table {self.table!r}")
        if found.parent != table.physical:
            raise self.fail(
                "partition",
                f"{self.partition!r} is a partition of {found.parent!r}, a partition of {self.table!r} itself: "
                "detach_partition detaches a partition of the partitioned table, so far",
            )
        return found

    def check(self, catalog: Catalog) -> None:
        self._partition(self.partitioned(catalog))

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        assert table.partitioning is not None
        gone = {self.partition}
        for p in table.partitioning.partitions:  # shallowest first: a sub-level's partitions go with it
            if p.parent in gone:
                gone.add(p.name)
        partitions = [p for p in table.partitioning.partitions if p.name not in gone]
        partitioning = table.partitioning.model_copy(update={"partitions": partitions})
        return replace_table(catalog, table.name, table.model_copy(update={"partitioning": partitioning}))

    def plan(self, ctx: OpContext) -> OpPlan:
        return OpPlan(contract=detach_steps(ctx.schema, ctx.before.tables[self.table], self.partition))
