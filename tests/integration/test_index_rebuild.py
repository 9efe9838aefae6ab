"""alter_column rebuilds every index on the changed column with exactly the options it had (issue 20): after
contract each pg_get_indexdef equals what the plain `ALTER TABLE … TYPE` leaves (the harness compares them)."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import preflight
from liveshift.errors import SpecError
from tests.harness.db import migration, snapshot
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Scenario,
    Side,
    Table,
    count,
    every_phase,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

DOCS = Table(
    "docs",
    """id bigserial PRIMARY KEY, slug varchar(40), code varchar(10), title varchar(100), score int,
    tags varchar(20)[], body text""",
    rows=300,
    values={
        "slug": "'s-' || g",
        "code": "'k' || g",
        "title": "CASE WHEN g % 5 = 0 THEN NULL ELSE 'Title ' || g END",
        "score": "g % 17",
        "tags": "ARRAY['a' || g % 3, 'b']",
        "body": "'b' || g",
    },
    then=(
        # Django's `_like` index, and a varchar(n) -> varchar(m) change that keeps its operator class
        "CREATE INDEX docs_slug_like ON docs (slug varchar_pattern_ops)",
        "CREATE INDEX docs_code_like ON docs (code varchar_pattern_ops)",
        "CREATE UNIQUE INDEX docs_slug_uniq ON docs (slug) WITH (fillfactor = 80)",
        "CREATE INDEX docs_title_ff ON docs (title) WITH (fillfactor = 70)",
        "CREATE INDEX docs_score_incl ON docs (score) INCLUDE (title)",
        "CREATE INDEX docs_title_part ON docs (id) WHERE title <> '' AND title NOT LIKE '%s%%'",
        "CREATE INDEX docs_title_desc ON docs (title DESC NULLS LAST, id)",
        'CREATE INDEX docs_title_c ON docs (title COLLATE "C" text_pattern_ops)',
        "CREATE INDEX docs_title_hash ON docs USING hash (title)",
        "CREATE INDEX docs_tags_gin ON docs USING gin (tags) WITH (fastupdate = off)",
    ),
)


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "INSERT INTO docs (slug, code, title, tags, body) VALUES (%s, %s, %s, %s, %s)",
        (f"w-{n}", f"w{n}", f"T{n}", ["x", "y"], f"w{n}"),
    )


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM docs WHERE body = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)


REBUILD = Scenario(
    tables=(DOCS,),
    migration="""
name: docs_wider
operations:
  - op: alter_column
    table: docs
    column: slug
    type: text
  - op: alter_column
    table: docs
    column: code
    type: varchar(20)
  - op: alter_column
    table: docs
    column: title
    type: text
  - op: alter_column
    table: docs
    column: tags
    type: text[]
""",
    plain="ALTER TABLE docs ALTER COLUMN slug TYPE text, ALTER COLUMN code TYPE varchar(20), "
    "ALTER COLUMN title TYPE text, ALTER COLUMN tags TYPE text[]",
    blue=Side(_write, _sees),
    green=Side(_write, _sees),
)


def test_every_index_keeps_its_options(dsn: str, conn: psycopg.Connection) -> None:
    every_phase(dsn, conn, REBUILD)  # contract compares every pg_get_indexdef with the plain statement's
    definitions = dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'docs'").fetchall())
    assert "(slug varchar_pattern_ops)" in definitions["docs_slug_like"]
    assert "WITH (fillfactor='70')" in definitions["docs_title_ff"]
    assert "INCLUDE (title)" in definitions["docs_score_incl"]
    assert "(title DESC NULLS LAST, id)" in definitions["docs_title_desc"]
    assert "WITH (fastupdate=off)" in definitions["docs_tags_gin"]


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, REBUILD, stop_after)


def test_a_predicate_the_new_type_refuses_is_refused_at_plan(conn: psycopg.Connection) -> None:
    load_tables(conn, (DOCS,))
    conn.execute("CREATE INDEX docs_body_part ON docs (id) WHERE body <> 'none'")
    m = migration(
        "name: docs_int\noperations:\n  - op: alter_column\n    table: docs\n    column: body\n"
        "    type: integer\n    up: length(body)\n    down: body::text\n"
    )
    before = snapshot(conn)
    with pytest.raises(SpecError) as err:
        preflight.validate(conn, m, file="m.yaml")
    assert str(err.value).startswith("m.yaml: operations[0] (alter_column): field 'type': "), err.value
    assert "body <> 'none'" in str(err.value) and "integer" in str(err.value)
    assert snapshot(conn) == before
