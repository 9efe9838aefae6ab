"""Unqualified names of the migration's schema in `up`/`down` resolve there, though the dual-write trigger runs
with `search_path = pg_catalog, pg_temp` (issue 20): an enum cast, a sub-select of another table, a function."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases
from liveshift.connections import open_session
from liveshift.store.record import load_record
from tests.harness.db import migration
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Scenario,
    Side,
    Table,
    count,
    each_step_twice_equals_once,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

TEAMS = Table(
    "teams",
    "id int PRIMARY KEY, name text NOT NULL",
    rows=3,
    values={"id": "g", "name": "'team ' || g"},
    then=(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE FUNCTION slugify(text) RETURNS text LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT lower(replace($1, ' ', '-')) $$",
    ),
)
PEOPLE = Table(
    "people",
    "id bigserial PRIMARY KEY, tag text, m mood NOT NULL DEFAULT 'ok', team_id int, title text",
    rows=300,
    values={
        "tag": "'t' || g",
        "m": "(ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood",
        "team_id": "1 + g % 3",
        "title": "'Title ' || g",
    },
)


def _write(m: str) -> Side:
    def write(c: psycopg.Connection, n: int) -> None:
        c.execute(
            "INSERT INTO people (tag, m, team_id, title) VALUES (%s, %s, %s, %s)", (f"w{n}", m, 1 + n % 3, f"W {n}")
        )

    def sees(c: psycopg.Connection, tags: list[int]) -> None:
        assert count(c, "SELECT count(*) FROM people WHERE tag = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)

    return Side(write, sees)


UNQUALIFIED = Scenario(
    tables=(TEAMS, PEOPLE),
    migration="""
name: people_unqualified
operations:
  - op: alter_column
    table: people
    column: m
    type: text
    down: m::mood
  - op: add_column
    table: people
    column: {name: team_name, type: text}
    up: (SELECT name FROM teams WHERE teams.id = team_id)
  - op: add_column
    table: people
    column: {name: slug, type: text}
    up: slugify(title)
""",
    plain="ALTER TABLE people ALTER COLUMN m TYPE text, ADD COLUMN team_name text, ADD COLUMN slug text",
    blue=_write("happy"),
    green=_write("sad"),
)


def test_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    every_phase(dsn, conn, UNQUALIFIED)
    # the rows that existed before expand were backfilled by the `up` expressions
    old = "SELECT count(*) FROM people WHERE tag LIKE 't%' AND "
    assert count(conn, old + "team_name IS DISTINCT FROM 'team ' || team_id") == 0
    assert count(conn, old + "slug IS DISTINCT FROM lower(replace(title, ' ', '-'))") == 0


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, UNQUALIFIED, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, UNQUALIFIED)


def test_every_phase_sees_the_names_prepare_qualified(dsn: str, conn: psycopg.Connection) -> None:
    """The plan of each later phase is computed from the names the stored snapshot recorded."""
    load_tables(conn, UNQUALIFIED.tables)
    m = migration(UNQUALIFIED.migration)
    with open_session(dsn) as c:
        prepared = [t.expression for t in phases.prepare(c, m).transforms]
        assert [t.expression for t in phases.plan_of(load_record(c, m.name)).transforms] == prepared
    assert prepared[1] == "CAST(m AS public.mood)"
    assert "FROM public.teams WHERE" in prepared[2] and prepared[3] == "public.slugify(title)"
