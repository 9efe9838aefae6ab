"""attach_partition: an existing table becomes a partition of a partitioned table, at expand, holding no long lock.

Its bound is proven by a CHECK built NOT VALID and validated (reads and writes continue), and, with a DEFAULT
partition, the DEFAULT partition's exclusion of the bound likewise, so ATTACH PARTITION scans nothing
(partition_lifecycle.py). Both versions see its rows through the partitioned table from then on; blue's view of
the table itself keeps working until contract drops blue. Rollback detaches it again, with every row written
into it meanwhile.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from liveshift.catalog import Catalog, Index, Table
from liveshift.operations.base import OpContext, OpPlan, replace_table
from liveshift.operations.partition_lifecycle import NewPartitionOp


class AttachPartition(NewPartitionOp):
    op_name: ClassVar[str] = "attach_partition"
    op: Literal["attach_partition"] = "attach_partition"

    def tables(self) -> list[str]:
        return [self.table, self.partition]

    def _attached(self, catalog: Catalog) -> Table:
        table = catalog.table(self.partition)
        if table is None:
            parent = catalog.partitioned_table_of(self.partition)
            where = f"is already a partition of {parent!r}" if parent else "does not exist"
            raise self.fail("partition", f"table {catalog.schema_name}.{self.partition!r} {where}")
        if table.partitioning is not None:
            raise self.fail("partition", f"table {self.partition!r} is itself partitioned: attach_partition "
                            "attaches a plain table, so far")  # fmt: skip
        return table

    def check(self, catalog: Catalog) -> None:
        table = self.partitioned(catalog)
        self.check_bound(table)
        attached = self._attached(catalog)
        want = {(c.name, c.type, c.nullable) for c in table.columns}
        have = {(c.name, c.type, c.nullable) for c in attached.columns}
        if want != have:
            differ = sorted({n for n, _, _ in want ^ have})
            raise self.fail(
                "partition",
                f"table {self.partition!r} must have the columns of {self.table!r}, of the same types and NOT NULL, "
                f"and no others, as PostgreSQL requires of a partition (they differ in: {', '.join(differ)})",
            )
        missing = sorted(
            {c.name for c in table.constraints if c.kind == "check"} - {c.name for c in attached.constraints}
        )
        if missing:
            raise self.fail(
                "partition",
                f"table {self.partition!r} must have the CHECK constraints of {self.table!r}, as PostgreSQL requires "
                f"of a partition (missing: {', '.join(missing)})",
            )

        self._check_indexes(table, attached)

    def _check_indexes(self, table: Table, attached: Table) -> None:
        """ATTACH builds each index of the partitioned table the table lacks, under its locks (ACCESS EXCLUSIVE on
        the DEFAULT partition among them): so each must be there, built CONCURRENTLY beforehand."""

        def shape(i: Index) -> tuple[object, ...]:
            return (tuple(i.columns), i.unique, i.method, i.predicate, i.constraint is not None)

        have = {shape(i) for i in attached.indexes if i.valid}
        missing = sorted(i.name for i in table.indexes if shape(i) not in have)
        if missing:
            raise self.fail(
                "partition",
                f"table {self.partition!r} lacks an index matching {', '.join(missing)} of {self.table!r}: ATTACH "
                "would build it under its locks; build it first (create_index, in a migration of its own; a key as "
                "a constraint of the same kind)",
            )

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        return self.with_partition(replace_table(catalog, self.partition, None), table)

    def plan(self, ctx: OpContext) -> OpPlan:
        checks = [c.name for c in ctx.before.tables[self.partition].constraints if c.kind == "check"]
        expand, rollback = self.attach_steps(ctx.schema, ctx.before.tables[self.table], checks)
        return OpPlan(expand=expand, rollback=rollback)
