"""Privileges follow the table: every role's grants on a migrated table, copied onto its version views.

A role that may use a table gets, on that table's view in each version schema, the same table-level
and column-level privileges (columns mapped through renames; a column whose type changes keeps its
grants; a new column is covered by table-level grants only, as ALTER TABLE ADD COLUMN would leave it),
USAGE on the version schemas, and the right to ask `liveshift.version_for`. Views run with the caller's
rights (security_invoker), so a column green stores in a hidden column needs the role's column grants
on that hidden column too: those are copied onto the physical table, where they stay when contract
gives the hidden column its name, just as a plain ALTER COLUMN TYPE keeps them.

The grants are synchronised, not only created: after expand, and again at verify, cutover and before
contract, so a grant or revoke on the table while the migration is in flight reaches the views.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from liveshift.catalog import Catalog, Table
from liveshift.plan import MigrationPlan
from liveshift.versions.schemas import SECURITY_INVOKER_SINCE

# what a role can do through an automatically updatable view, table-wide and per column
VIEW_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
VIEW_COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE")


@dataclass(frozen=True, order=True)
class Grant:
    """One privilege of one role (None: PUBLIC) on a relation, or on one of its columns (column set)."""

    grantee: str | None
    privilege: str
    column: str | None = None

    def sort_key(self) -> tuple[str, str, str]:
        return (self.grantee or "", self.privilege, self.column or "")


Grants = dict[str, set[Grant]]  # relation name -> its grants (the owner's own rights left out)

_GRANTS = """
SELECT c.relname, NULL::text, r.rolname, a.privilege_type
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v') AND a.grantee <> c.relowner
UNION ALL
SELECT c.relname, att.attname, r.rolname, a.privilege_type
FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(att.attacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v') AND att.attnum > 0 AND NOT att.attisdropped
    AND a.grantee <> c.relowner
"""


def read_grants(conn: psycopg.Connection, schema: str) -> Grants:
    """The grants on the tables and views of `schema`, from their ACLs (grantee 0 is PUBLIC)."""
    out: Grants = {}
    for relation, column, grantee, privilege in conn.execute(_GRANTS, {"schema": schema}):
        out.setdefault(relation, set()).add(Grant(grantee, privilege, column))
    return out


def column_sources(plan: MigrationPlan) -> dict[str, dict[str, str | None]]:
    """For each final table (by physical name), each logical column's source: the physical column it
    was before the migration (followed through renames and type changes), or None for a new one."""
    state: dict[str, dict[str, str | None]] = {
        t.name: {c.name: c.name for c in t.columns} for t in plan.physical.tables.values()
    }
    for _, ctx, _ in plan.ops:
        state = {t.physical: _sources_after(ctx.before, t, state) for t in ctx.after.tables.values()}
    return state


def _sources_after(before: Catalog, table: Table, state: dict[str, dict[str, str | None]]) -> dict[str, str | None]:
    """One operation's step: a column keeps the source of the column stored where it is stored, else of the
    column of its name before (a type change moves it to a hidden column), else it is new."""
    previous = next((t for t in before.tables.values() if t.physical == table.physical), None)
    if previous is None:
        return {c.name: None for c in table.columns}
    sources = state.get(table.physical, {})
    out: dict[str, str | None] = {}
    for column in table.columns:
        same_storage = next((c for c in previous.columns if c.physical == column.physical), None)
        ancestor = same_storage or previous.column(column.name)
        out[column.name] = sources.get(ancestor.name) if ancestor else None
    return out


def _column_grants(table_grants: set[Grant], source: str | None, privileges: tuple[str, ...] | None) -> set[Grant]:
    return {
        g
        for g in table_grants
        if source is not None and g.column == source and (privileges is None or g.privilege in privileges)
    }


def desired_view_grants(plan: MigrationPlan, live: Grants) -> dict[tuple[str, str], set[Grant]]:
    """(version schema, view) -> the grants its view should carry, from the live grants on the tables."""
    sources = column_sources(plan)
    out: dict[tuple[str, str], set[Grant]] = {}
    versions: list[tuple[str, Catalog, bool]] = [(plan.blue, plan.physical, False), (plan.green, plan.final, True)]
    for version, catalog, is_final in versions:
        for table in catalog.tables.values():
            grants = live.get(table.physical, set())
            wanted = {g for g in grants if g.column is None and g.privilege in VIEW_PRIVILEGES}
            for column in table.columns:
                source = sources.get(table.physical, {}).get(column.name) if is_final else column.name
                for g in _column_grants(grants, source, VIEW_COLUMN_PRIVILEGES):
                    wanted.add(Grant(g.grantee, g.privilege, column.name))
            out[(version, table.name)] = wanted
    return out


def hidden_column_grants(plan: MigrationPlan, live: Grants) -> dict[str, set[Grant]]:
    """Physical table -> column grants its hidden columns need: those of the column each one replaces."""
    sources = column_sources(plan)
    out: dict[str, set[Grant]] = {}
    for table in plan.final.tables.values():
        before = plan.physical.tables.get(table.physical)
        if before is None:
            continue
        grants = live.get(table.physical, set())
        for column in table.columns:
            if before.column(column.physical) is not None:
                continue
            source = sources.get(table.physical, {}).get(column.name)
            for g in _column_grants(grants, source, None):
                out.setdefault(table.physical, set()).add(Grant(g.grantee, g.privilege, column.physical))
    return out


def _grantee(grant: Grant) -> sql.Composable:
    return sql.SQL("PUBLIC") if grant.grantee is None else sql.Identifier(grant.grantee)


def _privilege(grant: Grant) -> sql.Composable:
    # the privilege is one of the fixed keywords aclexplode reports, never user input
    if grant.column is None:
        return sql.SQL(grant.privilege)
    return sql.SQL("{} ({})").format(sql.SQL(grant.privilege), sql.Identifier(grant.column))


def grant_sql(grant: Grant, relation: sql.Identifier) -> sql.Composable:
    return sql.SQL("GRANT {} ON TABLE {} TO {}").format(_privilege(grant), relation, _grantee(grant))


def revoke_sql(grant: Grant, relation: sql.Identifier) -> sql.Composable:
    return sql.SQL("REVOKE {} ON TABLE {} FROM {}").format(_privilege(grant), relation, _grantee(grant))


def view_statements(view: sql.Identifier, desired: set[Grant], current: set[Grant]) -> list[sql.Composable]:
    """Make the view's grants `desired`: revoke the others, grant what is missing. A table-wide revoke takes
    the role's column grants of that privilege with it, so those are granted again."""
    revoked = current - desired
    table_wide = {(g.grantee, g.privilege) for g in revoked if g.column is None}
    granted = {g for g in desired if g not in current or (g.grantee, g.privilege) in table_wide}
    return [revoke_sql(g, view) for g in sorted(revoked, key=Grant.sort_key)] + [
        grant_sql(g, view) for g in sorted(granted, key=Grant.sort_key)
    ]


def roles_of(plan: MigrationPlan, live: Grants) -> list[str | None]:
    """Every role holding a privilege on a table the versions show (None: PUBLIC): blue's tables, and green's,
    among them a table the migration creates, which default privileges may grant to a role of its own."""
    tables = set(plan.physical.tables) | {t.physical for t in plan.final.tables.values()}
    roles = {g.grantee for name in tables for g in live.get(name, set())}
    return sorted(roles, key=lambda r: r or "")


def usage_statements(plan: MigrationPlan, roles: list[str | None]) -> list[sql.Composable]:
    """USAGE on both version schemas and on `liveshift`, and EXECUTE on `liveshift.version_for`."""
    out: list[sql.Composable] = []
    for role in roles:
        grantee = _grantee(Grant(role, "USAGE"))
        schemas = sql.SQL(", ").join(sql.Identifier(s) for s in (plan.blue, plan.green, "liveshift"))
        out.append(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schemas, grantee))
        out.append(sql.SQL("GRANT EXECUTE ON FUNCTION liveshift.version_for(text, text) TO {}").format(grantee))
    return out


@dataclass
class LiveState:
    """What the synchronisation reads: the tables' grants and row-level security, and the versions' views."""

    grants: Grants
    rls: set[str]  # physical tables with row-level security enabled
    server_version: int
    view_grants: dict[tuple[str, str], set[Grant]]
    existing: set[tuple[str, str]] | None  # views that exist (None: all the plan creates)
    invoker: dict[tuple[str, str], bool]  # views' security_invoker now (missing: the true expand sets)


def invoker_rights(live: LiveState, table: str) -> bool:
    """Whether the views of `table` run with the caller's rights. PostgreSQL checks every column a view
    shows against the table for the caller, so a role with column grants could not use an invoker view:
    its views run with their owner's rights, their own column grants (the table's, copied) the gate.
    Row-level security needs the caller's rights (check_worker refuses it with column grants)."""
    return table in live.rls or not any(g.column is not None for g in live.grants.get(table, set()))


def _rights_statements(plan: MigrationPlan, live: LiveState) -> list[sql.Composable]:
    if live.server_version < SECURITY_INVOKER_SINCE:
        return []
    out: list[sql.Composable] = []
    for version, catalog in ((plan.blue, plan.physical), (plan.green, plan.final)):
        for table in catalog.tables.values():
            key, wanted = (version, table.name), invoker_rights(live, table.physical)
            if (live.existing is None or key in live.existing) and live.invoker.get(key, True) != wanted:
                out.append(
                    sql.SQL("ALTER VIEW {} SET (security_invoker = {})").format(
                        sql.Identifier(*key), sql.SQL("true" if wanted else "false")
                    )
                )
    return out


def sync_statements(plan: MigrationPlan, live: LiveState) -> list[sql.Composable]:
    """Everything that makes the versions' rights and grants follow the tables' now: first which rights the
    views run with (before any role may use a view through a new grant), then the grants."""
    out = _rights_statements(plan, live)
    for table, wanted in sorted(hidden_column_grants(plan, live.grants).items()):
        missing = wanted - live.grants.get(table, set())
        out += [grant_sql(g, sql.Identifier(plan.schema, table)) for g in sorted(missing, key=Grant.sort_key)]
    out += usage_statements(plan, roles_of(plan, live.grants))
    for key, wanted in sorted(desired_view_grants(plan, live.grants).items()):
        if live.existing is None or key in live.existing:
            out += view_statements(sql.Identifier(*key), wanted, live.view_grants.get(key, set()))
    return out


def _views(conn: psycopg.Connection, versions: list[str]) -> dict[tuple[str, str], bool]:
    """The views of `versions`, each with whether it runs with the caller's rights."""
    rows = conn.execute(
        "SELECT n.nspname, c.relname, coalesce(c.reloptions @> ARRAY['security_invoker=true'], false) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(%s) AND c.relkind = 'v'",
        (versions,),
    )
    return {(schema, name): invoker for schema, name, invoker in rows}


def _owners_elsewhere(conn: psycopg.Connection, schema: str) -> Grants:
    """A table's owner holds every privilege on it without a grant. When that is not the worker's role (the
    worker is a member of the owner), the views are the worker's: the owner role gets its rights on them."""
    rows = conn.execute(
        "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> current_user",
        (schema,),
    )
    return {table: {Grant(owner, p) for p in VIEW_PRIVILEGES} for table, owner in rows}


def read_state(conn: psycopg.Connection, plan: MigrationPlan, planning: bool = False) -> LiveState:
    """The live state; `planning`: before expand (every view the plan creates taken as about to exist)."""
    versions = [plan.blue] if planning else [plan.blue, plan.green]
    views = _views(conn, versions)
    grants = read_grants(conn, plan.schema)
    for table, owner in _owners_elsewhere(conn, plan.schema).items():
        grants[table] = grants.get(table, set()) | owner
    return LiveState(
        grants=grants,
        rls=set(rls_tables(conn, plan.schema)),
        server_version=conn.info.server_version,
        view_grants={(v, name): grants for v in versions for name, grants in read_grants(conn, v).items()},
        existing=None if planning else set(views),
        invoker=views,
    )


def planned_statements(conn: psycopg.Connection, plan: MigrationPlan) -> list[sql.Composable]:
    """What expand's synchronisation would run now (reads only): what `liveshift plan` lists."""
    return sync_statements(plan, read_state(conn, plan, planning=True))


def sync(conn: psycopg.Connection, plan: MigrationPlan, lock_timeout_ms: int = 2000) -> list[str]:
    """Bring the versions' rights and grants in line with the tables' now, in one transaction; returns what
    ran. Changing a view's rights locks it: a bounded wait, so application queries never queue behind it."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
        statements = sync_statements(plan, read_state(conn, plan))
        for statement in statements:
            conn.execute(statement)
    return [s.as_string(conn) for s in statements]


def rls_tables(conn: psycopg.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relrowsecurity ORDER BY 1",
        (schema,),
    )
    return [r[0] for r in rows]
