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
    """A user SQL expression, parenthesised on lines of its own so a trailing comment cannot escape.

    It is composed as SQL text, never as a template (`{}` in it stays), and a statement holding one is executed
    without client-side parameters, its values composed as `sql.Literal`: psycopg would read a `%` of the
    expression (`id % 1000`, `'%s'`) as a placeholder (tests/unit/test_expression_statements.py)."""
    return sql.SQL("(\n{}\n)").format(sql.SQL(expression))


def bound_expression(row: str, variables: Iterable[Column], expression: str) -> sql.Composable:
    """`expression` evaluated with the logical names of `variables` bound to the physical columns of `row`
    (an alias in the enclosing statement): `(SELECT expr FROM (SELECT row.physical AS logical, ...))`."""
    binds = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(sql.Identifier(row, c.physical), sql.Identifier(c.name)) for c in variables
    )
    return sql.SQL("(SELECT {} FROM (SELECT {}) AS _ls_vars)").format(user_expression(expression), binds)


def row_expression(row: str, variables: Iterable[Column], expression: str) -> sql.Composable:
    """`expression` over the row of the enclosing statement, as cheap as it can be written.

    When every logical name is its own physical column (the usual case: the expression reads columns
    no earlier operation renamed or moved), the expression reads the row's columns directly: no
    correlated sub-select per row. A name an expression may use is a logical column (it compiled
    against the logical shape alone), so it resolves to the same column either way.
    """
    variables = tuple(variables)
    if all(c.physical == c.name for c in variables):
        return user_expression(expression)
    return bound_expression(row, variables, expression)
