"""Blue/green version schemas: one view per table, and the active-version flag.

Views that select plain columns of one table are automatically updatable, so applications
read and write through them; the dual-write trigger on the table keeps both shapes current.
"""

from __future__ import annotations

from psycopg import sql

from liveshift.catalog import Catalog, Table
from liveshift.shape import user_expression
from liveshift.steps import NO_TABLE_LOCK, Step, qualified

BASE_VERSION = "base"


def version_schema(schema: str, version: str) -> str:
    return f"{schema}_{version}"


def view_step(version: str, schema: str, table: Table) -> Step:
    """(Re)create the view `version.table` over the physical table, columns in their logical names."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(sql.Identifier(c.physical), sql.Identifier(c.name)) for c in table.columns
    )
    view = qualified(version, table.name)
    return Step(
        f"create view {version}.{table.name}",
        sql.SQL("DROP VIEW IF EXISTS {view}; CREATE VIEW {view} AS SELECT {cols} FROM {table}").format(
            view=view, cols=columns, table=qualified(schema, table.physical)
        ),
        lock=NO_TABLE_LOCK,
    )


# Version views run under the caller's rights (row-level security and the caller's privileges on the table
# apply, as on the table itself) where the server has the option: PostgreSQL 15 and later. Engine.validate
# refuses a schema with row-level security on an older server, where a view would bypass the policies.
SECURITY_INVOKER_SINCE = 150000


def view_security_step(version: str, table: Table) -> Step:
    """Make `version.table` a security_invoker view; skipped before PostgreSQL 15 and once set.

    Its own step, after the view's: the new view holds no grant for application roles until the grants
    are synchronised (after expand), so no role can use it before it runs with the caller's rights."""
    view = qualified(version, table.name)
    return Step(
        f"run view {version}.{table.name} with the caller's rights",
        sql.SQL("ALTER VIEW {} SET (security_invoker = true)").format(view),
        lock=NO_TABLE_LOCK,
        skip_if=sql.SQL(
            "SELECT current_setting('server_version_num')::int < {} OR coalesce((SELECT c.reloptions "
            "@> ARRAY['security_invoker=true'] FROM pg_class c WHERE c.oid = to_regclass({})), false)"
        ).format(sql.Literal(SECURITY_INVOKER_SINCE), sql.Literal(view.as_string(None))),
    )


def view_default_step(version: str, table: str, column: str, default: str) -> Step:
    """A default on a view column: inserts through the view that omit the column get it."""
    return Step(
        f"set default of {version}.{table}.{column}",
        sql.SQL("ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {}").format(
            qualified(version, table), sql.Identifier(column), user_expression(default)
        ),
        lock=NO_TABLE_LOCK,
    )


def create_version_steps(version: str, schema: str, catalog: Catalog) -> list[Step]:
    steps = [
        Step(
            f"create version schema {version}",
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(version)),
            lock=NO_TABLE_LOCK,
        )
    ]
    for table in catalog.tables.values():
        steps += [view_step(version, schema, table), view_security_step(version, table)]
    return steps


def drop_version_steps(version: str) -> list[Step]:
    """Drop our views, then the schema: RESTRICT, so a user object built on a view stops us loudly."""
    drop_views = sql.SQL(
        "DO $ls$ DECLARE v record; BEGIN "
        "FOR v IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = {name} AND c.relkind = 'v' LOOP "
        "EXECUTE format('DROP VIEW %I.%I', {name}, v.relname); END LOOP; END $ls$"
    ).format(name=sql.Literal(version))
    gone = sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = {})").format(sql.Literal(version))
    return [
        Step(f"drop views of version {version}", drop_views, lock=NO_TABLE_LOCK, skip_if=gone),
        Step(
            f"drop version schema {version}",
            sql.SQL("DROP SCHEMA IF EXISTS {} RESTRICT").format(sql.Identifier(version)),
            lock=NO_TABLE_LOCK,
            skip_if=gone,
        ),
    ]


def set_candidate(schema: str, candidate: str | None, percent: int) -> sql.Composable:
    return sql.SQL(
        "UPDATE liveshift.active_versions SET candidate_version = {}, candidate_percent = {}, updated_at = now() "
        "WHERE schema_name = {}"
    ).format(sql.Literal(candidate), sql.Literal(percent), sql.Literal(schema))


def promote(schema: str, version: str) -> sql.Composable:
    return sql.SQL(
        "UPDATE liveshift.active_versions SET current_version = {}, candidate_version = NULL, "
        "candidate_percent = 0, updated_at = now() WHERE schema_name = {}"
    ).format(sql.Literal(version), sql.Literal(schema))


def register_base(schema: str, version: str) -> sql.Composable:
    return sql.SQL(
        "INSERT INTO liveshift.active_versions (schema_name, current_version) VALUES ({}, {}) "
        "ON CONFLICT (schema_name) DO NOTHING"
    ).format(sql.Literal(schema), sql.Literal(version))
