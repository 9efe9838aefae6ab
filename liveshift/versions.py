"""Blue/green version schemas: one view per table, and the active-version flag.

Views that select plain columns of one table are automatically updatable, so applications
read and write through them; the dual-write trigger on the table keeps both shapes current.
The steps creating and dropping version schemas and views are in statements.py; here are the names
and the active-version flag the engine moves at cutover.
"""

from __future__ import annotations

from psycopg import sql

BASE_VERSION = "base"


def version_schema(schema: str, version: str) -> str:
    return f"{schema}_{version}"


def set_candidate(schema: str, candidate: str | None, percent: int) -> sql.Composable:
    return sql.SQL(
        "UPDATE liveshift.active_versions SET candidate_version = {}, candidate_percent = {}, updated_at = now() "
        "WHERE schema_name = {}"
    ).format(sql.Literal(candidate), sql.Literal(percent), sql.Literal(schema))


def candidate_share(schema: str) -> sql.Composable:
    """The candidate version and its share of clients (0..100) for `schema`, one row."""
    return sql.SQL(
        "SELECT candidate_version, candidate_percent FROM liveshift.active_versions WHERE schema_name = {}"
    ).format(sql.Literal(schema))


def promote(schema: str, version: str) -> sql.Composable:
    return sql.SQL(
        "UPDATE liveshift.active_versions SET current_version = {}, candidate_version = NULL, "
        "candidate_percent = 0, updated_at = now() WHERE schema_name = {}"
    ).format(sql.Literal(version), sql.Literal(schema))
