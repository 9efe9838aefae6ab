"""A migration's record in `liveshift.migrations`: its file, the catalog before expand, its status.

Every phase recomputes its plan from the record (`phases.plan_of`), so a step that runs twice, or a
phase on a worker that restarted, sees exactly the same steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from liveshift.catalog import Catalog, schema_exists
from liveshift.errors import MigrationStateError
from liveshift.lifecycle import IN_FLIGHT, Status

_COLUMNS = (
    "name",
    "schema_name",
    "spec",
    "catalog_before",
    "blue_version",
    "green_version",
    "created_blue",
    "status",
    "paused",
    "error",
)


class MigrationRecord(BaseModel):
    name: str
    schema_name: str
    spec: dict[str, Any]
    catalog_before: Catalog
    blue_version: str
    green_version: str
    created_blue: bool
    status: Status
    paused: bool = False
    error: str | None = None


def find(conn: psycopg.Connection, name: str) -> MigrationRecord | None:
    """The record of migration `name`, or None (the internal schema must exist)."""
    columns = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
    row = conn.execute(
        sql.SQL("SELECT {} FROM liveshift.migrations WHERE name = %s").format(columns), (name,)
    ).fetchone()
    if row is None:
        return None
    return MigrationRecord.model_validate(dict(zip(_COLUMNS, row, strict=True)))


def find_if_any(conn: psycopg.Connection, name: str) -> MigrationRecord | None:
    """`find`, and None where liveshift never ran on this database."""
    return find(conn, name) if schema_exists(conn, "liveshift") else None


def load_record(conn: psycopg.Connection, name: str) -> MigrationRecord:
    record = find_if_any(conn, name)
    if record is None:
        raise MigrationStateError(f"migration {name!r} is not known to this database")
    return record


def insert(
    conn: psycopg.Connection,
    name: str,
    spec: dict[str, Any],
    catalog: Catalog,
    blue: str,
    green: str,
    created_blue: bool,
) -> None:
    """Record a prepared migration (a second in flight on its schema is refused by a unique index)."""
    schema = catalog.schema_name
    conn.execute(
        "INSERT INTO liveshift.migrations (name, schema_name, spec, catalog_before, blue_version, green_version, "
        "created_blue, status) VALUES (%s, %s, %s, %s, %s, %s, %s, 'prepared')",
        (name, schema, Jsonb(spec), Jsonb(catalog.model_dump(mode="json")), blue, green, created_blue),
    )


def delete(conn: psycopg.Connection, name: str) -> None:
    conn.execute("DELETE FROM liveshift.migrations WHERE name = %s", (name,))


def set_status(conn: psycopg.Connection, name: str, status: Status, error: str | None = None) -> None:
    conn.execute(
        "UPDATE liveshift.migrations SET status = %s, error = %s, updated_at = now() WHERE name = %s",
        (status.value, error, name),
    )


def lock_row(conn: psycopg.Connection, name: str) -> None:
    """The record's row lock, in the caller's transaction: orders shift, contract and rollback."""
    conn.execute("SELECT 1 FROM liveshift.migrations WHERE name = %s FOR UPDATE", (name,))


def set_paused(conn: psycopg.Connection, name: str, paused: bool) -> None:
    conn.execute("UPDATE liveshift.migrations SET paused = %s, updated_at = now() WHERE name = %s", (paused, name))


def is_paused(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute("SELECT paused FROM liveshift.migrations WHERE name = %s", (name,)).fetchone()
    return bool(row and row[0])


def current_version(conn: psycopg.Connection, schema: str) -> str | None:
    row = conn.execute(
        "SELECT current_version FROM liveshift.active_versions WHERE schema_name = %s", (schema,)
    ).fetchone()
    return row[0] if row else None


def in_flight(conn: psycopg.Connection, schema: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM liveshift.migrations WHERE schema_name = %s AND status = ANY(%s) ORDER BY created_at",
            (schema, [s.value for s in IN_FLIGHT]),
        )
    ]


def record_fingerprint(conn: psycopg.Connection, name: str, fingerprint: dict[str, str]) -> None:
    """The schema's catalog fingerprint as the migration completes (liveshift.catalog.fingerprint)."""
    conn.execute("UPDATE liveshift.migrations SET fingerprint = %s WHERE name = %s", (Jsonb(fingerprint), name))


class CompletedMigration(BaseModel):
    """The last migration that completed on a schema, and the fingerprint it recorded (None before it was kept)."""

    name: str
    completed_at: datetime
    fingerprint: dict[str, str] | None = None


def last_completed(conn: psycopg.Connection, schema: str) -> CompletedMigration | None:
    # through to_jsonb: a read that also works on an install whose bootstrap has not yet added the column
    row = conn.execute(
        "SELECT name, updated_at, to_jsonb(m) -> 'fingerprint' FROM liveshift.migrations m "
        "WHERE schema_name = %s AND status = %s ORDER BY updated_at DESC, name DESC LIMIT 1",
        (schema, Status.COMPLETE.value),
    ).fetchone()
    return None if row is None else CompletedMigration(name=row[0], completed_at=row[1], fingerprint=row[2])
