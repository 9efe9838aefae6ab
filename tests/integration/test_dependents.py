"""Objects that read a changed column (issue 20): carried through contract, dropped on request, or refused at plan.

alter_column int -> bigint on a column read by a view, a view on that view, a function with a BEGIN ATOMIC
body, a policy, a trigger and a statistics object: every phase and rollback from each, through the scenario
harness. After contract each object answers with the right rows and equals what it was (definition, owner,
grants, comments; its column types are the new ones), or, where PostgreSQL allows the plain ALTER at all (the
statistics object), what the plain ALTER TABLE … TYPE leaves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from tests.harness.cli import liveshift
from tests.harness.db import migration, reference_schema
from tests.harness.postgres import PostgresServer
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    Scenario,
    Side,
    Table,
    advance,
    count,
    load_tables,
    same_side,
)

pytestmark = pytest.mark.integration

ROWS = 200
STATISTICS = (
    "CREATE STATISTICS users_stats (dependencies) ON id, score FROM users",
    "COMMENT ON STATISTICS users_stats IS 'id and score move together'",
)
USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL, score integer NOT NULL DEFAULT 0, name text",
    rows=ROWS,
    values={"email": "'u' || g || '@x.org'", "score": "g % 50", "name": "'User ' || g"},
    then=STATISTICS,
)
# what plain ALTER COLUMN … TYPE refuses (views, rules, policies, triggers, SQL-standard bodies): made after
# the tables, so the harness's plain reference (tables and statistics only) can run the plain ALTER
DEPENDENTS = """
CREATE VIEW user_scores WITH (security_barrier = true) AS SELECT id, score, name FROM users WHERE score >= 0;
COMMENT ON VIEW user_scores IS 'every user''s score';
COMMENT ON COLUMN user_scores.score IS 'the score';
CREATE VIEW top_scores AS SELECT id, score FROM user_scores WHERE score >= 40;
CREATE FUNCTION score_of(p_id bigint) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC SELECT score FROM users WHERE id = p_id; END;
COMMENT ON FUNCTION score_of(bigint) IS 'one user''s score';
CREATE POLICY non_negative ON users USING (score >= 0) WITH CHECK (score < 1000000);
COMMENT ON POLICY non_negative ON users IS 'scores are never negative';
CREATE FUNCTION note_score() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN NEW.name := 'score was ' || OLD.score; RETURN NEW; END$$;
CREATE TRIGGER score_changed BEFORE UPDATE OF score ON users FOR EACH ROW
WHEN (OLD.score IS DISTINCT FROM NEW.score) EXECUTE FUNCTION note_score();
COMMENT ON TRIGGER score_changed ON users IS 'keeps the old score in name';
"""
GRANTS = (
    "GRANT SELECT ON user_scores, top_scores TO {r}",
    "GRANT SELECT (id) ON user_scores TO {r}",
    "GRANT EXECUTE ON FUNCTION score_of(bigint) TO {r}",
)


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO users (email, score) VALUES (%s, %s)", (f"w{n}@x.org", n % 50))


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM users WHERE email = ANY(%s)", [f"w{t}@x.org" for t in tags]) == len(tags)


SCORE_BIGINT = Scenario(
    tables=(USERS,),
    migration="""
name: users_score_bigint
operations:
  - {op: alter_column, table: users, column: score, type: bigint}
""",
    plain="ALTER TABLE users ALTER COLUMN score TYPE bigint",
    blue=Side(_write, _sees),
    green=Side(_write, _sees),
)


def _rows(c: psycopg.Connection, query: str) -> list[tuple[Any, ...]]:
    return c.execute(query).fetchall()


def _acl(column: str) -> str:
    return f"(SELECT coalesce(array_agg(x::text ORDER BY x::text), '{{}}') FROM unnest({column}) x)"


def dependents_snapshot(c: psycopg.Connection, schema: str = "public") -> dict[str, Any]:
    """The dependents as PostgreSQL prints them: definitions, owners, grants, comments, options, types."""
    p = (schema,)
    views = f"""
        SELECT c.relname, pg_get_viewdef(c.oid), c.reloptions, c.relowner::regrole::text, {_acl("c.relacl")},
               obj_description(c.oid, 'pg_class'),
               (SELECT array_agg(ARRAY[a.attname, format_type(a.atttypid, a.atttypmod),
                                       coalesce(col_description(c.oid, a.attnum), ''), {_acl("a.attacl")}::text]
                                 ORDER BY a.attnum)
                FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0)
        FROM pg_class c WHERE c.relnamespace = %s::regnamespace AND c.relkind = 'v' ORDER BY 1"""
    functions = f"""
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), p.proowner::regrole::text, {_acl("p.proacl")},
               obj_description(p.oid, 'pg_proc')
        FROM pg_proc p WHERE p.pronamespace = %s::regnamespace ORDER BY 1"""
    policies = """
        SELECT polname, polcmd, polpermissive, polroles::regrole[]::text, pg_get_expr(polqual, polrelid),
               pg_get_expr(polwithcheck, polrelid), obj_description(oid, 'pg_policy')
        FROM pg_policy WHERE polrelid = to_regclass(%s || '.users') ORDER BY 1"""
    triggers = """
        SELECT tgname, pg_get_triggerdef(oid), tgenabled, obj_description(oid, 'pg_trigger') FROM pg_trigger
        WHERE tgrelid = to_regclass(%s || '.users') AND NOT tgisinternal AND tgname NOT LIKE '\\_ls%%' ORDER BY 1"""
    statistics = """
        SELECT stxname, pg_get_statisticsobjdef(oid), stxowner::regrole::text, obj_description(oid, 'pg_statistic_ext')
        FROM pg_statistic_ext WHERE stxnamespace = %s::regnamespace ORDER BY 1"""
    out = {}
    for name, query in (("views", views), ("functions", functions), ("policies", policies), ("triggers", triggers)):
        out[name] = [list(r) for r in c.execute(query, p).fetchall()]
    out["statistics"] = [list(r) for r in c.execute(statistics, p).fetchall()]
    return out


def _oids(c: psycopg.Connection) -> list[Any]:
    return _rows(
        c,
        "SELECT 'user_scores'::regclass::oid, 'top_scores'::regclass::oid, 'score_of(bigint)'::regprocedure::oid, "
        "(SELECT oid FROM pg_policy WHERE polname = 'non_negative'), "
        "(SELECT oid FROM pg_trigger WHERE tgname = 'score_changed'), "
        "(SELECT oid FROM pg_statistic_ext WHERE stxname = 'users_stats')",
    )


def _answers(c: psycopg.Connection) -> None:
    """Each dependent gives the rows it gave over the table as it is."""
    expected = _rows(c, "SELECT count(*), sum(score) FROM users WHERE score >= 0")
    assert _rows(c, "SELECT count(*), sum(score) FROM user_scores") == expected
    assert _rows(c, "SELECT count(*) FROM top_scores") == _rows(c, "SELECT count(*) FROM users WHERE score >= 40")
    assert _rows(c, "SELECT score_of(7)") == _rows(c, "SELECT score::bigint FROM users WHERE id = 7")


def _as_before(before: dict[str, Any]) -> dict[str, Any]:
    """`before` with the changed column's types as the migration leaves them (integer -> bigint)."""
    out = {k: [list(r) for r in v] for k, v in before.items()}
    for view in out["views"]:
        view[6] = [[n, "bigint" if n == "score" else t, *rest] for n, t, *rest in view[6]]
    return out


def _create_dependents(c: psycopg.Connection, app: str | None) -> None:
    c.execute(DEPENDENTS)
    for grant in GRANTS if app else ():
        c.execute(sql.SQL(grant).format(r=sql.Identifier(app)))


def test_alter_type_carries_every_dependent(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, SCORE_BIGINT) as run:
        _create_dependents(conn, run.user)
        before = dependents_snapshot(conn)
        for phase in PHASES_BEFORE_CONTRACT:
            run.through(phase)
            _answers(conn)  # blue and green have written through their versions; the objects read the old column
        run.contract()
        after = dependents_snapshot(conn)
        assert after == _as_before(before)
        _answers(conn)
        assert _rows(
            conn,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
            "'user_scores'::regclass AND attname = 'score'",
        ) == [("bigint",)]
        conn.execute("UPDATE users SET score = 3000000000 WHERE id = 7")  # past integer: the trigger fires
        assert _rows(conn, "SELECT name, score_of(7) FROM users WHERE id = 7") == [("score was 7", 3000000000)]
        app = psycopg.connect(dsn, user=run.user, autocommit=True)
        with app:  # the grants came back: the application role reads the rebuilt views and calls the function
            assert _rows(app, "SELECT count(*) FROM top_scores") == _rows(
                conn, "SELECT count(*) FROM users WHERE score >= 40"
            )
            assert _rows(app, "SELECT public.score_of(7)") == [(3000000000,)]


def test_statistics_equal_the_plain_alter(dsn: str, conn: psycopg.Connection) -> None:
    """The one dependent the plain ALTER keeps: the same definition, owner and comment either way."""
    with Run(dsn, conn, SCORE_BIGINT) as run:
        run.through("cutover")
        run.contract()
    ours = dependents_snapshot(conn)["statistics"]
    with reference_schema(conn) as schema:
        conn.execute(USERS.create())
        conn.execute(SCORE_BIGINT.plain)
        plain = dependents_snapshot(conn, schema)["statistics"]
    assert ours and [[r[0], r[1].replace(f"{schema}.", ""), *r[2:]] for r in plain] == [
        [r[0], r[1].replace("public.", ""), *r[2:]] for r in ours
    ]


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_leaves_them_untouched(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    with Run(dsn, conn, SCORE_BIGINT) as run:
        _create_dependents(conn, run.user)
        before, oids = dependents_snapshot(conn), _oids(conn)
        run.through(stop_after)
        run.rollback()
        assert dependents_snapshot(conn) == before
        assert _oids(conn) == oids  # not rebuilt: the very same objects
        _answers(conn)


def test_contract_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, SCORE_BIGINT.tables)
    _create_dependents(conn, None)
    m = SCORE_BIGINT.m
    advance(dsn, m, "cutover")
    with open_session(dsn) as c:
        phases.contract(c, m.name)
        once, oids = dependents_snapshot(c), _oids(c)
        phases.contract(c, m.name)
        assert (dependents_snapshot(c), _oids(c)) == (once, oids)


# -- dropping a column: refused, or dropped at contract when the file asks ---------------------------------

PLAIN_USERS = Table(
    "users",
    "id bigserial PRIMARY KEY, email text NOT NULL, legacy integer, score integer",
    rows=50,
    values={"email": "'u' || g || '@x.org'", "legacy": "g", "score": "g"},
    then=(
        "CREATE VIEW legacy_report AS SELECT id, legacy FROM users",
        "CREATE VIEW legacy_top AS SELECT id FROM legacy_report WHERE legacy > 10",
        "CREATE FUNCTION legacy_of(p bigint) RETURNS integer LANGUAGE sql BEGIN ATOMIC "
        "SELECT legacy FROM users WHERE id = p; END",
    ),
)


def _drop_legacy(extra: str = "") -> Scenario:
    blue, green = same_side(_write, _sees)
    return Scenario(
        tables=(PLAIN_USERS,),
        migration=f"name: users_drop_legacy\noperations:\n  - {{op: drop_column, table: users, column: legacy{extra}}}",
        plain="DROP VIEW legacy_top; DROP VIEW legacy_report; DROP FUNCTION legacy_of(bigint); "
        "ALTER TABLE users DROP COLUMN legacy",
        blue=blue,
        green=green,
    )


def test_drop_column_with_dependents_is_refused(conn: psycopg.Connection) -> None:
    load_tables(conn, (PLAIN_USERS,))
    with pytest.raises(SpecError) as err:
        preflight.validate(conn, _drop_legacy().m, file="drop.yaml")
    message = str(err.value)
    assert message.startswith("drop.yaml: operations[0] (drop_column): field 'column': ")
    assert "function public.legacy_of(bigint)" in message and "drop_dependents: true" in message


def test_drop_dependents_drops_them_at_contract(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, _drop_legacy(", drop_dependents: true")) as run:
        run.through("cutover")
        assert _rows(conn, "SELECT count(*) FROM legacy_top") == [(40,)]  # untouched until contract
        run.contract()
    assert _rows(conn, "SELECT to_regclass('legacy_report'), to_regclass('legacy_top')") == [(None, None)]
    assert _rows(conn, "SELECT to_regprocedure('legacy_of(bigint)')") == [(None,)]


@pytest.mark.parametrize("stop_after", ["expand", "cutover"])
def test_drop_dependents_rollback_restores_everything(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    with Run(dsn, conn, _drop_legacy(", drop_dependents: true")) as run:
        before = dependents_snapshot(conn)
        run.through(stop_after)
        run.rollback()
        assert dependents_snapshot(conn) == before  # grants to the application role too
        assert _rows(conn, "SELECT count(*) FROM legacy_top") == [(40,)]


# -- refused at plan, naming the object and the way out ----------------------------------------------------

REFUSALS = [
    pytest.param(
        "CREATE MATERIALIZED VIEW score_totals AS SELECT sum(score) FROM users",
        "{op: alter_column, table: users, column: score, type: bigint}",
        "materialized view public.score_totals reads public.users.score, which alter_column (operation 0) replaces",
        id="materialized_view",
    ),
    pytest.param(
        "CREATE VIEW v AS SELECT id, score FROM users; CREATE MATERIALIZED VIEW mv AS SELECT * FROM v",
        "{op: alter_column, table: users, column: score, type: bigint}",
        "materialized view public.mv reads view public.v, which is rebuilt",
        id="materialized_view_on_a_rebuilt_view",
    ),
    pytest.param(
        "CREATE VIEW v AS SELECT id, score FROM users; "
        "CREATE FUNCTION f(r v) RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
        "{op: alter_column, table: users, column: score, type: bigint}",
        "function public.f(public.v) reads view public.v, which is rebuilt, through its row type",
        id="row_type_of_a_rebuilt_view",
    ),
    pytest.param(
        "CREATE PUBLICATION ls_pub FOR TABLE users (id, score)",
        "{op: alter_column, table: users, column: score, type: bigint}",
        "publication of table public.users in publication ls_pub reads public.users.score, which alter_column",
        id="publication_column_list",
    ),
    pytest.param(
        "CREATE VIEW v AS SELECT id FROM users",
        "{op: drop_table, table: users}",
        "view public.v reads public.users, which drop_table (operation 0) drops",
        id="drop_table",
    ),
]


@pytest.mark.parametrize(("setup", "op", "message"), REFUSALS)
def test_refused_at_plan(conn: psycopg.Connection, setup: str, op: str, message: str) -> None:
    load_tables(conn, (PLAIN_USERS,))
    conn.execute(setup)
    with pytest.raises(SpecError) as err:
        preflight.validate(conn, migration(f"name: refused\noperations:\n  - {op}"), file="m.yaml")
    assert message in str(err.value)
    assert "drop it before this migration" in str(err.value)


# -- liveshift plan lists them ------------------------------------------------------------------------------


def test_plan_lists_every_dependent_and_its_fate(dsn: str, conn: psycopg.Connection, tmp_path: Path) -> None:
    load_tables(conn, SCORE_BIGINT.tables)
    _create_dependents(conn, None)
    conn.execute("CREATE VIEW user_names AS SELECT id, name FROM users")  # reads no changed column: not listed
    path = tmp_path / "m.yaml"
    path.write_text(SCORE_BIGINT.migration)
    result = liveshift("plan", str(path), "--dsn", dsn, "--json")
    assert result.returncode == 0, result.stderr
    listed = {d["object"]: (d["kind"], d["action"]) for d in json.loads(result.stdout)["dependents"]}
    assert listed == {
        "view public.user_scores": ("view", "rebuilt"),
        "view public.top_scores": ("view", "rebuilt"),
        "function public.score_of(bigint)": ("function", "rebound"),
        "policy non_negative on table public.users": ("policy", "rebound"),
        "trigger score_changed on table public.users": ("trigger", "rebuilt"),
        "statistics object public.users_stats": ("statistics", "rebuilt"),
    }
    text = liveshift("plan", str(path), "--dsn", dsn).stdout
    assert "\ndependents (6 objects that read what contract drops or renames)" in text
    assert "  view public.top_scores: dropped and built again from its saved definition over the new shape" in text
    contract = text[text.index("\ncontract (") : text.index("\nrollback (")]
    assert "on users with what reads them, in one transaction: " in contract
    assert (
        contract.index('DROP VIEW IF EXISTS "public"."top_scores"')
        < contract.index('ALTER TABLE "public"."users" DROP COLUMN IF EXISTS "score"')
        < contract.index('CREATE VIEW "public"."user_scores"')
        < contract.index('CREATE VIEW "public"."top_scores"')
    )


def test_a_dependent_the_worker_cannot_act_for_is_refused(
    owner_dsn: str, make_role: Callable[..., str], pg_server: PostgresServer
) -> None:
    """The worker must be able to build an object again as its owner; a non-member is refused before expand."""
    other = make_role("ls_other", owner_dsn)
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        load_tables(owner, (PLAIN_USERS,))
        database = owner.info.dbname
    admin = psycopg.conninfo.make_conninfo(pg_server.admin_dsn, dbname=database)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(
            sql.SQL("CREATE VIEW scores AS SELECT id, score FROM users; ALTER VIEW scores OWNER TO {}").format(
                sql.Identifier(other)
            )
        )
    with psycopg.connect(owner_dsn, autocommit=True) as owner, pytest.raises(SpecError) as err:
        preflight.validate(owner, migration(SCORE_BIGINT.migration), file="m.yaml")
    assert str(err.value).startswith("m.yaml: operations[0] (alter_column): field 'column': view public.scores ")
    assert f"is not a member of its owner {other}" in str(err.value)
