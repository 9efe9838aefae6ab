"""SQL over a logical shape: a table seen through its logical column names.

Used to compile user expressions against the table before anything is created (probes), and
to evaluate them over the stored data during verify. Expressions are user SQL by design
(like a view definition); names are always composed as identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import sql

from liveshift.catalog import Column


def shaped_relation(
    schema: str,
    table: str,
    columns: Iterable[Column],
    existing: set[str] | None = None,
    extra: Iterable[sql.Composable] = (),
) -> sql.Composable:
    """`(SELECT <physical> AS <logical>, ... FROM schema.table)`.

    Columns whose physical storage is not in `existing` (not created yet) appear as typed NULLs,
    so an expression can be compiled before expand.
    """
    items: list[sql.Composable] = []
    for col in columns:
        if existing is not None and col.physical not in existing:
            source: sql.Composable = sql.SQL("NULL::{}").format(sql.SQL(col.type))
        else:
            source = sql.Identifier(col.physical)
        items.append(sql.SQL("{} AS {}").format(source, sql.Identifier(col.name)))
    items.extend(extra)
    if existing is not None and not existing:  # the table itself is created by this migration
        return sql.SQL("(SELECT {})").format(sql.SQL(", ").join(items))
    return sql.SQL("(SELECT {} FROM {})").format(sql.SQL(", ").join(items), sql.Identifier(schema, table))


def user_expression(expression: str) -> sql.Composable:
    """A user SQL expression, parenthesised on lines of its own so a trailing comment cannot escape."""
    return sql.SQL("(\n{}\n)").format(sql.SQL(expression))
