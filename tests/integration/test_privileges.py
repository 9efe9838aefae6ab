"""Privileges follow the table: application roles holding only their table privileges use blue and green in
every phase; column grants survive renames and type changes; grants made in flight reach the views; no
version a role cannot use is silently replaced by the physical table; liveshift's functions are pinned."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors, sql

from liveshift import phases, preflight
from liveshift.cli.commands.plan import plan_json
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.db import as_role, migration, reference_schema
from tests.harness.scenario import (
    BLUE,
    PHASES_BEFORE_CONTRACT,
    Run,
    Scenario,
    Side,
    Table,
    advance,
    blue_tags,
    contract,
    count,
    expand,
    load_tables,
)

pytestmark = pytest.mark.integration

GREEN = "public_accounts_v2"
ACCOUNTS = Table(
    "accounts",
    "id bigserial PRIMARY KEY, email text NOT NULL, name text, secret text",
    rows=200,
    values={"email": "'U' || g || '@X.org'", "name": "'n' || g", "secret": "'s'"},
)
# a new column, a rename, and a type change (green stores email in a hidden column until contract)
MIGRATION = f"""
name: {GREEN.removeprefix("public_")}
operations:
  - op: add_column
    table: accounts
    column: {{name: email_lower, type: text}}
    up: lower(email)
  - op: rename_column
    table: accounts
    column: name
    to: full_name
  - op: alter_column
    table: accounts
    column: email
    type: varchar(200)
"""
PLAIN = (
    "ALTER TABLE accounts ADD COLUMN email_lower text; ALTER TABLE accounts RENAME COLUMN name TO full_name; "
    "ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200)"
)


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    emails = [f"w{t}@x.org" for t in tags]
    assert count(c, "SELECT count(*) FROM accounts WHERE email = ANY(%s)", emails) == len(tags)


ACCOUNTS_V2 = Scenario(
    tables=(ACCOUNTS,),
    migration=MIGRATION,
    plain=PLAIN,
    blue=Side(lambda c, n: c.execute("INSERT INTO accounts (email, name) VALUES (%s, 'b')", (f"w{n}@x.org",)), _sees),
    green=Side(
        lambda c, n: c.execute("INSERT INTO accounts (email, full_name) VALUES (%s, 'g')", (f"w{n}@x.org",)), _sees
    ),
)


def grant_app(conn: psycopg.Connection, role: str) -> None:
    conn.execute(
        sql.SQL(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO {r}; GRANT USAGE ON SEQUENCE accounts_id_seq TO {r}"
        ).format(r=sql.Identifier(role))
    )


def grant_clerk(conn: psycopg.Connection, role: str) -> None:
    """Column grants only: may read id, email and name, and change email; never sees secret."""
    conn.execute(
        sql.SQL("GRANT SELECT (id, email, name), UPDATE (email) ON accounts TO {}").format(sql.Identifier(role))
    )


def acl(conn: psycopg.Connection, relation: str) -> list[tuple[str, str, str]]:
    """(grantee, privilege, column or '') on `relation`, the owner's own rights left out."""
    rows = conn.execute(
        "SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type, '' FROM pg_class c, aclexplode(c.relacl) a "
        "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE c.oid = to_regclass(%(rel)s) AND a.grantee <> c.relowner "
        "UNION ALL SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type, att.attname FROM pg_attribute att "
        "JOIN pg_class c ON c.oid = att.attrelid, aclexplode(att.attacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE c.oid = to_regclass(%(rel)s) AND NOT att.attisdropped AND a.grantee <> c.relowner ORDER BY 1, 2, 3",
        {"rel": relation},
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def app_writes(blue: psycopg.Connection, green: psycopg.Connection, tag: str) -> None:
    """One insert, update and read through each version as the application role."""
    blue.execute("INSERT INTO accounts (email, name) VALUES (%s, 'blue')", (f"Blue-{tag}@X.org",))
    green.execute("INSERT INTO accounts (email, full_name) VALUES (%s, 'green')", (f"Green-{tag}@X.org",))
    blue.execute("UPDATE accounts SET name = %s WHERE id = 1", (f"b-{tag}",))
    assert green.execute("SELECT full_name, email_lower FROM accounts WHERE id = 1").fetchone() == (
        f"b-{tag}",
        "u1@x.org",
    )
    green.execute("UPDATE accounts SET full_name = %s WHERE id = 2", (f"g-{tag}",))
    assert blue.execute("SELECT name FROM accounts WHERE id = 2").fetchone() == (f"g-{tag}",)
    blue.execute("DELETE FROM accounts WHERE id = 300")  # no such row: DELETE is allowed, nothing goes


def test_application_role_uses_both_versions_in_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    """The harness's application role (only its table privileges) through a new column, a rename and a type
    change: its writes in every phase, read back through both versions, and each one kept."""
    with Run(dsn, conn, ACCOUNTS_V2, app_role=True) as run:
        for phase in PHASES_BEFORE_CONTRACT:
            run.through(phase)
            app_writes(run.blue, run.green, phase)
        writes = len(PHASES_BEFORE_CONTRACT)
        run.contract()
        green = run.green
        assert green.execute("SELECT current_user").fetchone() == (run.user,)
        green.execute("INSERT INTO accounts (email, full_name) VALUES ('After@X.org', 'after')")
        kept = green.execute("SELECT count(*) FROM accounts WHERE email LIKE 'Blue-%' OR email LIKE 'Green-%'")
        assert kept.fetchone() == (2 * writes,)
        assert count(green, "SELECT count(*) FROM accounts") == 200 + 2 * writes + len(run.acked) + 1
        # the rows blue wrote and the backfilled ones got the new column from `up` (green writes their own)
        rows = count(green, "SELECT count(*) FROM accounts WHERE email_lower = lower(email)")
        assert rows == 200 + writes + len(blue_tags(run.acked))


def test_column_grants_follow_renames_and_type_changes(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    load_tables(conn, ACCOUNTS_V2.tables)
    clerk = make_role("clerk", dsn)
    grant_clerk(conn, clerk)
    m = ACCOUNTS_V2.m
    expand(dsn, m)
    # green shows name as full_name and stores email in a hidden varchar column: the grants came along
    assert acl(conn, f"{GREEN}.accounts") == [
        (clerk, "SELECT", "email"),
        (clerk, "SELECT", "full_name"),
        (clerk, "SELECT", "id"),
        (clerk, "UPDATE", "email"),
    ]
    forbidden = {BLUE: ["secret"], GREEN: ["secret", "email_lower"]}
    for version, name in ((BLUE, "name"), (GREEN, "full_name")):
        with as_role(dsn, clerk, version) as app:
            app.execute("UPDATE accounts SET email = %s WHERE id = 3", (f"{version}@X.org",))
            read = sql.SQL("SELECT email, {} FROM accounts WHERE id = 3").format(sql.Identifier(name))
            assert app.execute(read).fetchone() == (f"{version}@X.org", "n3")
            for column in forbidden[version]:
                with pytest.raises(errors.InsufficientPrivilege):
                    app.execute(sql.SQL("SELECT {} FROM accounts").format(sql.Identifier(column)))
            with pytest.raises(errors.InsufficientPrivilege):
                app.execute(sql.SQL("UPDATE accounts SET {} = 'x' WHERE id = 3").format(sql.Identifier(name)))
    advance(dsn, m, "cutover", after="expand")
    contract(dsn, m)
    with as_role(dsn, clerk, GREEN) as app:
        assert app.execute("SELECT email FROM accounts WHERE id = 3").fetchone() == (f"{GREEN}@X.org",)
    # the physical table's grants are those the plain ALTERs leave
    reference = reference_acl(conn, clerk, grant_clerk)
    assert acl(conn, "public.accounts") == reference


def reference_acl(conn: psycopg.Connection, role: str, grant: Callable[[psycopg.Connection, str], None]) -> list:
    """The grants the plain ALTERs leave, on a copy of the table in a scratch schema."""
    with reference_schema(conn) as schema:
        conn.execute(ACCOUNTS_V2.setup(conn))
        grant(conn, role)
        conn.execute(PLAIN)
        return acl(conn, f"{schema}.accounts")


def test_grants_and_revokes_made_in_flight_reach_the_views_before_cutover(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    load_tables(conn, ACCOUNTS_V2.tables)
    app, late = make_role("app", dsn), make_role("late", dsn)
    grant_app(conn, app)
    m = ACCOUNTS_V2.m
    expand(dsn, m)
    conn.execute(sql.SQL("GRANT SELECT ON accounts TO {}").format(sql.Identifier(late)))
    conn.execute(sql.SQL("REVOKE DELETE ON accounts FROM {}").format(sql.Identifier(app)))
    # not synchronised yet: no USAGE on green, so no such table either
    with as_role(dsn, late, GREEN) as green, pytest.raises(errors.UndefinedTable):
        green.execute("SELECT count(*) FROM accounts")
    advance(dsn, m, "cutover", after="expand")
    with as_role(dsn, late, GREEN) as green, as_role(dsn, late, BLUE) as blue:
        assert green.execute("SELECT count(*) FROM accounts").fetchone() == (200,)
        assert blue.execute("SELECT count(*) FROM accounts").fetchone() == (200,)
        with pytest.raises(errors.InsufficientPrivilege):
            green.execute("DELETE FROM accounts WHERE id = 1")
    with as_role(dsn, app, GREEN) as green:
        with pytest.raises(errors.InsufficientPrivilege):
            green.execute("DELETE FROM accounts WHERE id = 1")
        green.execute("UPDATE accounts SET full_name = 'still' WHERE id = 1")


def test_plan_lists_the_grants(dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]) -> None:
    load_tables(conn, ACCOUNTS_V2.tables)
    app, clerk = make_role("app", dsn), make_role("clerk", dsn)
    grant_app(conn, app)
    grant_clerk(conn, clerk)
    with open_session(dsn) as c:
        grants = plan_json(preflight.validate(c, migration(MIGRATION)), c)["grants"]
    assert f'GRANT SELECT ON TABLE "{GREEN}"."accounts" TO "{app}"' in grants
    assert f'GRANT SELECT ("full_name") ON TABLE "{GREEN}"."accounts" TO "{clerk}"' in grants
    assert f'GRANT UPDATE ("_ls_new_email") ON TABLE "public"."accounts" TO "{clerk}"' in grants
    assert f'GRANT USAGE ON SCHEMA "{BLUE}", "{GREEN}", "liveshift" TO "{app}"' in grants
    assert f'GRANT EXECUTE ON FUNCTION liveshift.version_for(text, text) TO "{clerk}"' in grants
    assert not any("secret" in g or "email_lower" in g for g in grants if clerk in g)


def test_a_version_the_role_cannot_use_is_an_error_never_the_physical_table(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    load_tables(conn, ACCOUNTS_V2.tables)
    app = make_role("app", dsn)
    grant_app(conn, app)
    outsider = make_role("outsider", dsn)  # may use schema public (PUBLIC may), holds nothing on accounts
    expand(dsn, ACCOUNTS_V2.m)
    conn.execute(sql.SQL("GRANT SELECT ON accounts TO {}").format(sql.Identifier(outsider)))
    # the outsider may read the table now but not the versions (until the next synchronisation)
    with as_role(dsn, outsider, GREEN) as green:
        with pytest.raises(errors.UndefinedTable):
            green.execute("SELECT email_lower FROM accounts")
        with pytest.raises(errors.InsufficientPrivilege):  # and cannot even ask which version to use
            green.execute("SELECT liveshift.version_for('public')")
    # the application's documented check: the version it is told to use, and that it may use it
    with as_role(dsn, app, GREEN) as green:
        row = green.execute(
            "SELECT v, has_schema_privilege(v, 'USAGE') FROM liveshift.version_for('public') AS v"
        ).fetchone()
        assert row == (BLUE, True)


HOSTILE = """
CREATE TABLE people (id bigserial PRIMARY KEY, email varchar(100) NOT NULL);
INSERT INTO people (email) SELECT 'P' || g || '@X.org' FROM generate_series(1, 50) g;
CREATE SCHEMA evil;
-- an exact match for varchar: it wins over pg_catalog.lower(text) wherever evil is on the search_path
CREATE FUNCTION evil.lower(varchar) RETURNS text LANGUAGE sql AS $$ SELECT 'hijacked' $$;
"""


def test_a_hostile_function_on_the_application_search_path_does_not_change_the_trigger(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    conn.execute(HOSTILE)
    app = make_role("app", dsn)
    conn.execute(
        sql.SQL(
            "GRANT SELECT, INSERT, UPDATE ON people TO {r}; GRANT USAGE ON SEQUENCE people_id_seq TO {r}; "
            "GRANT USAGE ON SCHEMA evil TO {r}"
        ).format(r=sql.Identifier(app))
    )
    expand(
        dsn,
        migration(
            "name: people_lower\noperations:\n  - op: add_column\n    table: people\n"
            "    column: {name: email_lower, type: text}\n    up: lower(email)\n"
        ),
    )
    with as_role(dsn, app, f"{BLUE},evil") as blue:
        # the hostile function is in force in this session...
        assert blue.execute("SELECT lower(email) FROM people WHERE id = 1").fetchone() == ("hijacked",)
        blue.execute("INSERT INTO people (email) VALUES ('Blue@X.org')")
        blue.execute("UPDATE people SET email = 'Upd@X.org' WHERE id = 2")
    # ...and not in the trigger's
    assert conn.execute(
        "SELECT _ls_new_email_lower FROM people WHERE email IN ('Blue@X.org', 'Upd@X.org') ORDER BY id"
    ).fetchall() == [("upd@x.org",), ("blue@x.org",)]
    # use_version sets the caller's search_path for its transaction: a SET clause of its own would undo that at its
    # exit, so it has none and names everything by schema (pg_catalog.set_config, OPERATOR(pg_catalog.=), …)
    config = conn.execute(
        "SELECT DISTINCT proconfig FROM pg_proc WHERE pronamespace = 'liveshift'::regnamespace "
        "AND proname <> 'use_version'"
    ).fetchall()
    assert config == [(["search_path=pg_catalog, pg_temp"],)]  # the dual-write function and version_for


def test_an_unqualified_function_of_another_schema_in_up_is_refused(dsn: str, conn: psycopg.Connection) -> None:
    """One of the migration's own schema is qualified for the trigger (tests/integration/test_qualified_names.py);
    one the worker's session finds in another schema is refused."""
    conn.execute(HOSTILE)
    conn.execute("CREATE SCHEMA util")
    conn.execute("CREATE FUNCTION util.canonical_email(text) RETURNS text LANGUAGE sql AS $$ SELECT lower($1) $$")
    conn.execute("GRANT USAGE ON SCHEMA util TO PUBLIC")
    text = (
        "name: people_norm\noperations:\n  - op: add_column\n    table: people\n"
        "    column: {{name: email_norm, type: text}}\n    up: {}(email)\n"
    )
    with open_session(dsn, options="-c search_path=public,util") as c:
        with pytest.raises(SpecError) as refused:
            phases.prepare(c, migration(text.format("canonical_email")), file="norm.yaml")
        message = str(refused.value)
        assert message.startswith(
            "norm.yaml: operations[0] (add_column): field 'up': expression 'canonical_email(email)'"
        )
        assert "search_path = pg_catalog, pg_temp" in message and "schema-qualify" in message
        assert c.execute("SELECT to_regnamespace('liveshift') IS NULL").fetchone() == (True,)  # nothing written
        qualified = migration(text.format("util.canonical_email"))
        phases.prepare(c, qualified)
        phases.expand(c, qualified.name)
    conn.execute("SET search_path = public_base")
    conn.execute("INSERT INTO people (email) VALUES ('Mixed@Case.org')")
    conn.execute("RESET search_path")
    assert conn.execute("SELECT _ls_new_email_norm FROM people WHERE email = 'Mixed@Case.org'").fetchone() == (
        "mixed@case.org",
    )


def test_a_role_given_only_a_table_the_migration_creates_uses_it_through_green(
    dsn: str, conn: psycopg.Connection, make_role: Callable[..., str]
) -> None:
    """Default privileges give a new service's role the table create_table makes, and nothing else: the
    synchronisation gives it green too (USAGE, the view's grants), as the plain CREATE TABLE would."""
    load_tables(conn, ACCOUNTS_V2.tables)
    service = make_role("service", dsn)
    conn.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO {r}; "
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {r}"
        ).format(r=sql.Identifier(service))
    )
    m = migration(
        "name: notes\noperations:\n  - op: create_table\n    table: notes\n    columns:\n"
        "      - {name: id, type: bigserial, primary_key: true}\n      - {name: body, type: text}\n"
    )
    expand(dsn, m)
    with as_role(dsn, service, "public_notes") as green:
        green.execute("INSERT INTO notes (body) VALUES ('hello')")
        assert green.execute("SELECT body FROM notes").fetchall() == [("hello",)]
        with pytest.raises(errors.InsufficientPrivilege):
            green.execute("SELECT count(*) FROM accounts")
    advance(dsn, m, "cutover", after="expand")
    contract(dsn, m)
    with as_role(dsn, service, "public_notes") as green:
        assert green.execute("SELECT body FROM notes").fetchall() == [("hello",)]
