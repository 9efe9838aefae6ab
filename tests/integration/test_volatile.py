"""Volatile expressions (issue 20): a `uuid DEFAULT gen_random_uuid()` column added without `up`, and volatile
`up`s, are assigned once per row, kept across later updates, and verified present rather than recomputed."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases
from liveshift.connections import open_session
from liveshift.expressions.volatility import read_volatile
from tests.harness.db import backfill_all, migration
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    Scenario,
    Side,
    Table,
    count,
    each_step_twice_equals_once,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

ROWS = 300
TOKENS = Table("tokens", "id bigserial PRIMARY KEY, tag text", rows=ROWS, values={"tag": "'t' || g"})


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO tokens (tag) VALUES (%s)", (f"w{n}",))


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM tokens WHERE tag = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)


VOLATILE = Scenario(
    tables=(TOKENS,),
    migration="""
name: tokens_volatile
operations:
  - op: add_column
    table: tokens
    column: {name: uid, type: uuid, nullable: false, unique: true, default: gen_random_uuid()}
  - op: add_column
    table: tokens
    column: {name: drawn, type: double precision}
    up: random()
  - op: add_column
    table: tokens
    column: {name: seen_at, type: timestamptz}
    up: "CASE WHEN id % 2 = 0 THEN clock_timestamp() END"
""",
    plain="ALTER TABLE tokens ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE, "
    "ADD COLUMN drawn double precision, ADD COLUMN seen_at timestamptz",
    blue=Side(_write, _sees),
    green=Side(_write, _sees),
)
DRAWN = "SELECT uid, drawn, seen_at FROM tokens WHERE id = %s"


def test_every_phase_assigns_once(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, VOLATILE) as run:
        run.through("backfill")
        before = run.green.execute(DRAWN, (6,)).fetchone()
        assert before is not None and None not in before
        run.blue.execute("UPDATE tokens SET tag = 'updated by blue' WHERE id = 6")  # no new draw
        assert run.green.execute(DRAWN, (6,)).fetchone() == before
        run.through("cutover")  # verify passes: present where the expression gives a value
        run.contract()
    assert count(conn, "SELECT count(DISTINCT uid) FROM tokens") == count(conn, "SELECT count(*) FROM tokens")
    assert count(conn, "SELECT count(*) FROM tokens WHERE id <= %s AND drawn IS NULL", ROWS) == 0
    assert count(conn, "SELECT count(*) FROM tokens WHERE id <= %s AND (seen_at IS NULL) <> (id %% 2 = 1)", ROWS) == 0


def test_verify_finds_a_missing_value(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, VOLATILE.tables)
    m = migration(VOLATILE.migration)
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    backfill_all(dsn, m.name)
    conn.execute("SET session_replication_role = replica")  # behind the trigger's back
    conn.execute("UPDATE tokens SET _ls_new_drawn = NULL WHERE id = 3")
    conn.execute("RESET session_replication_role")
    with open_session(dsn) as c:
        phases.validate_constraints(c, m.name)
        report = phases.verify(c, m.name)
    assert not report.ok and report.tables[0].mismatches == 1 and report.tables[0].sample_keys == [3]


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, VOLATILE, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, VOLATILE)


def test_volatility_is_the_catalog_s(conn: psycopg.Connection) -> None:
    conn.execute("CREATE FUNCTION next_code() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$")  # VOLATILE by default
    conn.execute("CREATE FUNCTION fixed_code() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$")
    expressions = [
        "gen_random_uuid()",
        "random() + now()::int",
        "lower(x) || public.fixed_code()",
        "public.next_code()",
    ]
    assert read_volatile(conn, expressions) == [
        ("pg_catalog", "gen_random_uuid"),
        ("pg_catalog", "random"),
        ("public", "next_code"),
    ]
