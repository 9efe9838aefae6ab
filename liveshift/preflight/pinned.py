"""The search_path every function liveshift creates runs with, and the check that user expressions resolve under it.

A function's search_path is pinned so that no object in a schema on the caller's path (a `lower()`
of its own, say) can change what it computes. The `up`/`down` expressions of a migration run inside
the dual-write trigger, so they must compile under that path too: the names of the migration's own schema
are qualified for them (qualify.py); a function or type of another schema is found only schema-qualified
(`other.normalize_email(email)`).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from liveshift.errors import SpecError
from liveshift.operations.base import Transform
from liveshift.shape import shaped_relation, user_expression

PINNED_SEARCH_PATH = "pg_catalog, pg_temp"


def _compiles_pinned(conn: psycopg.Connection, schema: str, transform: Transform, existing: set[str]) -> str | None:
    """None when the expression compiles under the pinned path, else the server's message."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION READ ONLY")
            oids = [conn.execute("SELECT to_regtype(%s)::oid", (c.type,)).fetchone() for c in transform.variables]
            conn.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.SQL(PINNED_SEARCH_PATH)))
            # a column not created yet is a typed NULL in the relation: its type (a type of the schema, say) named
            # as the trigger never has to, qualified, so that only the expression is held to the pinned path
            variables = [
                c if not oid or oid[0] is None else c.model_copy(update={"type": _type_name(conn, oid[0])})
                for c, oid in zip(transform.variables, oids, strict=True)
            ]
            relation = shaped_relation(schema, transform.table, variables, existing)
            statement = sql.SQL("SELECT {} FROM {} AS _ls_row LIMIT 0").format(
                user_expression(transform.expression), relation
            )
            conn.execute(statement, prepare=True)
    except psycopg.Error as exc:
        return (exc.diag.message_primary or str(exc)).splitlines()[0]
    return None


def _type_name(conn: psycopg.Connection, oid: int) -> str:
    row = conn.execute("SELECT format_type(%s, NULL)", (oid,)).fetchone()
    assert row is not None
    return str(row[0])


def check_transforms(
    conn: psycopg.Connection,
    schema: str,
    existing: dict[str, set[str]],
    transforms: list[tuple[int, str, Transform]],
    file: str | None = None,
) -> None:
    """Refuse an up/down that (having compiled under the session's search_path) needs an unqualified user
    object. `existing`: the physical columns of each table now; `transforms`: (op index, op name, transform)."""
    for index, op_name, transform in transforms:
        message = _compiles_pinned(conn, schema, transform, existing.get(transform.table, set()))
        if message is not None:
            raise SpecError(
                f"expression {transform.expression!r} does not compile with search_path = {PINNED_SEARCH_PATH}, "
                f"the path the dual-write trigger runs with ({message}): liveshift qualifies the tables, types and "
                "functions of the migration's schema; schema-qualify those of other schemas, e.g. "
                "other.normalize_email(email)",
                file=file,
                index=index,
                op=op_name,
                field=transform.field,
            )
