"""The catalog fingerprint and the drift report on real PostgreSQL: what the fingerprint ignores and what it
sees, the fingerprint recorded as a migration completes (and the store upgrade that adds its column), drift
across database-per-tenant and schema-per-tenant members after one is altered by hand."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from liveshift import phases
from liveshift.catalog.fingerprint import read_fingerprint
from liveshift.connections import open_session
from liveshift.fleet.drift import ObjectChange, changes, drift_report
from liveshift.fleet.members import Member, member_dsn
from liveshift.rehearsal.clone import client_binaries
from liveshift.store import record
from liveshift.store.schema import bootstrap
from tests.harness.db import complete, migration
from tests.harness.fleet import create_tenant_schema, many_databases
from tests.harness.postgres import PostgresServer

pytestmark = pytest.mark.integration

ADD_PHONE = """
name: {name}
schema: {schema}
operations:
  - {{op: add_column, table: accounts, column: {{name: phone, type: text, nullable: true}}}}
"""
INDEX_PLAN = """
name: {name}
schema: {schema}
operations:
  - {{op: create_index, name: accounts_plan_idx, table: accounts, columns: [plan]}}
"""


def run(dsn: str, template: str, name: str, schema: str = "public") -> None:
    complete(dsn, migration(template.format(name=name, schema=schema)))


@pytest.fixture
def three_databases(pg_server: PostgresServer) -> Iterator[list[str]]:
    with many_databases(pg_server, 3) as names:
        yield [pg_server.dsn(name) for name in names]


def test_the_fingerprint_is_stable_and_ignores_names_order_and_oids(conn: psycopg.Connection, dsn: str) -> None:
    create_tenant_schema(conn, "tenant_a")
    first = read_fingerprint(conn, "tenant_a")
    assert first == read_fingerprint(conn, "tenant_a")
    kinds = {key.split(" ")[0] for key in first}
    assert kinds == {"table", "column", "constraint", "index", "view", "sequence", "function", "trigger", "policy"}
    # recreated as a restore would, in another schema: new OIDs, other names in the definitions' schema
    create_tenant_schema(conn, "tenant_b")
    assert read_fingerprint(conn, "tenant_b") == first
    # physical order noise: a dropped column, the others added in another order
    conn.execute("ALTER TABLE tenant_b.accounts DROP COLUMN plan CASCADE, DROP COLUMN created_at")  # view, index
    conn.execute("ALTER TABLE tenant_b.accounts ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()")
    conn.execute("ALTER TABLE tenant_b.accounts ADD COLUMN plan text NOT NULL DEFAULT 'free'")
    conn.execute(
        "CREATE OR REPLACE VIEW tenant_b.paying AS SELECT id, email FROM tenant_b.accounts WHERE plan <> 'free'"
    )
    conn.execute("CREATE INDEX accounts_created_idx ON tenant_b.accounts (created_at)")  # dropped with the column
    assert changes(first, read_fingerprint(conn, "tenant_b")) == []
    # the caller's search_path is left as it was
    assert conn.execute("SHOW search_path").fetchone() == ('"$user", public',)


def test_the_fingerprint_survives_a_real_dump_and_restore(
    conn: psycopg.Connection, dsn: str, pg_server: PostgresServer, tmp_path: Path
) -> None:
    create_tenant_schema(conn)
    major = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()
    # the server's own pg_dump and pg_restore where the test set-up started it from a bindir (PostgreSQL 15)
    test_bindir = os.environ.get("LIVESHIFT_TEST_PG_BINDIR")
    bindir = Path(test_bindir) if test_bindir else client_binaries(major[0] if major else 0)
    archive = tmp_path / "schema.dump"
    subprocess.run([bindir / "pg_dump", "--schema-only", "-Fc", "-n", "public", "-f", archive, dsn], check=True)
    with many_databases(pg_server, 1, "restored") as (restored,):
        restored_dsn = pg_server.dsn(restored)
        subprocess.run(
            [bindir / "pg_restore", "--no-owner", "--clean", "--if-exists", "-d", restored_dsn, archive],
            check=True,
            capture_output=True,
        )
        with psycopg.connect(restored_dsn, autocommit=True) as other:
            assert changes(read_fingerprint(conn, "public"), read_fingerprint(other, "public")) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("ALTER TABLE s.accounts ALTER COLUMN plan SET DEFAULT 'trial'", [("column accounts.plan", "changed")]),
        ("CREATE INDEX accounts_email_idx ON s.accounts (email)", [("index accounts_email_idx", "added")]),
        (
            "CREATE OR REPLACE FUNCTION s.norm(e text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(e) $$",
            [("function norm(e text)", "changed")],
        ),
        ("ALTER TABLE s.invoices ALTER COLUMN total TYPE numeric(12, 2)", [("column invoices.total", "changed")]),
        ("DROP POLICY own_invoices ON s.invoices", [("policy invoices.own_invoices", "removed")]),
        ("ALTER TABLE s.accounts DISABLE TRIGGER accounts_touch", [("trigger accounts.accounts_touch", "changed")]),
    ],
)
def test_the_fingerprint_sees_each_change(conn: psycopg.Connection, statement: str, expected: list[tuple]) -> None:
    create_tenant_schema(conn, "s")
    before = read_fingerprint(conn, "s")
    conn.execute(statement)
    assert changes(before, read_fingerprint(conn, "s")) == [ObjectChange(object=o, change=c) for o, c in expected]


def test_an_install_from_before_fingerprints_gets_the_column(conn: psycopg.Connection, dsn: str) -> None:
    create_tenant_schema(conn)
    run(dsn, ADD_PHONE, "add_phone")
    conn.execute("ALTER TABLE liveshift.migrations DROP COLUMN fingerprint")  # as installs before this change
    report = drift_report([Member(key="app", target="app")], lambda m: open_session(dsn))
    assert report.members[0].state == "not_recorded"  # read as it is: the report creates nothing
    bootstrap(conn)
    last = record.last_completed(conn, "public")
    assert last is not None and last.name == "add_phone" and last.fingerprint is None
    run(dsn, INDEX_PLAN, "plan_idx")
    last = record.last_completed(conn, "public")
    assert last is not None and last.fingerprint == read_fingerprint(conn, "public")


def connector(dsns: dict[str, str]) -> Callable[[Member], AbstractContextManager[psycopg.Connection]]:
    def connect(member: Member) -> AbstractContextManager[psycopg.Connection]:
        return open_session(member_dsn(dsns[member.target], member))

    return connect


def test_drift_across_tenant_databases_names_the_member_and_objects(three_databases: list[str]) -> None:
    for dsn in three_databases:
        with psycopg.connect(dsn, autocommit=True) as conn:
            create_tenant_schema(conn)
        run(dsn, ADD_PHONE, "add_phone")
    for dsn in three_databases[:2]:
        run(dsn, INDEX_PLAN, "plan_idx")
    with psycopg.connect(three_databases[0], autocommit=True) as conn:  # by hand, behind liveshift's back
        conn.execute("ALTER TABLE accounts ALTER COLUMN plan SET DEFAULT 'trial'")
        conn.execute("CREATE INDEX accounts_phone_idx ON accounts (phone)")
    base = three_databases[0]
    names = [psycopg.conninfo.conninfo_to_dict(d)["dbname"] for d in three_databases]
    members = [Member(key=f"t/{n}", target="tenants", database=n) for n in [*names, "no_such_database"]]
    report = drift_report(members, connector({"tenants": base}))
    states = {m.key: m.state for m in report.members}
    assert states == {
        f"t/{names[0]}": "drifted",
        f"t/{names[1]}": "matches",
        f"t/{names[2]}": "matches",
        "t/no_such_database": "unreachable",
    }
    drifted = report.drifted()
    assert [m.key for m in drifted] == [f"t/{names[0]}"]
    assert [(c.object, c.change) for c in drifted[0].changes] == [
        ("column accounts.plan", "changed"),
        ("index accounts_phone_idx", "added"),
    ]
    assert drifted[0].changed_objects == 2
    groups = report.by_version()
    assert groups["plan_idx"] == [f"t/{names[0]}", f"t/{names[1]}"] and groups["add_phone"] == [f"t/{names[2]}"]
    assert "does not exist" in (report.members[3].error or "")
    matching = [m for m in report.members if m.state == "matches"]
    assert matching[0].fingerprint == matching[0].recorded


def test_drift_across_tenant_schemas_and_a_member_in_flight(conn: psycopg.Connection, dsn: str) -> None:
    for schema in ("tenant_1", "tenant_2", "tenant_3"):
        create_tenant_schema(conn, schema)
        run(dsn, ADD_PHONE, f"add_phone_{schema}", schema)
    conn.execute("ALTER TABLE tenant_2.accounts ADD COLUMN note text")
    with open_session(dsn) as session:  # tenant_3: a migration prepared, not finished
        phases.prepare(session, migration(INDEX_PLAN.format(name="idx_tenant_3", schema="tenant_3")))
    members = [Member(key=f"app/{s}", target="app", schema_name=s) for s in ("tenant_1", "tenant_2", "tenant_3")]
    report = drift_report(members, connector({"app": dsn}))
    assert [(m.key, m.state) for m in report.members] == [
        ("app/tenant_1", "matches"),
        ("app/tenant_2", "drifted"),
        ("app/tenant_3", "in_flight"),
    ]
    assert [(c.object, c.change) for c in report.members[1].changes] == [("column accounts.note", "added")]
    assert report.members[2].in_flight == ["idx_tenant_3"]
    assert conn.execute(
        sql.SQL("SELECT count(*) FROM liveshift.migrations WHERE fingerprint IS NOT NULL")
    ).fetchone() == (3,)
