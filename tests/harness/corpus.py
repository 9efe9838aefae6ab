"""The differential tests' side: a schema's whole end state (tables, the objects outside them, grants, rows), the
corpus of real schemas in tests/data/corpus, and a database loaded with one of them. A migration's end state is
compared with the one its plain statements leave on a database of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql

from tests.harness.db import snapshot

CORPUS = Path(__file__).parent.parent / "data" / "corpus"

_OBJECTS = {
    "views": "SELECT c.relname, c.relkind::text, pg_get_viewdef(c.oid) FROM pg_class c "
    "WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('v', 'm')",
    "functions": "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
    "WHERE p.pronamespace = %(schema)s::regnamespace AND p.prokind = 'f'",
    "policies": "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies "
    "WHERE schemaname = %(schema)s",
    "triggers": "SELECT c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE c.relnamespace = %(schema)s::regnamespace AND NOT t.tgisinternal",
    "row_security": "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
    "WHERE relnamespace = %(schema)s::regnamespace AND relkind IN ('r', 'p')",
    "grants": "SELECT c.relname, c.relacl::text FROM pg_class c "
    "WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relacl IS NOT NULL",
    "column_grants": "SELECT c.relname, a.attname, a.attacl::text FROM pg_attribute a JOIN pg_class c "
    "ON c.oid = a.attrelid WHERE c.relnamespace = %(schema)s::regnamespace AND a.attacl IS NOT NULL "
    "AND NOT a.attisdropped",
}


def end_state(conn: psycopg.Connection, schema: str = "public") -> dict[str, Any]:
    """Everything of `schema` a migration may change, order-insensitive: the tables (harness `snapshot`), the
    views, functions, policies, triggers and grants, and every table's rows."""
    state: dict[str, Any] = {"tables": snapshot(conn, schema)}
    for kind, query in _OBJECTS.items():
        state[kind] = sorted(tuple(str(v) for v in row) for row in conn.execute(query, {"schema": schema}).fetchall())
    tables = conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r'", (schema,)
    ).fetchall()
    state["rows"] = {
        table: sorted(
            r[0]
            for r in conn.execute(
                sql.SQL("SELECT to_jsonb(t)::text FROM {} t").format(sql.Identifier(schema, table))
            ).fetchall()
        )
        for (table,) in tables
    }
    return state


def differences(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    """Where two end states differ, by part (and table), for an assertion's message."""
    out = [
        f"{k}: {left.get(k)} != {right.get(k)}"
        for k in sorted(set(left) | set(right))
        if k not in ("tables", "rows") and left.get(k) != right.get(k)
    ]
    for part in ("tables", "rows"):
        for table in sorted(set(left[part]) | set(right[part])):
            if left[part].get(table) != right[part].get(table):
                out.append(f"{part}[{table}]: {left[part].get(table)} != {right[part].get(table)}")
    return out


def cases() -> list[dict[str, Any]]:
    return list(yaml.safe_load((CORPUS / "cases.yaml").read_text()))


def load(dsn: str, schema_file: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((CORPUS / schema_file).read_text())  # type: ignore[arg-type]  # the corpus's own SQL
