"""Step builders several operations share: the safe forms of constraint and index DDL."""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

from liveshift.catalog import Table
from liveshift.operations.base import OpPlan, VerifyCheck, hidden_name
from liveshift.shape import user_expression
from liveshift.steps import (
    CONCURRENTLY,
    SHARE_ROW_EXCLUSIVE_BRIEF,
    SHARE_UPDATE_EXCLUSIVE,
    Step,
    column_not_null,
    constraint_exists,
    constraint_missing,
    qualified,
    relation_missing,
    valid_index_exists,
)


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


def create_index_concurrently(
    schema: str,
    table: str,
    name: str,
    columns: list[str],
    *,
    unique: bool = False,
    method: str = "btree",
    where: str | None = None,
) -> Step:
    statement = sql.SQL("CREATE {}INDEX CONCURRENTLY IF NOT EXISTS {} ON {} USING {} ({})").format(
        sql.SQL("UNIQUE ") if unique else sql.SQL(""),
        sql.Identifier(name),
        qualified(schema, table),
        sql.Identifier(method),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
    )
    if where:
        statement = sql.SQL("{} WHERE (\n{}\n)").format(statement, sql.SQL(where))
    return Step(
        f"create {'unique ' if unique else ''}index {name} on {table} ({', '.join(columns)}) concurrently",
        statement,
        lock=CONCURRENTLY,
        transactional=False,
        skip_if=valid_index_exists(schema, name),
        index_to_clean=qualified(schema, name),
    )


def attach_unique_index(schema: str, table: str, name: str) -> Step:
    """A unique index built concurrently at expand becomes the constraint of the same name (brief lock)."""
    return Step(
        f"attach unique index {name} as constraint",
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}").format(
            qualified(schema, table), sql.Identifier(name), sql.Identifier(name)
        ),
        skip_if=constraint_exists(schema, table, name),
    )


def drop_index_concurrently(schema: str, name: str) -> Step:
    return Step(
        f"drop index {name} concurrently",
        sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(qualified(schema, name)),
        lock=CONCURRENTLY,
        transactional=False,
        skip_if=relation_missing(schema, name),
    )


# Prefix of a statement that locks two tables (a foreign key's): an application transaction may hold the
# second while waiting behind our hold on the first. Giving up the wait (and retrying) before
# deadlock_timeout means PostgreSQL's deadlock detector never picks the application as the victim.
SHORT_WAIT_FOR_TWO_TABLES = sql.SQL(
    "SELECT set_config('lock_timeout', (1000 * extract(epoch FROM least(current_setting('lock_timeout')::interval, "
    "current_setting('deadlock_timeout')::interval / 2)))::bigint || 'ms', true); "
)


def two_tables(step: Step) -> Step:
    """`step` (a transactional statement locking two tables) with the short lock wait above."""
    return replace(step, statement=SHORT_WAIT_FOR_TWO_TABLES + step.statement)


def add_foreign_key_not_valid(
    schema: str,
    table: str,
    name: str,
    columns: list[str],
    ref_table: str,
    ref_columns: list[str],
    on_delete: str = "NO ACTION",
    ref_schema: str | None = None,
) -> Step:
    return two_tables(
        Step(
            f"add foreign key {name} on {table} NOT VALID",
            sql.SQL(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} NOT VALID"
            ).format(
                qualified(schema, table),
                sql.Identifier(name),
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                qualified(ref_schema or schema, ref_table),
                sql.SQL(", ").join(sql.Identifier(c) for c in ref_columns),
                sql.SQL(on_delete),
            ),
            lock=SHARE_ROW_EXCLUSIVE_BRIEF,
            skip_if=constraint_exists(schema, table, name),
        )
    )


def validate_constraint(schema: str, table: str, name: str) -> Step:
    return Step(
        f"validate constraint {name} on {table}",
        sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(qualified(schema, table), sql.Identifier(name)),
        lock=SHARE_UPDATE_EXCLUSIVE,
        skip_if=constraint_exists(schema, table, name, validated=True),
    )


def drop_constraint(schema: str, table: str, name: str) -> Step:
    return Step(
        f"drop constraint {name} on {table}",
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(qualified(schema, table), sql.Identifier(name)),
        skip_if=constraint_missing(schema, table, name),
    )


def not_null_steps(
    schema: str, table: str, column: str, check: str, final_table: str, final_column: str
) -> tuple[list[Step], list[Step], list[Step]]:
    """NOT NULL without a long lock: CHECK NOT VALID, VALIDATE, then SET NOT NULL uses the proof (PG >= 12)."""
    expand = [
        Step(
            f"add check {check} ({column} IS NOT NULL) NOT VALID",
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID").format(
                qualified(schema, table), sql.Identifier(check), sql.Identifier(column)
            ),
            skip_if=constraint_exists(schema, table, check),
        )
    ]
    validate = [validate_constraint(schema, table, check)]
    contract = [
        Step(
            f"set {final_table}.{final_column} NOT NULL (proven by {check}, no scan)",
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL").format(
                qualified(schema, final_table), sql.Identifier(final_column)
            ),
            skip_if=column_not_null(schema, final_table, final_column),
        ),
        drop_constraint(schema, final_table, check),
    ]
    return expand, validate, contract


def check_at_contract(
    plan: OpPlan, schema: str, physical: str, final_table: str, name: str, expression: str, after: Table, field: str
) -> None:
    """A CHECK written over a column whose final name exists only after contract: verify proves it over the
    green shape while the migration can still roll back; contract adds it NOT VALID, then VALIDATEs it."""
    plan.checks.append(VerifyCheck(physical, f"check {name}", expression, tuple(after.columns), field=field))
    plan.contract.append(
        Step(
            f"add check {name} NOT VALID",
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK {} NOT VALID").format(
                qualified(schema, final_table), sql.Identifier(name), user_expression(expression)
            ),
            skip_if=constraint_exists(schema, final_table, name),
        )
    )
    plan.contract.append(validate_constraint(schema, final_table, name))
