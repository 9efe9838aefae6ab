"""Blue/green version schemas: one view per table, and the active-version flag.

Views that select plain columns of one table are automatically updatable, so applications
read and write through them; the dual-write trigger on the table keeps both shapes current.
The steps creating and dropping version schemas and views are in statements.py; here are the names
and the active-version flag cutover moves (phases.cutover).
"""

from __future__ import annotations

from psycopg import sql

from liveshift.ddl.steps import fitted_name

BASE_VERSION = "base"

# Version views run under the caller's rights (row-level security and the caller's privileges on the table
# apply, as on the table itself) where the server has the option: PostgreSQL 15 and later. Engine.validate
# refuses a schema with row-level security on an older server, where a view would bypass the policies.
SECURITY_INVOKER_SINCE = 150000


def version_schema(schema: str, version: str) -> str:
    """`<schema>_<version>`, always quoted where used (a name may start with a digit or hold '-'); past
    PostgreSQL's 63 bytes, a prefix and a hash of the whole, so that two long names never share a schema
    (a schema of that name that exists already is refused at validation, naming `name`)."""
    return fitted_name(f"{schema}_{version}")


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
