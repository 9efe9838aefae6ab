"""User expressions are SQL, never format strings: `%` and strings holding `%s`, `%(x)s` or `{}` in every field
that takes an expression (`up`, `down`, `check`, `where`, `default`), through every phase and rollback (issue 20)."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Scenario,
    Side,
    Table,
    count,
    each_step_twice_equals_once,
    every_phase,
    rollback_from,
)

pytestmark = pytest.mark.integration

ROWS = 400
ITEMS = Table(
    "items",
    "id bigserial PRIMARY KEY, tag text, code text",
    rows=ROWS,
    values={"tag": "'t' || g", "code": "'c' || g"},
)
# no key: backfilled and verified by ctid block ranges
EVENTS = Table("events", "n int, note text", rows=300, values={"n": "g", "note": "'e' || g"})
SUFFIX = " %s {} %(x)s {0}"


def _write(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO items (tag, code) VALUES (%s, %s)", (f"w{n}", f"c{n}"))


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    assert count(c, "SELECT count(*) FROM items WHERE tag = ANY(%s)", [f"w{t}" for t in tags]) == len(tags)


PERCENT = Scenario(
    tables=(ITEMS, EVENTS),
    migration=f"""
name: items_percent
operations:
  - op: add_column
    table: items
    column: {{name: bucket, type: int, nullable: false, default: "0", check: "bucket % 1000 = bucket"}}
    up: id % 1000
  - op: add_column
    table: items
    column: {{name: label, type: text, default: "'{SUFFIX}'"}}
  - op: alter_column
    table: items
    column: code
    type: varchar(100)
    up: code || '{SUFFIX}'
    down: replace(code, '{SUFFIX}', '')
    check: {{expression: "code <> '%s'"}}
  - op: add_column
    table: events
    column: {{name: m, type: text}}
    up: (n % 7)::text || '%(x)s'
  - op: create_index
    name: items_even
    table: items
    columns: [id]
    where: id % 2 = 0
  - op: add_constraint
    table: items
    name: items_id_mod
    type: check
    check: id % 1 = 0 AND tag <> '{{}}%(x)s'
""",
    plain=f"""
ALTER TABLE items ADD COLUMN bucket int NOT NULL DEFAULT 0 CONSTRAINT items_bucket_check CHECK (bucket % 1000 = bucket);
ALTER TABLE items ADD COLUMN label text DEFAULT '{SUFFIX}';
ALTER TABLE items ALTER COLUMN code TYPE varchar(100), ADD CONSTRAINT items_code_check CHECK (code <> '%s');
ALTER TABLE events ADD COLUMN m text;
CREATE INDEX items_even ON items (id) WHERE id % 2 = 0;
ALTER TABLE items ADD CONSTRAINT items_id_mod CHECK (id % 1 = 0 AND tag <> '{{}}%(x)s');
""",
    blue=Side(_write, _sees),
    green=Side(_write, _sees),
)


def test_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    every_phase(dsn, conn, PERCENT)
    # the backfill and the trigger computed the expressions as SQL
    assert count(conn, "SELECT count(*) FROM items WHERE bucket <> id %% 1000 AND id <= %s", ROWS) == 0
    assert count(conn, "SELECT count(*) FROM items WHERE id <= %s AND code <> 'c' || id || %s", ROWS, SUFFIX) == 0
    assert count(conn, "SELECT count(*) FROM items WHERE label IS DISTINCT FROM %s", SUFFIX) == 0
    assert count(conn, "SELECT count(*) FROM events WHERE m IS DISTINCT FROM (n % 7)::text || '%(x)s'") == 0


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, PERCENT, stop_after)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, PERCENT)
