"""add_constraint with `up`/`down` (pgroll's create_constraint): the rows that would violate the constraint are
fixed into a hidden copy of the column, and the constraint is built on that copy.

The column is replaced through the column swap (column_swap.py), exactly as alter_column replaces one with a
new check, unique, foreign key or NOT NULL: `up` (SQL over blue's row) fills the hidden column for the backfill
and blue's writes, `down` (SQL over green's row; default: the value as it is) maps green's writes back to the
old column. The constraint is built on the hidden column (a unique index CONCURRENTLY, a foreign key NOT VALID
then validated, a NOT NULL proven by a validated CHECK, a CHECK verified on every row and added at contract),
and the hidden column takes the column's place at contract. So add_constraint delegates to alter_column's plan,
and reports what it refuses under its own fields.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from liveshift.catalog import Catalog
from liveshift.ddl.statements import rename_constraint
from liveshift.errors import SpecError
from liveshift.operations.alter_column import AlterColumn
from liveshift.operations.base import OpContext, OpPlan
from liveshift.operations.columns import CheckDef, ForeignKeyRef, UniqueDef

if TYPE_CHECKING:
    from liveshift.operations.add_constraint import AddConstraint

# alter_column's fields, as add_constraint names them
_FIELDS = {"column": "columns", "check": "check", "unique": "name", "references": "references", "nullable": "type"}


def fixed_column(op: AddConstraint) -> str:
    """The one column `up` fixes; refused (naming the field) for what cannot be done."""
    columns = op.columns or []
    if not columns:
        raise op.fail("columns", "with up/down, name the column up fixes in 'columns'")
    if len(columns) > 1:
        raise op.fail(
            "columns",
            "up/down fix one column: a constraint over several columns with up/down is not supported "
            "(fix the rows in a migration of its own first, or split the constraint)",
        )
    for field_name, given in (("up", op.up or {}), ("down", op.down or {})):
        stray = sorted(set(given) - set(columns))
        if stray:
            raise op.fail(field_name, f"{', '.join(stray)}: not among 'columns'")
    if op.down and not op.up:
        raise op.fail("down", "down maps green's writes back after up: give up too")
    return columns[0]


def as_alter_column(op: AddConstraint) -> AlterColumn:
    """The alter_column that replaces the fixed column by a hidden copy carrying the constraint."""
    column = fixed_column(op)
    fields: dict[str, object] = {"table": op.table, "column": column, "up": (op.up or {}).get(column, column)}
    if op.down and column in op.down:
        fields["down"] = op.down[column]
    else:
        fields["down"] = column  # every fixed value is one the old column holds as well
    if op.type == "check":
        fields["check"] = CheckDef(name=op.name, expression=op.check_expr or "")
    elif op.type == "unique":
        fields["unique"] = UniqueDef(name=op.name)
    elif op.type == "foreign_key":
        assert op.references is not None
        options = op.references.model_dump(exclude={"table", "columns"})
        fields["references"] = ForeignKeyRef(
            table=op.references.table, column=op.references.columns[0], name=op.name, **options
        )
    else:
        fields["nullable"] = False
    return AlterColumn.model_validate(fields)


def _located(op: AddConstraint, exc: SpecError) -> SpecError:
    if exc.op == op.op_name:
        return exc  # add_constraint's own refusal
    field = exc.field or "columns"
    field = f"{field}.{op.columns[0]}" if field in ("up", "down") and op.columns else _FIELDS.get(field, field)
    return SpecError(exc.message, op=op.op_name, field=field)


def check_fixed(op: AddConstraint, catalog: Catalog) -> None:
    if op.references is not None and len(op.references.columns) != 1:
        raise op.fail("references.columns", "up/down fix one column: a foreign key over several is not supported")
    column = fixed_column(op)
    table = op.require_table(catalog, op.table)
    stored = op.require_column(table, column, "columns[0]")
    if op.type == "not_null" and not stored.nullable:
        raise op.fail("columns", f"column {column!r} of table {op.table!r} is NOT NULL already")
    try:
        as_alter_column(op).check(catalog)
    except SpecError as exc:
        raise _located(op, exc) from None


def apply_fixed(op: AddConstraint, catalog: Catalog) -> Catalog:
    return as_alter_column(op).apply(catalog)


def plan_fixed(op: AddConstraint, ctx: OpContext) -> OpPlan:
    try:
        plan = as_alter_column(op).plan(ctx)
    except SpecError as exc:
        raise _located(op, exc) from None
    column = fixed_column(op)
    # the expressions are the file's up.<column> and down.<column>
    plan.transforms = [replace(t, field=f"{t.field}.{column}") for t in plan.transforms]
    if op.type == "not_null":
        # the NOT NULL the swap sets is named <table>_<column>_not_null, as SET NOT NULL names it
        stored = ctx.after.tables[op.table].column(column)
        assert stored is not None
        final_table, final_column = ctx.final_name_of(ctx.after.tables[op.table].physical, stored.physical)
        default = f"{final_table}_{final_column}_not_null"
        if op.name != default:
            plan.contract.append(rename_constraint(ctx.schema, final_table, default, op.name))
    return plan
