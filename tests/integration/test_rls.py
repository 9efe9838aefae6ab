"""Row-level security through the versions: on a multi-tenant table each tenant sees and changes only its own
rows through blue and green in every phase, and a write the policy's WITH CHECK refuses is refused."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors, sql

from liveshift import phases
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import as_role, migration
from tests.harness.scenario import BLUE, PHASES_BEFORE_CONTRACT, STEPS, contract, expand

pytestmark = pytest.mark.integration

GREEN = "public_docs_v2"
SETUP = """
CREATE TABLE docs (id bigserial PRIMARY KEY, tenant text NOT NULL DEFAULT current_user, title text NOT NULL);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON docs USING (tenant = current_user) WITH CHECK (tenant = current_user);
"""
MIGRATION = """
name: docs_v2
operations:
  - op: add_column
    table: docs
    column: {name: title_lower, type: text}
    up: lower(title)
  - op: rename_column
    table: docs
    column: title
    to: heading
"""
ROWS = {"a": 100, "b": 60}


def tenants(conn: psycopg.Connection, dsn: str, make_role: Callable[..., str]) -> dict[str, str]:
    """Two tenant roles with the table's privileges, and their rows (written by the owner, whom RLS lets by)."""
    conn.execute(SETUP)
    roles = {key: make_role(f"tenant_{key}", dsn) for key in ROWS}
    for key, role in roles.items():
        conn.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON docs TO {r}; GRANT USAGE ON SEQUENCE docs_id_seq TO {r}"
            ).format(r=sql.Identifier(role))
        )
        conn.execute(
            "INSERT INTO docs (tenant, title) SELECT %s, 'Doc ' || g FROM generate_series(1, %s) g", (role, ROWS[key])
        )
    return roles


def tenant_round(dsn: str, role: str, other: str, expected: int) -> None:
    """Through each version: only the tenant's rows, its writes land, the policy refuses the others'."""
    for version, title in ((BLUE, "title"), (GREEN, "heading")):
        column = sql.Identifier(title)
        with as_role(dsn, role, version) as app:
            assert app.execute("SELECT count(*) FROM docs").fetchone() == (expected,)
            assert app.execute("SELECT count(*) FROM docs WHERE tenant <> current_user").fetchone() == (0,)
            app.execute(sql.SQL("INSERT INTO docs ({}) VALUES ('Mine')").format(column))
            expected += 1
            with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
                app.execute(sql.SQL("INSERT INTO docs (tenant, {}) VALUES (%s, 'Theirs')").format(column), (other,))
            changed = app.execute(
                sql.SQL("UPDATE docs SET {c} = {c} || '!' WHERE tenant = %s").format(c=column), (other,)
            )
            assert changed.rowcount == 0
            assert app.execute("DELETE FROM docs WHERE tenant = %s", (other,)).rowcount == 0
            own = app.execute("SELECT min(id) FROM docs").fetchone()
            with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
                app.execute("UPDATE docs SET tenant = %s WHERE id = %s", (other, own[0] if own else None))


def test_each_tenant_sees_and_changes_only_its_rows_in_every_phase(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    roles = tenants(conn, dsn, make_role)
    m = migration(MIGRATION)
    written = dict.fromkeys(ROWS, 0)
    for phase in PHASES_BEFORE_CONTRACT:
        STEPS[phase](dsn, m)
        for key, other in (("a", "b"), ("b", "a")):
            tenant_round(dsn, roles[key], roles[other], ROWS[key] + written[key])
            written[key] += 2
    contract(dsn, m)
    for key, role in roles.items():
        with as_role(dsn, role, GREEN) as app:
            assert app.execute("SELECT count(*) FROM docs").fetchone() == (ROWS[key] + written[key],)
            assert app.execute("SELECT count(*) FROM docs WHERE title_lower = lower(heading)").fetchone() == (
                ROWS[key] + written[key] // 2,  # the backfilled rows and blue's: green wrote no title_lower
            )
    # the owner sees every row: no write lost, none moved to another tenant
    rows = conn.execute("SELECT tenant, count(*) FROM docs GROUP BY tenant ORDER BY 1").fetchall()
    assert sorted(rows) == sorted((roles[k], ROWS[k] + written[k]) for k in ROWS)


def test_views_of_a_table_with_row_level_security_run_with_the_callers_rights(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    tenants(conn, dsn, make_role)
    expand(dsn, migration(MIGRATION))
    options = conn.execute(
        "SELECT c.oid::regclass::text, c.reloptions FROM pg_class c WHERE c.relname = 'docs' AND c.relkind = 'v' "
        "ORDER BY 1"
    ).fetchall()
    assert options == [(f"{BLUE}.docs", ["security_invoker=true"]), (f"{GREEN}.docs", ["security_invoker=true"])]


def test_row_level_security_with_column_grants_is_refused(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    tenants(conn, dsn, make_role)
    auditor = make_role("auditor", dsn)
    conn.execute(sql.SQL("GRANT SELECT (id, tenant) ON docs TO {}").format(sql.Identifier(auditor)))
    with open_session(dsn) as c, pytest.raises(SpecError) as refused:
        phases.prepare(c, migration(MIGRATION), file="docs.yaml")
    assert str(refused.value).startswith(
        f"docs.yaml: field 'schema': table public.docs has row-level security and column grants (to {auditor})"
    )
    assert conn.execute("SELECT to_regnamespace('liveshift') IS NULL").fetchone() == (True,)
