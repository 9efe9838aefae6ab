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
from liveshift.ddl.statements import column_definition, create_table, generated_clause, identity_clause
from liveshift.ddl.steps import Step, qualified
from liveshift.operations.base import ExpressionProbe, OpContext, OperationBase, OpPlan, replace_table
from liveshift.operations.columns import ColumnDef, UniqueDef, check_column_options, declared_constraints
from liveshift.operations.comment import comment_step
from liveshift.operations.constraints import check_name, fk_name, unique_name
from liveshift.operations.table_constraints import TableConstraint

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
    # pgroll's and SQL's `CONSTRAINT name PRIMARY KEY (…)`; PostgreSQL's default is <table>_pkey
    primary_key_name: str | None = Field(None, min_length=1, max_length=63)
    constraints: list[TableConstraint] = Field(default_factory=list)
    comment: str | None = None  # COMMENT ON TABLE, set at contract (as every comment: comment.py)

    def tables(self) -> list[str]:
        refs = [c.references.table for c in self.columns if c.references]
        refs += [t.references.table for t in self.constraints if t.references]
        return sorted({self.table, *refs})

    def _check_constraints(self, catalog: Catalog, columns: set[str]) -> None:
        """The table-level constraints, and the names every constraint of the table takes."""
        taken: set[str] = set()
        for i, col in enumerate(self.columns):
            check_column_options(self, col, f"columns[{i}]")
            for name in self._column_constraint_names(col):
                taken.add(name)
        for i, constraint in enumerate(self.constraints):
            problem = constraint.problem(columns, catalog)
            if problem:
                raise self.fail(f"constraints[{i}].{problem[0]}", problem[1])
            name = constraint.constraint_name(self.table)
            if name in taken or name in relation_names(catalog):
                raise self.fail(f"constraints[{i}].name", f"the name {name!r} is taken already")
            taken.add(name)

    def _column_constraint_names(self, col: ColumnDef) -> list[str]:
        names = [
            col.unique_name_or(unique_name(self.table, col.name)),
            col.check_name_or(check_name(self.table, col.name)),
            col.fk_name_or(fk_name(self.table, col.name)) if col.references else None,
        ]
        return [n for n in names if n]

    def _key(self) -> list[str]:
        return self.primary_key or [c.name for c in self.columns if c.primary_key]

    def key_name(self) -> str:
        return self.primary_key_name or f"{self.table}_pkey"

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
        if self.primary_key_name is not None:
            if not self.primary_key:
                raise self.fail("primary_key_name", "names the key of 'primary_key: [columns]': give that list")
            if self.primary_key_name in relation_names(catalog):
                raise self.fail("primary_key_name", f"the name {self.primary_key_name!r} is taken already")
        self._check_constraints(catalog, seen)

    def apply(self, catalog: Catalog) -> Catalog:
        key = self._key()
        columns = [
            c.as_column().model_copy(update={"nullable": c.nullable and c.name not in key}) for c in self.columns
        ]
        indexes: list[Index] = []
        constraints: list[Constraint] = []
        if key:
            pkey = self.key_name()
            indexes.append(Index(name=pkey, columns=list(key), unique=True, primary=True, constraint=pkey))
            constraints.append(Constraint(name=pkey, kind="primary_key", definition="", columns=list(key)))
        for col in self.columns:
            declared = declared_constraints(
                col.name,
                unique=col.unique_name_or(unique_name(self.table, col.name)),
                check=col.check_name_or(check_name(self.table, col.name)),
                foreign_key=col.fk_name_or(fk_name(self.table, col.name)),
                references=col.references,
            )
            indexes += declared[0]
            constraints += declared[1]
        for table_constraint in self.constraints:
            declared = table_constraint.logical(self.table)
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
            options = col.references.options_sql({col.name: col.name})
            references = (qualified(ctx.schema, ref.physical), ref_col.physical, options)
        check = col.check_def
        given = (
            col.unique.name if isinstance(col.unique, UniqueDef) else None,
            check.name if check else None,
            col.references.name if col.references else None,
        )
        return column_definition(
            col.name,
            col.type,
            not_null=not col.nullable and not col.primary_key and col.identity is None,
            default=col.default,
            primary_key=col.primary_key,
            unique=bool(col.unique),
            check=check.expression if check else None,
            references=references,
            names=given,
            check_no_inherit=bool(check and check.no_inherit),
            generated=self._generated_sql(col),
        )

    @staticmethod
    def _generated_sql(col: ColumnDef) -> sql.Composable | None:
        identity, generated = col.identity_def, col.generated_def
        if identity is not None:
            return identity_clause(identity.always, identity.sequence_options())
        return generated_clause(generated.expression, generated.stored) if generated else None

    def _constraint_sql(self, ctx: OpContext, constraint: TableConstraint) -> sql.Composable:
        referenced = None
        if constraint.references:
            ref = ctx.before.tables[constraint.references.table]
            physical = [ref.column(c).physical for c in constraint.references.columns]  # type: ignore[union-attr]
            refs = constraint.references.model_copy(update={"columns": physical})
            constraint = constraint.model_copy(update={"references": refs})
            referenced = qualified(ctx.schema, ref.physical)
        return constraint.definition(self.table, referenced)

    def _comments(self, ctx: OpContext) -> list[Step]:
        steps = [comment_step(ctx, self.table, None, self.comment)] if self.comment is not None else []
        steps += [comment_step(ctx, self.table, ("COLUMN", c.name), c.comment) for c in self.columns if c.comment]
        for constraint in self.constraints:
            if constraint.comment is not None:
                target = ("CONSTRAINT", constraint.constraint_name(self.table))
                steps.append(comment_step(ctx, self.table, target, constraint.comment))
        return steps

    def plan(self, ctx: OpContext) -> OpPlan:
        if self.table in relation_names(ctx.physical):
            raise self.fail(
                "table",
                f"a relation named {self.table!r} exists in schema {ctx.schema} until this migration's contract",
            )
        items = [self._column_sql(ctx, col) for col in self.columns]
        items += [self._constraint_sql(ctx, constraint) for constraint in self.constraints]
        # each referenced table, by name, to the table PostgreSQL locks (its physical name)
        referenced = {
            c.references.table: ctx.before.tables[c.references.table].physical for c in self.columns if c.references
        }
        for constraint in self.constraints:
            if constraint.references:
                referenced[constraint.references.table] = ctx.before.tables[constraint.references.table].physical
        plan = OpPlan()
        # its foreign keys lock the referenced tables too
        plan.structure.append(
            create_table(ctx.schema, self.table, items, self.primary_key, referenced, key_name=self.primary_key_name)
        )
        plan.contract += self._comments(ctx)
        # rollback drops the table structurally (it is not in the physical catalog before)
        shape = tuple(Column(name=c.name, type=probe_type(c.type)) for c in self.columns)
        for i, col in enumerate(self.columns):
            plan.types.append((f"columns[{i}].type", probe_type(col.type)))
            if col.default is not None:
                plan.expressions.append(
                    ExpressionProbe(f"columns[{i}].default", self.table, col.default, (), probe_type(col.type))
                )
            if col.check_def:
                probe = ExpressionProbe(f"columns[{i}].check", self.table, col.check_def.expression, shape, "boolean")
                plan.expressions.append(probe)
            if col.generated_def:
                expression, typ = col.generated_def.expression, probe_type(col.type)
                plan.expressions.append(ExpressionProbe(f"columns[{i}].generated", self.table, expression, shape, typ))
        for i, constraint in enumerate(self.constraints):
            for fld, expression in (("check", constraint.check_expr), ("where", constraint.where)):
                if expression:
                    probe = ExpressionProbe(f"constraints[{i}].{fld}", self.table, expression, shape, "boolean")
                    plan.expressions.append(probe)
        return plan
