"""create_table: the table is created at expand (nothing uses it yet) and only green's views show it.

It is created with its final name and constraints, exactly as the plain CREATE TABLE would
(it is new and empty, so nothing needs NOT VALID or CONCURRENTLY). Rollback drops it,
with any rows green wrote into it meanwhile.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from psycopg import sql
from pydantic import Field

from liveshift.catalog import Catalog, Column, Constraint, Index, Table
from liveshift.ddl.statements import column_definition, create_table
from liveshift.ddl.steps import qualified
from liveshift.operations.base import ExpressionProbe, OpContext, OperationBase, OpPlan, replace_table
from liveshift.operations.columns import ColumnDef, declared_constraints
from liveshift.operations.constraints import check_name, fk_name, unique_name

# serial types exist only in CREATE TABLE; probes compile against the integer type underneath
_SERIAL = {"smallserial": "smallint", "serial2": "smallint", "serial": "integer", "serial4": "integer"}
_SERIAL |= {"bigserial": "bigint", "serial8": "bigint"}


def probe_type(type_name: str) -> str:
    return _SERIAL.get(type_name.strip().lower(), type_name)


def has_unique_key(table: Table, columns: list[str]) -> bool:
    """Whether a primary key or a plain unique index covers exactly `columns` (what a foreign key needs)."""
    if sorted(table.primary_key) == sorted(columns):
        return True
    return any(
        i.unique and i.valid and i.predicate is None and sorted(c or "" for c in i.columns) == sorted(columns)
        for i in table.indexes
    )


def relation_names(catalog: Catalog) -> set[str]:
    """Names taken in the schema's relation namespace: tables (logical and physical), indexes, sequences."""
    names = set(catalog.tables) | {t.physical for t in catalog.tables.values()}
    return names | catalog.all_index_names() | set(catalog.sequences)


def stored_shape(ctx: OpContext, table: Table) -> tuple[Column, ...]:
    """What SQL running on the table itself (not a view) sees: the columns stored before this migration,
    under their names before it (columns added by this migration are hidden until contract)."""
    before = ctx.physical.tables.get(table.physical)
    stored = {c.name for c in before.columns} if before else {c.name for c in table.columns if c.stored_as is None}
    return tuple(Column(name=c.physical, type=probe_type(c.type)) for c in table.columns if c.physical in stored)


class CreateTable(OperationBase):
    op_name: ClassVar[str] = "create_table"
    op: Literal["create_table"] = "create_table"
    table: str = Field(min_length=1, max_length=63)
    columns: list[ColumnDef] = Field(min_length=1)
    primary_key: list[str] | None = Field(None, min_length=1)

    def tables(self) -> list[str]:
        return sorted({self.table, *(c.references.table for c in self.columns if c.references)})

    def _key(self) -> list[str]:
        return self.primary_key or [c.name for c in self.columns if c.primary_key]

    def check(self, catalog: Catalog) -> None:
        if self.table in catalog.tables or self.table in relation_names(catalog):
            raise self.fail("table", f"a relation named {self.table!r} already exists in schema {catalog.schema_name}")
        seen: set[str] = set()
        for i, col in enumerate(self.columns):
            if col.name in seen:
                raise self.fail(f"columns[{i}].name", f"column {col.name!r} is defined twice")
            seen.add(col.name)
            if col.primary_key and self.primary_key:
                raise self.fail(
                    f"columns[{i}].primary_key", "give the primary key either on the columns or as 'primary_key'"
                )
            if col.references:
                ref = catalog.table(col.references.table)
                if ref is None:
                    raise self.fail(f"columns[{i}].references.table", f"table {col.references.table!r} does not exist")
                if ref.column(col.references.column) is None:
                    raise self.fail(
                        f"columns[{i}].references.column",
                        f"column {col.references.column!r} does not exist in table {ref.name!r}",
                    )
                if not has_unique_key(ref, [col.references.column]):
                    raise self.fail(
                        f"columns[{i}].references.column",
                        f"column {col.references.column!r} of table {ref.name!r} has no primary key or unique "
                        "index of its own, which a foreign key needs",
                    )
        if sum(c.primary_key for c in self.columns) > 1:
            raise self.fail("primary_key", "several columns say primary_key: give 'primary_key: [a, b]' instead")
        for name in self.primary_key or []:
            if name not in seen:
                raise self.fail("primary_key", f"column {name!r} is not among the table's columns")

    def apply(self, catalog: Catalog) -> Catalog:
        key = self._key()
        columns = [
            c.as_column().model_copy(update={"nullable": c.nullable and c.name not in key}) for c in self.columns
        ]
        indexes: list[Index] = []
        constraints: list[Constraint] = []
        if key:
            pkey = f"{self.table}_pkey"
            indexes.append(Index(name=pkey, columns=list(key), unique=True, primary=True, constraint=pkey))
            constraints.append(Constraint(name=pkey, kind="primary_key", definition="", columns=list(key)))
        for col in self.columns:
            declared = declared_constraints(
                col.name,
                unique=unique_name(self.table, col.name) if col.unique else None,
                check=check_name(self.table, col.name) if col.check else None,
                foreign_key=fk_name(self.table, col.name),
                references=col.references,
            )
            indexes += declared[0]
            constraints += declared[1]
        table = Table(name=self.table, columns=columns, primary_key=key, indexes=indexes, constraints=constraints)
        return replace_table(catalog, self.table, table)

    def _column_sql(self, ctx: OpContext, col: ColumnDef) -> sql.Composable:
        references = None
        if col.references:
            ref = ctx.before.tables[col.references.table]
            ref_col = ref.column(col.references.column)
            assert ref_col is not None
            references = (qualified(ctx.schema, ref.physical), ref_col.physical, col.references.on_delete)
        return column_definition(
            col.name,
            col.type,
            not_null=not col.nullable and not col.primary_key,
            default=col.default,
            primary_key=col.primary_key,
            unique=col.unique,
            check=col.check,
            references=references,
        )

    def plan(self, ctx: OpContext) -> OpPlan:
        if self.table in relation_names(ctx.physical):
            raise self.fail(
                "table",
                f"a relation named {self.table!r} exists in schema {ctx.schema} until this migration's contract",
            )
        items = [self._column_sql(ctx, col) for col in self.columns]
        # each referenced table, by name, to the table PostgreSQL locks (its physical name)
        referenced = {
            c.references.table: ctx.before.tables[c.references.table].physical for c in self.columns if c.references
        }
        plan = OpPlan()
        # its foreign keys lock the referenced tables too
        plan.structure.append(create_table(ctx.schema, self.table, items, self.primary_key, referenced))
        # rollback drops the table structurally (it is not in the physical catalog before)
        shape = tuple(Column(name=c.name, type=probe_type(c.type)) for c in self.columns)
        for i, col in enumerate(self.columns):
            plan.types.append((f"columns[{i}].type", probe_type(col.type)))
            if col.default is not None:
                plan.expressions.append(
                    ExpressionProbe(f"columns[{i}].default", self.table, col.default, (), probe_type(col.type))
                )
            if col.check:
                plan.expressions.append(ExpressionProbe(f"columns[{i}].check", self.table, col.check, shape, "boolean"))
        return plan
