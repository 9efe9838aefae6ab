"""The constraints a new column declares (unique, references, check), planned one way for every operation.

add_column and alter_column both put the new shape in a hidden column; what the column declares is
built on it without a long lock: a unique index CONCURRENTLY (attached as the constraint at contract),
a foreign key NOT VALID (validated after the backfill), a CHECK proven by verify and added at contract
(its column has its final name only then). create_table declares them inline instead (its table is new).
"""

from __future__ import annotations

from typing import NamedTuple

from psycopg import sql

from liveshift.catalog import Table
from liveshift.ddl import statements
from liveshift.operations.base import OpContext, OpPlan, VerifyCheck, hidden_name
from liveshift.operations.columns import ForeignKeyRef
from liveshift.operations.partitioned_foreign_key import partitioned_foreign_key_steps, per_partition
from liveshift.shape import user_expression


def _pg_name(*parts: str) -> str:
    # PostgreSQL's default names, e.g. users_email_key; truncated to 63 bytes
    return "_".join(parts).encode()[:63].decode(errors="ignore")


def unique_name(table: str, column: str) -> str:
    return _pg_name(table, column, "key")


def fk_name(table: str, column: str) -> str:
    return _pg_name(table, column, "fkey")


def check_name(table: str, column: str) -> str:
    return _pg_name(table, column, "check")


def not_null_check_name(column: str) -> str:
    return hidden_name("nn", column)


class DeclaredCheck(NamedTuple):
    name: str
    expression: str
    field: str  # of the migration file, for errors and probes
    no_inherit: bool = False


def check_at_contract(
    plan: OpPlan, schema: str, physical: str, final_table: str, check: DeclaredCheck, after: Table
) -> None:
    """A CHECK written over a column whose final name exists only after contract: verify proves it over the
    green shape while the migration can still roll back; contract adds it NOT VALID, then VALIDATEs it."""
    variables = tuple(after.columns)
    plan.checks.append(VerifyCheck(physical, f"check {check.name}", check.expression, variables, field=check.field))
    expression = user_expression(check.expression)
    if check.no_inherit:
        expression += sql.SQL(" NO INHERIT")
    plan.contract.append(
        statements.add_check_not_valid(schema, final_table, check.name, expression, f"add check {check.name} NOT VALID")
    )
    plan.contract.append(statements.validate_constraint(schema, final_table, check.name))


def plan_declared_constraints(
    ctx: OpContext,
    plan: OpPlan,
    table: str,
    column: str,
    *,
    unique: str | None,
    foreign_key: str,
    references: ForeignKeyRef | None,
    check: DeclaredCheck | None,
) -> None:
    """Steps for what the new column (stored in `column` of logical table `table`) declares."""
    schema, physical = ctx.schema, ctx.before.tables[table].physical
    final_table, _ = ctx.final_name_of(physical, column)
    if unique:
        plan.expand.append(statements.create_index_concurrently(schema, physical, unique, [column], unique=True))
        plan.contract.append(statements.attach_unique_index(schema, final_table, unique))
    if references:
        ref = ctx.before.tables[references.table]
        ref_col = ref.column(references.column)
        assert ref_col is not None
        options = references.options_sql({c.name: c.physical for c in ctx.after.tables[table].columns})
        target = (foreign_key, [column], ref.physical, [ref_col.physical], options)
        partitioning = ctx.before.tables[table].partitioning
        # validated per partition before 18 (partitioned_foreign_key.py); rollback drops the column and the keys
        if partitioning is not None and per_partition(ctx.physical):
            expand, validate = partitioned_foreign_key_steps(schema, physical, partitioning, *target)
            plan.expand += expand
            plan.validate += validate
        else:
            plan.expand.append(statements.add_foreign_key_not_valid(schema, physical, *target))
            plan.validate.append(statements.validate_constraint(schema, physical, foreign_key))
    if check:
        check_at_contract(plan, schema, physical, final_table, check, ctx.after.tables[table])
