"""alter_primary_key: a table's primary key moves to other columns, with the foreign keys that reference it.

Expand: a unique index on the new key's columns is built CONCURRENTLY (temporary name) and their NOT
NULL is proven as add_primary_key proves it. When foreign keys reference the old key, its columns keep
a unique constraint (`<table>_<columns>_key`, its index built CONCURRENTLY too) for them to reference.
Contract, in one transaction of catalog-only changes under brief locks: the foreign keys are dropped,
the primary key moves to the new index, the old columns' unique index is attached as a constraint,
and the keys are added again NOT VALID (no scan; they hold for every write from then on); VALIDATE
follows (reads and writes go on). PostgreSQL gives a new foreign key the first unique index of its
columns, which is the old primary key's for as long as that exists: that is why the keys move only
at contract. The plain DDL: drop the keys, the primary key, add the new one, the unique constraint,
the keys. Rollback drops the indexes and checks built; nothing else was touched.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from liveshift.catalog import Catalog, Constraint, IncomingForeignKey, Index, Table
from liveshift.catalog.text import foreign_key_options
from liveshift.ddl.statements import (
    MovedForeignKey,
    create_index_concurrently,
    drop_index_concurrently,
    move_primary_key,
    validate_constraint,
)
from liveshift.ddl.steps import MAX_IDENTIFIER
from liveshift.operations.add_primary_key import prove_not_null
from liveshift.operations.base import OpContext, OperationBase, OpPlan, hidden_name, replace_table
from liveshift.operations.create_table import relation_names


class AlterPrimaryKey(OperationBase):
    op_name: ClassVar[str] = "alter_primary_key"
    op: Literal["alter_primary_key"] = "alter_primary_key"
    table: str
    columns: list[str] = Field(min_length=1, description="the new key's columns")

    def _old_key_unique(self, table: Table) -> str:
        return "_".join([table.name, *table.primary_key, "key"])

    def check(self, catalog: Catalog) -> None:
        table = self.require_table(catalog, self.table)
        if not table.primary_key:
            raise self.fail("table", f"table {self.table!r} has no primary key: use add_primary_key")
        if table.partitioning is not None:
            raise self.fail("table", "a partitioned table's primary key is not changed here")
        if any(c.stored_as for c in table.columns):
            raise self.fail(
                "table",
                f"this migration changes columns of {self.table!r} already: change its key in a migration of its own",
            )
        if len(set(self.columns)) != len(self.columns) or self.columns == table.primary_key:
            raise self.fail("columns", "give the new key's columns, each once, other than the current key's")
        for i, name in enumerate(self.columns):
            self.require_column(table, name, f"columns[{i}]")
        for fk in table.referenced_by:
            source = next((t for t in catalog.tables.values() if t.physical == fk.table), None)
            if fk.schema_name != catalog.schema_name or source is None or any(c.stored_as for c in source.columns):
                raise self.fail(
                    "table",
                    f"foreign key {fk.name!r} of {fk.schema_name}.{fk.table} references it, and that table is in "
                    "another schema or changed by this migration too: change the key in a migration of its own",
                )
        unique = self._old_key_unique(table)
        if table.referenced_by and (len(unique.encode()) > MAX_IDENTIFIER or unique in relation_names(catalog)):
            raise self.fail(
                "table",
                f"the old key's columns keep a unique constraint for the foreign keys to them, named {unique!r}: "
                "that name is taken or too long",
            )

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        pkey = next(i for i in table.indexes if i.primary)
        name = pkey.constraint or pkey.name
        indexes = [i for i in table.indexes if not i.primary]
        constraints = [c for c in table.constraints if c.kind != "primary_key"]
        indexes.append(Index(name=name, columns=list(self.columns), unique=True, primary=True, constraint=name))
        constraints.append(Constraint(name=name, kind="primary_key", definition="", columns=list(self.columns)))
        if table.referenced_by:
            unique = self._old_key_unique(table)
            indexes.append(Index(name=unique, columns=list(table.primary_key), unique=True, constraint=unique))
            constraints.append(Constraint(name=unique, kind="unique", definition="", columns=list(table.primary_key)))
        columns = [c.model_copy(update={"nullable": False}) if c.name in self.columns else c for c in table.columns]
        update = {"columns": columns, "primary_key": list(self.columns), "indexes": indexes, "constraints": constraints}
        return replace_table(catalog, self.table, table.model_copy(update=update))

    def _moved(self, ctx: OpContext, fk: IncomingForeignKey) -> MovedForeignKey:
        original = ctx.physical.tables[fk.table].constraint(fk.name)
        options = foreign_key_options(original) if original else None
        if options is None:
            raise self.fail(
                "table", f"foreign key {fk.name!r} of table {fk.table!r} cannot be rebuilt: {fk.definition}"
            )
        # contract runs after the renames of this migration: the referencing table under its final name
        return MovedForeignKey(ctx.final_name_of(fk.table)[0], fk.name, fk.columns, fk.ref_columns, options)

    def plan(self, ctx: OpContext) -> OpPlan:
        schema, table = ctx.schema, ctx.before.tables[self.table]
        pkey = next(i for i in table.indexes if i.primary)
        name = pkey.constraint or pkey.name
        index = hidden_name("pk", name)
        plan = OpPlan()
        physical = [table.column(c).physical for c in self.columns]  # type: ignore[union-attr]
        plan.expand.append(create_index_concurrently(schema, table.physical, index, physical, unique=True))
        plan.rollback.append(drop_index_concurrently(schema, index))
        unique = None
        if table.referenced_by:
            unique = self._old_key_unique(table)
            old = [table.column(c).physical for c in table.primary_key]  # type: ignore[union-attr]
            plan.expand.append(create_index_concurrently(schema, table.physical, unique, old, unique=True))
            plan.rollback.append(drop_index_concurrently(schema, unique))
        prove_not_null(ctx, plan, table, self.columns)
        moved = [self._moved(ctx, fk) for fk in table.referenced_by]
        plan.alters = sorted({fk.table for fk in table.referenced_by if fk.table != table.physical})
        final = ctx.final_name_of(table.physical)[0]
        plan.contract.append(move_primary_key(schema, final, name, index, unique, moved))
        for fk, move in zip(table.referenced_by, moved, strict=True):
            original = ctx.physical.tables[fk.table].constraint(fk.name)
            if original is not None and original.validated:
                plan.contract.append(validate_constraint(schema, move.table, fk.name))
        return plan
