"""Replacing a column by a hidden copy of a new type (pgroll's approach), and what hangs on the old column.

The hidden column `_ls_new_<col>` is filled by `up` for blue writes and the backfill, and feeds the
old column through `down` for green writes. It carries the new constraints from the start (NOT
VALID / CONCURRENTLY); what hung on the old column (indexes, unique constraints, checks, outgoing
foreign keys, the sequence or identity behind its default) is rebuilt on it under temporary names
and takes the old names at contract, after the structural drop of the old column removed the
originals. Nothing of the old shape changes before contract, so rollback only drops what was added.

Definitions of existing objects come from the physical catalog (pg_get_indexdef /
pg_get_constraintdef text, read by catalog_text.py); what cannot be rebuilt faithfully is refused up
front. The statements themselves are built in statements.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from psycopg import sql

from liveshift.catalog import Column, Constraint, Index, Table
from liveshift.catalog.text import check_expression, foreign_key_options, mentions
from liveshift.ddl import statements
from liveshift.ddl.steps import Step, while_hidden
from liveshift.errors import SpecError
from liveshift.expressions.casts import round_trips
from liveshift.operations.base import ExpressionProbe, OpContext, OpPlan, Transform, VerifyCheck, hidden_name
from liveshift.operations.constraints import not_null_check_name
from liveshift.operations.index_rebuild import rebuilt_index, rebuilt_unique, renamed_expression
from liveshift.operations.partitioned_foreign_key import partitioned_foreign_key_steps, per_partition
from liveshift.operations.partitioned_index import rebuilt_partitioned_index


@dataclass
class Swap:
    """One column replaced by a hidden copy: the table and column before, and the new column's shape."""

    table: Table  # logical table the operation reads
    column: Column  # logical column before
    new: Column  # logical column after (its name, type, nullability, default), stored in `hidden`
    hidden: str
    up: str
    down: str
    spec_field: str = "type"
    up_field: str = "up"
    down_field: str = "down"
    new_default: str | None = None  # expression for the hidden column's default
    skip_foreign_keys: set[str] = field(default_factory=set)  # outgoing keys handled elsewhere (the key swap)
    note: str = ""  # why this column is replaced, shown in the plan
    indexes_after_backfill: bool = False  # alter_column's `indexes: after_backfill` (index_steps)

    def round_trips(self) -> bool:
        """`up` and `down` are plain casts that lose nothing (expressions/casts.py)."""
        old, new = (self.column.name, self.column.type), (self.new.name, self.new.type)
        return round_trips(self.up, self.down, old, new)

    def index_steps(self, plan: OpPlan, index: Index) -> list[Step]:
        """Where `index`, built again over the hidden column, goes: expand, or, with `indexes: after_backfill`,
        the validate phase, after the backfill. Built there once, it is not filled from all NULL by the backfill
        at about twice a fresh build and then rebuilt beside itself (backfill/rebuild.py): the peak's extra
        index. A unique one waits only where the old column's own index checks what it would: a round trip,
        plain key columns, a predicate not reading the column (AlterColumn refuses the option otherwise).
        Green's reads by the column go without it until then."""
        if not self.indexes_after_backfill or index.method != "btree":
            return plan.expand
        plain = None not in index.columns and not mentions(index.predicate, self.column.physical)
        return plan.validate if not index.unique or (plain and self.round_trips()) else plan.expand


@dataclass
class SwapSteps:
    """Contract-first steps of all swaps of one operation, kept in the order they must run."""

    set_not_null: list[Step] = field(default_factory=list)
    key_swap: list[Step] = field(default_factory=list)
    sequences: list[Step] = field(default_factory=list)
    generated: list[Step] = field(default_factory=list)  # virtual generated columns move to the hidden column
    release_old: list[Step] = field(default_factory=list)

    def all(self) -> list[Step]:
        return self.set_not_null + self.key_swap + self.sequences + self.generated + self.release_old


def refuse_unsupported(swap: Swap, ctx: OpContext) -> None:
    """Raise SpecError for what hangs on the column that a swap cannot rebuild faithfully."""
    col, table = swap.column, swap.table
    stored = ctx.physical.tables.get(table.physical)
    old = col.physical
    where = f"column {col.name!r} of table {table.name!r}"
    if stored is None or stored.column(old) is None or old.startswith("_ls_"):
        raise SpecError(f"{where} is created or changed earlier in this migration; alter it in a later one")
    if col.generated:
        raise SpecError(
            f"{where} is a generated column: PostgreSQL computes it, so there is no copy to fill; change its "
            "expression by dropping it (drop_column) and adding it again (a virtual one adds without a rewrite)"
        )
    for other in stored.columns:
        if not other.generated or other.name == old or not mentions(other.default, old):
            continue
        if not other.virtual:
            raise SpecError(
                f"stored generated column {other.name!r} reads {where}: PostgreSQL drops or retypes no column a "
                "generated column reads, and recomputing a stored one over the new column rewrites the table under "
                f"ACCESS EXCLUSIVE; drop {other.name!r} (drop_column) in a migration before this one and add it "
                "again after (as a virtual one it adds without a rewrite, and follows such a change)"
            )
        if renamed_expression(other.default or "", old, swap.hidden) is None:
            raise SpecError(f"generated column {other.name!r} reads {where}; its expression cannot be read back")
    for index in table.indexes:
        if not index.primary and index_touches(index, col.name, old):
            _refuse_index(table, index, old, where)
    for con in table.constraints:
        if col.name in con.columns:
            _refuse_constraint(ctx, swap, con, where)


def _refuse_index(table: Table, index: Index, old: str, where: str) -> None:
    if not index.definition:
        raise SpecError(f"index {index.name!r} is created in this migration; alter {where} in a later one")
    if None in index.columns and mentions(index.definition, old):
        raise SpecError(
            f"index {index.name!r} has an expression over {where}; "
            "drop it first (drop_index) and create it again after this migration"
        )
    con = table.constraint(index.constraint) if index.constraint else None
    if con is not None and con.kind == "exclusion":
        raise SpecError(f"exclusion constraint {con.name!r} uses {where}; liveshift cannot rebuild it")
    if rebuilt_index(index.definition, "", table.physical, index.name, old, old) is None:
        raise SpecError(f"index {index.name!r} on {where} cannot be read back: {index.definition}")
    if con is not None and con.kind == "unique" and rebuilt_unique(con.definition, old, old) is None:
        raise SpecError(f"constraint {con.name!r} on {where} cannot be read back: {con.definition}")


def _refuse_constraint(ctx: OpContext, swap: Swap, con: Constraint, where: str) -> None:
    table = swap.table
    if not con.definition:
        raise SpecError(f"constraint {con.name!r} is added in this migration; alter {where} in a later one")
    if con.kind == "exclusion":
        raise SpecError(f"exclusion constraint {con.name!r} uses {where}; liveshift cannot rebuild it")
    if con.kind == "check":
        if check_expression(con) is None:
            raise SpecError(f"check constraint {con.name!r} on {where} cannot be rebuilt: {con.definition}")
        for used in con.columns:
            used_col = table.column(used)
            physical = used_col.physical if used_col else used
            if _final_column(ctx, table, swap, physical) != physical:
                raise SpecError(
                    f"check constraint {con.name!r} names column {physical!r}, which this migration renames; "
                    "rename in a separate migration"
                )
    if con.kind == "foreign_key" and con.name not in swap.skip_foreign_keys and foreign_key_options(con) is None:
        raise SpecError(f"foreign key {con.name!r} on {where} cannot be rebuilt: {con.definition}")


def _final_column(ctx: OpContext, table: Table, swap: Swap, physical: str) -> str:
    if physical == swap.column.physical:
        return ctx.final_name_of(table.physical, swap.hidden)[1]
    return ctx.final_name_of(table.physical, physical)[1]


def index_touches(index: Index, logical: str, physical: str) -> bool:
    """Whether dropping the column drops the index: a key column, or named in an expression or predicate."""
    if logical in index.columns or mentions(index.predicate, physical):
        return True
    return None in index.columns and mentions(index.definition, physical)


def plan_swap(ctx: OpContext, plan: OpPlan, swap: Swap, first: SwapSteps) -> None:
    """Steps, transforms and checks replacing `swap.column` by its hidden copy (see the module doc)."""
    physical = swap.table.physical
    final_table, final_column = ctx.final_name_of(physical, swap.hidden)
    after = tuple(
        c if c.name != swap.column.name else swap.new.model_copy(update={"stored_as": swap.hidden})
        for c in swap.table.columns
    )
    _plan_hidden_column(ctx, plan, swap, first)
    _plan_old_column(ctx, swap, first)
    _plan_generated(ctx, plan, swap, first)
    plan.removes.append((physical, swap.column.physical, swap.hidden))
    for index in swap.table.indexes:
        if not index.primary and index_touches(index, swap.column.name, swap.column.physical):
            _rebuild_index(ctx, plan, swap, index, final_table)
    for con in swap.table.constraints:
        if swap.column.name not in con.columns:
            continue
        if con.kind == "check":
            _rebuild_check(ctx, plan, swap, con.name, after)
        elif con.kind == "foreign_key" and con.name not in swap.skip_foreign_keys:
            _rebuild_foreign_key(ctx, plan, swap, con.name, final_table)
    plan.transforms.append(
        Transform(
            "up", physical, swap.hidden, swap.new.type, swap.up, tuple(swap.table.columns), ctx.index, swap.up_field
        )
    )
    old = swap.column
    plan.transforms.append(
        Transform("down", physical, old.physical, old.type, swap.down, after, ctx.index, swap.down_field)
    )
    if len(f"{final_table}_{final_column}_not_null".encode()) <= 63:
        plan.contract.append(statements.name_not_null_constraint(ctx.schema, final_table, final_column))


def _plan_hidden_column(ctx: OpContext, plan: OpPlan, swap: Swap, first: SwapSteps) -> None:
    """The hidden column of the new type, its default, and its NOT NULL (proven before contract)."""
    schema, physical, hidden, new = ctx.schema, swap.table.physical, swap.hidden, swap.new
    why = f" for {swap.column.name}" + (f" ({swap.note})" if swap.note else "")
    plan.structure.append(statements.add_hidden_column(schema, physical, hidden, new.type, why))
    if swap.new_default is not None:
        plan.expand.append(statements.set_default(schema, physical, hidden, swap.new_default))
    if not new.nullable:
        nn = not_null_check_name(new.name)
        expand, validate, contract = statements.not_null_steps(schema, physical, hidden, nn, physical, hidden)
        plan.expand += expand
        plan.validate += validate
        first.set_not_null += [
            replace(s, skip_if=while_hidden(schema, physical, hidden, s.skip_if)) for s in contract if s.skip_if
        ]


def _plan_old_column(ctx: OpContext, swap: Swap, first: SwapSteps) -> None:
    """What the old column hands over before it is dropped: its NOT NULL, and its sequence or identity."""
    schema, physical, old, col = ctx.schema, swap.table.physical, swap.column.physical, swap.column
    if not col.nullable:
        # green writes reach the old column through the trigger until it is dropped; once it is gone
        # (between the trigger's and the column's drop) the old column must accept NULL
        first.release_old.append(statements.release_old_not_null(schema, physical, old, swap.hidden))
    if col.identity or (col.default or "").startswith("nextval("):
        first.sequences.append(
            statements.move_sequence(schema, physical, old, swap.hidden, swap.new.type, col.identity)
        )


def _plan_generated(ctx: OpContext, plan: OpPlan, swap: Swap, first: SwapSteps) -> None:
    """A virtual generated column reading the old column reads the hidden one from contract on, before the old
    one is dropped (PostgreSQL drops no column a generated column reads); nothing is stored, so nothing is
    recomputed. Its expression over the new type is compiled before expand."""
    schema, physical, old = ctx.schema, swap.table.physical, swap.column.physical
    stored = ctx.physical.tables[physical]
    variables = tuple(_as_new_type(c, swap) for c in stored.columns)
    for other in stored.columns:
        if not other.virtual or other.name == old or not mentions(other.default, old):
            continue
        expression = renamed_expression(other.default or "", old, swap.hidden)
        assert expression is not None  # refuse_unsupported read it back
        step = statements.set_generation_expression(schema, physical, other.name, expression, old, swap.hidden)
        first.generated.append(step)
        probe = ExpressionProbe(swap.spec_field, physical, other.default or "", variables, other.type)
        plan.expressions.append(probe)


def _rebuild_index(ctx: OpContext, plan: OpPlan, swap: Swap, index: Index, final_table: str) -> None:
    """An index over the old column, built again on the hidden one; it takes the old name (or, unique, the
    old constraint) at contract."""
    schema, physical, old = ctx.schema, swap.table.physical, swap.column.physical
    stored = ctx.physical.tables[physical]
    orig = stored.index(index.name)
    assert orig is not None
    temp = hidden_name("ix", index.name)
    if orig.predicate is not None and mentions(orig.predicate, old):
        # its predicate over the new column is compiled before expand
        variables = tuple(_as_new_type(c, swap) for c in stored.columns)
        plan.expressions.append(ExpressionProbe(swap.spec_field, physical, orig.predicate, variables, "boolean"))
    con = stored.constraint(orig.constraint) if orig.constraint else None
    steps = swap.index_steps(plan, orig)
    if stored.partitioning is not None:  # per partition (partitioned_index.py)
        unique = con if con is not None and con.kind == "unique" else None
        expand, contract = rebuilt_partitioned_index(schema, stored, orig, unique, temp, old, swap.hidden)
        steps += expand
        plan.contract += contract
        return
    # every option it had (index_rebuild.py)
    rebuilt = rebuilt_index(orig.definition, schema, physical, temp, old, swap.hidden, orig.tablespace)
    assert rebuilt is not None  # refuse_unsupported read it back
    description = f"rebuild index {index.name} on {physical} as {temp} over {swap.hidden} concurrently"
    steps.append(statements.create_index_as(schema, physical, temp, rebuilt, description))
    if con is not None and con.kind == "unique":
        plan.contract.append(statements.attach_unique_index(schema, final_table, con.name, index=temp))
    else:
        plan.contract.append(statements.rename_index(schema, temp, index.name))


def _as_new_type(column: Column, swap: Swap) -> Column:
    """A physical column as an index predicate reads it once swapped: the old column as the new type."""
    if column.name != swap.column.physical:
        return column
    return column.model_copy(update={"type": swap.new.type, "stored_as": swap.hidden})


def _rebuild_check(ctx: OpContext, plan: OpPlan, swap: Swap, name: str, after: tuple[Column, ...]) -> None:
    """A CHECK over the old column: verified over the green shape, added again on the final column."""
    schema, physical = ctx.schema, swap.table.physical
    final_table, final_column = ctx.final_name_of(physical, swap.hidden)
    orig = ctx.physical.tables[physical].constraint(name)
    assert orig is not None
    expression = check_expression(orig)
    assert expression is not None
    plan.checks.append(VerifyCheck(physical, f"check {name}", expression, after, field=swap.spec_field))
    description = f"add check {name} again on {final_table}.{final_column} NOT VALID"
    # the expression as PostgreSQL printed it (catalog text, not user input)
    plan.contract.append(statements.add_check_not_valid(schema, final_table, name, sql.SQL(expression), description))
    if orig.validated:
        plan.contract.append(statements.validate_constraint(schema, final_table, name))


def _rebuild_foreign_key(ctx: OpContext, plan: OpPlan, swap: Swap, name: str, final_table: str) -> None:
    """An outgoing foreign key of the old column, added NOT VALID on the hidden one under a temporary name."""
    schema, physical = ctx.schema, swap.table.physical
    orig = ctx.physical.tables[physical].constraint(name)
    assert orig is not None
    temp = hidden_name("fk", name)
    columns = [swap.hidden if c == swap.column.physical else c for c in orig.columns]
    target = (temp, columns, orig.ref_table or "", orig.ref_columns, sql.SQL(foreign_key_options(orig) or ""))
    partitioning = ctx.physical.tables[physical].partitioning
    if partitioning is not None and orig.validated and per_partition(ctx.physical):  # partitioned_foreign_key.py
        expand, validate = partitioned_foreign_key_steps(
            schema, physical, partitioning, *target, ref_schema=orig.ref_schema or schema
        )
        plan.expand += expand
        plan.validate += validate
    else:
        plan.expand.append(
            statements.add_foreign_key_not_valid(schema, physical, *target, ref_schema=orig.ref_schema or schema)
        )
        if orig.validated:
            plan.validate.append(statements.validate_constraint(schema, physical, temp))
    # a partitioned table's partitions keep theirs under the temporary name: PostgreSQL renames this one alone
    plan.contract.append(statements.rename_constraint(schema, final_table, temp, name))
