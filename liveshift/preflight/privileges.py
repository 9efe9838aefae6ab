"""What the worker's role must be allowed, and what the schema must not have, checked before anything is written."""

from __future__ import annotations

import psycopg

from liveshift.errors import SpecError
from liveshift.plan import MigrationPlan
from liveshift.versions import grants
from liveshift.versions.schemas import SECURITY_INVOKER_SINCE


def rls_refusal(server_version: int, schema: str, rls_tables: list[str]) -> str | None:
    """Before PostgreSQL 15 a view runs with its owner's rights: it would bypass row-level security."""
    if server_version >= SECURITY_INVOKER_SINCE or not rls_tables:
        return None
    return (
        f"table {schema}.{rls_tables[0]} has row-level security, and PostgreSQL {server_version // 10000} "
        "cannot create version views that apply it (security_invoker needs PostgreSQL 15): "
        "upgrade the server, or migrate without liveshift"
    )


def touched_tables(plan: MigrationPlan) -> dict[str, tuple[int, str]]:
    """Existing physical tables the migration alters -> (index, name) of the first operation that does."""
    out: dict[str, tuple[int, str]] = {}
    for op, ctx, _ in plan.ops:
        for name in op.tables():
            table = ctx.before.table(name)
            if table is not None and table.physical in plan.physical.tables:
                out.setdefault(table.physical, (ctx.index, op.op_name))
    for op, ctx, op_plan in plan.ops:  # tables an operation rewrites beyond its own (a key's referencing tables)
        for transform in op_plan.transforms:
            if transform.table in plan.physical.tables:
                out.setdefault(transform.table, (ctx.index, op.op_name))
        for name in op_plan.alters:
            out.setdefault(name, (ctx.index, op.op_name))
    return out


def _not_owned(conn: psycopg.Connection, schema: str, tables: list[str]) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT c.relname, pg_get_userbyid(c.relowner), current_user FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = ANY(%s) "
        "AND NOT pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY 1",
        (schema, tables),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def _schema_refusal(conn: psycopg.Connection) -> str | None:
    row = conn.execute(
        "SELECT current_user, current_database(), has_database_privilege(current_database(), 'CREATE'), "
        "(SELECT has_schema_privilege(n.oid, 'USAGE') AND has_schema_privilege(n.oid, 'CREATE') "
        "FROM pg_namespace n WHERE n.nspname = 'liveshift')"
    ).fetchone()
    assert row is not None
    user, database, may_create, internal_ok = row
    if not may_create:
        return (
            f"role {user} may not create schemas in database {database}, and liveshift creates the version "
            f"schemas: GRANT CREATE ON DATABASE {database} TO {user}"
        )
    if internal_ok is False:
        return f"role {user} may not use and create in schema liveshift (its internal state): grant it both, or own it"
    return None


def _rls_conflict(conn: psycopg.Connection, schema: str) -> str | None:
    """Row-level security the views cannot apply faithfully, or that would hide rows from the worker."""
    row = conn.execute(
        "SELECT c.relname, coalesce(r.rolname, 'PUBLIC') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute att ON att.attrelid = c.oid "
        "CROSS JOIN LATERAL aclexplode(att.attacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = %s AND c.relrowsecurity AND a.grantee <> c.relowner ORDER BY 1, 2 LIMIT 1",
        (schema,),
    ).fetchone()
    if row is not None:
        return (
            f"table {schema}.{row[0]} has row-level security and column grants (to {row[1]}): a view applies the "
            "policies only with the caller's rights, and then PostgreSQL checks every column it shows against "
            "the table, so that role could not use the versions; grant it the table, or give it a view of its own"
        )
    row = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relforcerowsecurity AND NOT (SELECT rolbypassrls OR rolsuper FROM pg_roles "
        "WHERE rolname = current_user) ORDER BY 1 LIMIT 1",
        (schema,),
    ).fetchone()
    if row is not None:
        return (
            f"table {schema}.{row[0]} forces row-level security on its owner: the backfill and verify would see "
            "only the rows the policies show the worker; give the worker's role BYPASSRLS for the migration"
        )
    return None


def check_schemas(conn: psycopg.Connection, file: str | None = None) -> None:
    """The connected role may create the version schemas and use liveshift's own (first: validation reads it)."""
    refusal = _schema_refusal(conn)
    if refusal is not None:
        raise SpecError(refusal, file=file, field="schema")


def _check_sees_activity(conn: psycopg.Connection, file: str | None) -> None:
    """The role must see how long other roles' transactions have been open (pg_stat_activity hides it from
    others): a step waits outside the lock queue while an old one holds a conflicting lock, and would otherwise
    take every holder for a young one and queue behind it (docs/privileges.md)."""
    row = conn.execute(
        "SELECT current_user, rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') FROM pg_roles "
        "WHERE rolname = current_user"
    ).fetchone()
    if row and not row[1]:
        raise SpecError(
            f"role {row[0]} cannot see other sessions' transactions in pg_stat_activity: a lock-taking step waits "
            "outside the lock queue while an old transaction holds a conflicting lock, and must see how long each "
            f"has been open: GRANT pg_read_all_stats TO {row[0]} (pg_monitor includes it)",
            file=file,
            field="schema",
        )


def check_worker(conn: psycopg.Connection, plan: MigrationPlan, file: str | None = None) -> None:
    """Refuse, naming what is missing, a migration the connected role could not carry out."""
    refusal = rls_refusal(conn.info.server_version, plan.schema, grants.rls_tables(conn, plan.schema))
    refusal = refusal or _rls_conflict(conn, plan.schema)
    if refusal is not None:
        raise SpecError(refusal, file=file, field="schema")
    touched = touched_tables(plan)
    _check_sees_activity(conn, file)
    for table, owner, user in _not_owned(conn, plan.schema, sorted(touched)):
        index, op_name = touched[table]
        raise SpecError(
            f"role {user} does not own table {plan.schema}.{table} (its owner is {owner}): the worker's role must "
            "own the tables it migrates (or be a member of their owner), as ALTER TABLE requires",
            file=file,
            index=index,
            op=op_name,
            field="table",
        )
