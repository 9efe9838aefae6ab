"""The grant logic of liveshift/privileges.py on hand-built catalogs and grant sets: pure, no database."""

from __future__ import annotations

from psycopg import sql

from liveshift.catalog import Catalog, Column, Table
from liveshift.plan import MigrationPlan, build_plan
from liveshift.preflight.privileges import rls_refusal
from liveshift.spec import parse_migration
from liveshift.versions.grants import (
    Grant,
    LiveState,
    column_sources,
    desired_view_grants,
    hidden_column_grants,
    invoker_rights,
    sync_statements,
    view_statements,
)


def accounts() -> Catalog:
    columns = [
        Column(name="id", type="bigint", nullable=False),
        Column(name="email", type="text", nullable=False),
        Column(name="name", type="text"),
    ]
    table = Table(name="accounts", columns=columns, primary_key=["id"])
    return Catalog(schema_name="public", tables={"accounts": table})


def plan(*ops: dict) -> MigrationPlan:
    return build_plan(parse_migration({"name": "m1", "operations": list(ops)}, file="m.yaml"), accounts(), None)


RENAME_THEN_RETYPE = (
    {"op": "rename_column", "table": "accounts", "column": "email", "to": "mail"},
    {"op": "alter_column", "table": "accounts", "column": "mail", "type": "varchar(100)"},
    {"op": "add_column", "table": "accounts", "column": {"name": "note", "type": "text"}},
    {"op": "rename_table", "table": "accounts", "to": "people"},
)
CLERK = {Grant("clerk", "SELECT", "email"), Grant("clerk", "UPDATE", "email"), Grant("clerk", "SELECT", "id")}


def text(statements: list[sql.Composable]) -> list[str]:
    return [s.as_string(None) for s in statements]


def test_a_column_is_traced_through_a_rename_a_type_change_and_a_table_rename() -> None:
    assert column_sources(plan(*RENAME_THEN_RETYPE)) == {
        "accounts": {"id": "id", "mail": "email", "name": "name", "note": None}
    }


def test_column_grants_land_on_the_renamed_view_column_and_on_the_hidden_column() -> None:
    p = plan(*RENAME_THEN_RETYPE)
    live = {"accounts": CLERK | {Grant("app", "SELECT"), Grant("app", "TRUNCATE")}}
    views = desired_view_grants(p, live)
    assert views[("public_m1", "people")] == {
        Grant("app", "SELECT"),  # TRUNCATE has no meaning through a view
        Grant("clerk", "SELECT", "mail"),
        Grant("clerk", "UPDATE", "mail"),
        Grant("clerk", "SELECT", "id"),
    }
    assert views[("public_base", "accounts")] == {Grant("app", "SELECT")} | CLERK
    assert hidden_column_grants(p, live) == {
        "accounts": {Grant("clerk", "SELECT", "_ls_new_mail"), Grant("clerk", "UPDATE", "_ls_new_mail")}
    }


def test_a_view_drops_what_the_table_lost_and_regrants_column_grants_a_table_revoke_takes() -> None:
    view = sql.Identifier("v", "t")
    current = {Grant("app", "SELECT"), Grant("app", "DELETE"), Grant(None, "SELECT")}
    desired = {Grant("app", "SELECT", "id"), Grant("app", "DELETE")}
    assert text(view_statements(view, desired, current)) == [
        'REVOKE SELECT ON TABLE "v"."t" FROM PUBLIC',
        'REVOKE SELECT ON TABLE "v"."t" FROM "app"',
        'GRANT SELECT ("id") ON TABLE "v"."t" TO "app"',
    ]
    assert view_statements(view, desired, desired) == []


def test_views_run_with_the_callers_rights_unless_a_role_holds_column_grants_and_there_is_no_rls() -> None:
    p = plan(*RENAME_THEN_RETYPE)
    state = LiveState({"accounts": CLERK}, set(), 160000, {}, None, {})
    assert not invoker_rights(state, "accounts")
    assert text(sync_statements(p, state))[:2] == [
        'ALTER VIEW "public_base"."accounts" SET (security_invoker = false)',
        'ALTER VIEW "public_m1"."people" SET (security_invoker = false)',
    ]
    assert invoker_rights(LiveState({"accounts": CLERK}, {"accounts"}, 160000, {}, None, {}), "accounts")
    assert invoker_rights(LiveState({"accounts": {Grant("app", "SELECT")}}, set(), 160000, {}, None, {}), "accounts")
    before_15 = LiveState({"accounts": CLERK}, set(), 140000, {}, None, {})
    assert not any("ALTER VIEW" in s for s in text(sync_statements(p, before_15)))


def test_row_level_security_before_postgresql_15_is_refused_naming_the_table() -> None:
    assert rls_refusal(140011, "public", ["docs"]) == (
        "table public.docs has row-level security, and PostgreSQL 14 cannot create version views that apply it "
        "(security_invoker needs PostgreSQL 15): upgrade the server, or migrate without liveshift"
    )
    assert rls_refusal(140011, "public", []) is None
    assert rls_refusal(150000, "public", ["docs"]) is None
