"""set_replica_identity: what logical replication records of an updated or deleted row, set at contract.

ALTER TABLE … REPLICA IDENTITY is catalog only, under a brief ACCESS EXCLUSIVE. It waits for contract, where the
index it may name has its final name; rollback has nothing to undo. `index` must be unique, not partial, not
deferrable, over NOT NULL columns, as PostgreSQL requires.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog
from liveshift.ddl.statements import set_replica_identity
from liveshift.operations.base import OpContext, OperationBase, OpPlan


class SetReplicaIdentity(OperationBase):
    op_name: ClassVar[str] = "set_replica_identity"
    op: Literal["set_replica_identity"] = "set_replica_identity"
    table: str
    identity: Literal["default", "full", "nothing", "index"]
    index: str | None = Field(None, min_length=1, max_length=63)

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        if (self.identity == "index") != (self.index is not None):
            raise self.fail("index", "give 'index' with identity: index, and only then")
        if self.index is None:
            return
        index = table.index(self.index)
        if index is None:
            raise self.fail("index", f"index {self.index!r} does not exist on table {self.table!r}")
        if not index.unique or index.predicate is not None or None in index.columns:
            raise self.fail("index", f"index {self.index!r} is not unique over plain columns without a predicate")
        nullable = [c for c in index.columns if c and (col := table.column(c)) is not None and col.nullable]
        if nullable:
            raise self.fail("index", f"column {nullable[0]!r} of index {self.index!r} accepts NULL")

    def apply(self, catalog: Catalog) -> Catalog:
        return catalog  # not part of the logical shape

    def plan(self, ctx: OpContext) -> OpPlan:
        final_table, _ = ctx.final_name_of(ctx.before.tables[self.table].physical)
        step = set_replica_identity(ctx.schema, final_table, self.identity.upper(), self.index)
        return OpPlan(contract=[step])
