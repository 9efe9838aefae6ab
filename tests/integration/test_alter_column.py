"""alter_column through every phase, each sub-feature with a blue and a green client writing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

from liveshift import phases
from liveshift.catalog import read_catalog
from liveshift.connections import open_session
from liveshift.ddl.executor import StepRunner
from liveshift.errors import SpecError
from liveshift.plan import build_plan
from liveshift.store.record import load_record
from tests.harness.db import backfill_all, migration, plain_alter_snapshot, snapshot
from tests.harness.scenario import PHASES_BEFORE_CONTRACT, Run, Scenario, Side, Table, count, load_tables, setup_sql

pytestmark = pytest.mark.integration

ROWS = 300
TABLES = (
    Table("teams", "id serial PRIMARY KEY, name text", rows=2, values={"name": "(ARRAY['red', 'blue'])[g]"}),
    Table(
        "items",
        """id bigserial PRIMARY KEY,
        price integer NOT NULL DEFAULT 0 CHECK (price >= 0),
        code text UNIQUE,
        team_id integer REFERENCES teams (id) ON DELETE CASCADE,
        owner_id integer,
        note text,
        flag boolean NOT NULL DEFAULT true""",
        rows=ROWS,
        values={
            "price": "g",
            "code": "'c' || g",
            "team_id": "CASE WHEN g % 2 = 0 THEN 1 + g % 2 END",
            "note": "CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END",
        },
        then=(
            "CREATE INDEX items_price_idx ON items (price)",
            "CREATE INDEX items_team_price ON items (team_id, price) WHERE flag",
        ),
    ),
)
NAME = "alter_items"


@dataclass
class Case:
    id: str
    ops: str  # the operations part of the migration file (YAML)
    alter: str  # the plain statements whose result contract must equal
    blue_write: str  # run on blue after expand (the row gets id ROWS + 1)
    seen_by_green: tuple[str, object]  # query on green about that row, expected first row
    green_write: str  # run on green after expand (the row gets id ROWS + 2)
    seen_by_blue: tuple[str, object]
    after_contract: list[tuple[str, object]] = field(default_factory=list)  # green query, expected or exception
    green_note: str = "note"  # what green calls the note column (the harness tags its writes there)

    def scenario(self) -> Scenario:
        return Scenario(
            tables=TABLES,
            migration=f"name: {NAME}\noperations:{self.ops}",
            plain=self.alter,
            blue=Side(_tagged_write("note"), _sees_tagged("note")),
            green=Side(_tagged_write(self.green_note), _sees_tagged(self.green_note)),
        )


def _tagged_write(note: str) -> Callable[[psycopg.Connection, int], None]:
    def write(c: psycopg.Connection, n: int) -> None:
        query = sql.SQL("INSERT INTO items (price, {}) VALUES (%s, %s)").format(sql.Identifier(note))
        c.execute(query, (10_000 + n, f"w{n}"))

    return write


def _sees_tagged(note: str) -> Callable[[psycopg.Connection, list[int]], None]:
    def sees(c: psycopg.Connection, tags: list[int]) -> None:
        query = sql.SQL("SELECT count(*) FROM items WHERE {} = ANY(%s)").format(sql.Identifier(note))
        assert count(c, query, [f"w{t}" for t in tags]) == len(tags)

    return sees


CASES = [
    Case(
        "type",
        """
  - op: alter_column
    table: items
    column: price
    type: numeric(10,2)
    down: round(price)::integer
""",
        "ALTER TABLE items ALTER COLUMN price TYPE numeric(10,2)",
        "INSERT INTO items (price, code) VALUES (5, 'blue')",
        (f"SELECT price::text FROM items WHERE id = {ROWS + 1}", "5.00"),
        "INSERT INTO items (price, code) VALUES (7.6, 'green')",
        (f"SELECT price FROM items WHERE id = {ROWS + 2}", 8),
        [
            ("INSERT INTO items (price) VALUES (1.25) RETURNING price::text", "1.25"),
            ("INSERT INTO items (code) VALUES ('dflt') RETURNING price::text", "0.00"),
            ("INSERT INTO items (price) VALUES (-1)", psycopg.errors.CheckViolation),
            ("INSERT INTO items (price, code) VALUES (1, 'blue')", psycopg.errors.UniqueViolation),
        ],
    ),
    Case(
        "foreign_key_column_type",
        """
  - op: alter_column
    table: items
    column: team_id
    type: bigint
""",
        "ALTER TABLE items ALTER COLUMN team_id TYPE bigint",
        "INSERT INTO items (price, team_id) VALUES (1, 1)",
        (f"SELECT team_id FROM items WHERE id = {ROWS + 1}", 1),
        "INSERT INTO items (price, team_id) VALUES (2, 2)",
        (f"SELECT team_id FROM items WHERE id = {ROWS + 2}", 2),
        [
            ("INSERT INTO items (team_id) VALUES (99)", psycopg.errors.ForeignKeyViolation),
            ("SELECT count(*) FROM items WHERE team_id IS NOT NULL AND flag", ROWS // 2 + 2),
        ],
    ),
    Case(
        "set_not_null",
        """
  - op: alter_column
    table: items
    column: note
    nullable: false
    up: coalesce(note, '(none)')
""",
        "ALTER TABLE items ALTER COLUMN note SET NOT NULL",
        "INSERT INTO items (price) VALUES (1)",
        (f"SELECT note FROM items WHERE id = {ROWS + 1}", "(none)"),
        "INSERT INTO items (price, note) VALUES (2, 'from green')",
        (f"SELECT note FROM items WHERE id = {ROWS + 2}", "from green"),
        [("INSERT INTO items (price) VALUES (3)", psycopg.errors.NotNullViolation)],
    ),
    Case(
        "drop_not_null",
        """
  - op: alter_column
    table: items
    column: price
    nullable: true
    down: coalesce(price, 0)
""",
        "ALTER TABLE items ALTER COLUMN price DROP NOT NULL",
        "INSERT INTO items (price) VALUES (4)",
        (f"SELECT price FROM items WHERE id = {ROWS + 1}", 4),
        "INSERT INTO items (price, note) VALUES (NULL, 'g')",
        (f"SELECT price FROM items WHERE id = {ROWS + 2}", 0),
        [("INSERT INTO items (price) VALUES (NULL) RETURNING price", None)],
    ),
    Case(
        "set_default",
        """
  - op: alter_column
    table: items
    column: note
    default: "'fresh'"
""",
        "ALTER TABLE items ALTER COLUMN note SET DEFAULT 'fresh'",
        "INSERT INTO items (price) VALUES (1)",
        (f"SELECT note FROM items WHERE id = {ROWS + 1}", None),  # blue keeps its default until contract
        "INSERT INTO items (price) VALUES (2)",
        (f"SELECT note FROM items WHERE id = {ROWS + 2}", "fresh"),  # green already has the new one
        [("INSERT INTO items (price) VALUES (3) RETURNING note", "fresh")],
    ),
    Case(
        "drop_default",
        """
  - op: alter_column
    table: items
    column: price
    default: null
""",
        "ALTER TABLE items ALTER COLUMN price DROP DEFAULT",
        "INSERT INTO items (note) VALUES ('b')",
        (f"SELECT price FROM items WHERE id = {ROWS + 1}", 0),
        "INSERT INTO items (price) VALUES (2)",
        (f"SELECT price FROM items WHERE id = {ROWS + 2}", 2),
        [("INSERT INTO items (note) VALUES ('no default')", psycopg.errors.NotNullViolation)],
    ),
    Case(
        "rename",
        """
  - op: alter_column
    table: items
    column: note
    name: remark
""",
        "ALTER TABLE items RENAME COLUMN note TO remark",
        "INSERT INTO items (price, note) VALUES (1, 'by blue')",
        (f"SELECT remark FROM items WHERE id = {ROWS + 1}", "by blue"),
        "INSERT INTO items (price, remark) VALUES (2, 'by green')",
        (f"SELECT note FROM items WHERE id = {ROWS + 2}", "by green"),
        [("INSERT INTO items (remark) VALUES ('x') RETURNING remark", "x")],
        green_note="remark",
    ),
    Case(
        "check",
        """
  - op: alter_column
    table: items
    column: price
    check: {name: items_price_max, expression: price < 100000}
""",
        "ALTER TABLE items ADD CONSTRAINT items_price_max CHECK (price < 100000)",
        "INSERT INTO items (price) VALUES (10)",
        (f"SELECT price FROM items WHERE id = {ROWS + 1}", 10),
        "INSERT INTO items (price) VALUES (20)",
        (f"SELECT price FROM items WHERE id = {ROWS + 2}", 20),
        [("INSERT INTO items (price) VALUES (100000)", psycopg.errors.CheckViolation)],
    ),
    Case(
        "unique",
        """
  - op: alter_column
    table: items
    column: note
    unique: true
""",
        "ALTER TABLE items ADD UNIQUE (note)",
        "INSERT INTO items (price, note) VALUES (1, 'unique blue')",
        (f"SELECT note FROM items WHERE id = {ROWS + 1}", "unique blue"),
        "INSERT INTO items (price, note) VALUES (2, 'unique green')",
        (f"SELECT note FROM items WHERE id = {ROWS + 2}", "unique green"),
        [("INSERT INTO items (note) VALUES ('unique blue')", psycopg.errors.UniqueViolation)],
    ),
    Case(
        "references",
        """
  - op: alter_column
    table: items
    column: owner_id
    references: {table: teams, column: id, on_delete: SET NULL}
""",
        "ALTER TABLE items ADD FOREIGN KEY (owner_id) REFERENCES teams (id) ON DELETE SET NULL",
        "INSERT INTO items (price, owner_id) VALUES (1, 2)",
        (f"SELECT owner_id FROM items WHERE id = {ROWS + 1}", 2),
        "INSERT INTO items (price, owner_id) VALUES (2, 1)",
        (f"SELECT owner_id FROM items WHERE id = {ROWS + 2}", 1),
        [("INSERT INTO items (owner_id) VALUES (99)", psycopg.errors.ForeignKeyViolation)],
    ),
    Case(
        "rename_and_type",
        """
  - op: alter_column
    table: items
    column: code
    name: sku
    type: varchar(40)
""",
        "ALTER TABLE items RENAME COLUMN code TO sku; ALTER TABLE items ALTER COLUMN sku TYPE varchar(40)",
        "INSERT INTO items (price, code) VALUES (1, 'B-1')",
        (f"SELECT sku FROM items WHERE id = {ROWS + 1}", "B-1"),
        "INSERT INTO items (price, sku) VALUES (2, 'G-2')",
        (f"SELECT code FROM items WHERE id = {ROWS + 2}", "G-2"),
        [
            ("INSERT INTO items (sku) VALUES ('B-1')", psycopg.errors.UniqueViolation),
            ("INSERT INTO items (sku) VALUES (repeat('x', 41))", psycopg.errors.StringDataRightTruncation),
        ],
    ),
    Case(
        "chained_rename_then_type",
        """
  - op: alter_column
    table: items
    column: note
    name: remark
  - op: alter_column
    table: items
    column: remark
    type: varchar(100)
    nullable: false
    up: coalesce(remark, '-')
""",
        "ALTER TABLE items RENAME COLUMN note TO remark; "
        "ALTER TABLE items ALTER COLUMN remark TYPE varchar(100), ALTER COLUMN remark SET NOT NULL",
        "INSERT INTO items (price) VALUES (1)",
        (f"SELECT remark FROM items WHERE id = {ROWS + 1}", "-"),
        "INSERT INTO items (price, remark) VALUES (2, 'G-2')",
        (f"SELECT note FROM items WHERE id = {ROWS + 2}", "G-2"),
        [
            ("INSERT INTO items (price) VALUES (3)", psycopg.errors.NotNullViolation),
            ("SELECT count(*) FROM items WHERE remark = '-'", ROWS // 3 + 1),
        ],
        green_note="remark",
    ),
]


def _write_both(run: Run, case: Case) -> None:
    blue, green = run.blue, run.green
    # green updates a row the backfill has not reached: the columns it did not set keep their values
    row = blue.execute("SELECT * FROM items WHERE id = 7").fetchone()
    assert row is not None
    green.execute("UPDATE items SET owner_id = 2 WHERE id = 7")
    assert blue.execute("SELECT * FROM items WHERE id = 7").fetchone() == (*row[:4], 2, *row[5:])
    blue.execute(case.blue_write)
    green.execute(case.green_write)
    query, expected = case.seen_by_green
    assert green.execute(query).fetchone() == (expected,), "a blue write must reach green through up"
    query, expected = case.seen_by_blue
    assert blue.execute(query).fetchone() == (expected,), "a green write must reach blue through down"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_phases(dsn: str, conn: psycopg.Connection, case: Case) -> None:
    with Run(dsn, conn, case.scenario()) as run:
        blue, green = run.blue, run.green
        run.expand()
        _write_both(run, case)  # first: its queries name the ids ROWS + 1 and ROWS + 2
        run.exchange()
        run.backfill()
        # updates through both sides after the backfill keep the two shapes in step
        blue.execute("UPDATE items SET price = price + 1 WHERE id = 3")
        green.execute("UPDATE items SET owner_id = 1 WHERE id = 4")
        run.exchange()
        run.through("cutover")  # verify reports no mismatch; version_for('public') names green
        blue.execute("UPDATE items SET note = 'late blue' WHERE id = 5")  # blue keeps working after cutover
        green.execute("UPDATE items SET price = 42 WHERE id = 6")
        run.contract()  # the plain statements' schema; no trigger, helper column or blue schema left
        for query, expected in case.after_contract:
            if isinstance(expected, type) and issubclass(expected, Exception):
                with pytest.raises(expected):
                    green.execute(query)
            else:
                assert green.execute(query).fetchone() == (expected,)
    assert snapshot(conn) != run.before
    assert count(conn, "SELECT count(*) FROM items") >= ROWS + 2
    assert count(conn, "SELECT price FROM items WHERE id = 6") == 42


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, case: Case, stop_after: str) -> None:
    with Run(dsn, conn, case.scenario()) as run:
        run.expand()
        _write_both(run, case)
        run.exchange()
        run.through(stop_after)
        run.blue.execute("INSERT INTO items (price, code) VALUES (9, 'last blue')")
        run.rollback()  # twice equals once; the catalog as before; every tagged write kept
    rows = conn.execute("SELECT count(*) FROM items WHERE id > %s", (ROWS,)).fetchone()
    # the blue and the green write after expand, the blue one before rollback, the harness's tagged ones
    assert rows == (3 + len(run.acked),)
    query, expected = case.seen_by_blue
    assert conn.execute(query).fetchone() == (expected,)


def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, TABLES)
    m = migration(
        f"""
name: {NAME}
operations:
  - op: alter_column
    table: items
    column: price
    type: bigint
    check: {{name: items_price_cap, expression: price < 10000000}}
  - op: alter_column
    table: items
    column: code
    type: varchar(50)
"""
    )
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.prepare(c, m)
        phases.expand(c, m.name)
        once = snapshot(c)
        phases.expand(c, m.name)
        assert snapshot(c) == once
        backfill_all(dsn, m.name)
        backfill_all(dsn, m.name)
        phases.validate_constraints(c, m.name)
        phases.validate_constraints(c, m.name)
        assert phases.verify(c, m.name).ok
        phases.cutover(c, m.name)
        phases.cutover(c, m.name)
        plan = phases.plan_of(load_record(c, m.name))
        phases.contract(c, m.name)
        done = snapshot(c)
        # every contract step run again (as a retried activity would, after a crash) changes nothing
        StepRunner().run(c, plan.contract_steps())
        assert snapshot(c) == done
    assert done == plain_alter_snapshot(
        conn,
        setup_sql(TABLES).as_string(conn),
        "ALTER TABLE items ALTER COLUMN price TYPE bigint, ADD CONSTRAINT items_price_cap CHECK (price < 10000000), "
        "ALTER COLUMN code TYPE varchar(50)",
    )


@pytest.mark.parametrize(
    ("setup", "ops", "message"),
    [
        ("CREATE INDEX items_lower ON items (lower(note))", "column: note\n    type: varchar(10)", "expression"),
        (
            "ALTER TABLE items ADD COLUMN total int GENERATED ALWAYS AS (price * 2) STORED",
            "column: price\n    type: bigint",
            "generated",
        ),
        ("CREATE TABLE refs (code text REFERENCES items (code))", "column: code\n    type: varchar(10)", "primary key"),
        (
            "CREATE TABLE other (a int, b int, PRIMARY KEY (a, b))",
            "table: other\n    column: a\n    type: bigint",
            "composite",
        ),
        ("", "column: note", "nothing to change"),
        ("", "column: price\n    name: cost\n    type: bigint", "renames"),
    ],
)
def test_refuses_what_it_cannot_rebuild(conn: psycopg.Connection, setup: str, ops: str, message: str) -> None:
    conn.execute(setup_sql(TABLES))
    if setup:
        conn.execute(setup)
    body = ops if ops.startswith("table:") else f"table: items\n    {ops}"
    m = migration(f"name: {NAME}\noperations:\n  - op: alter_column\n    {body}\n")
    with pytest.raises(SpecError) as err:
        build_plan(m, read_catalog(conn, "public"), None, file="m.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("m.yaml: operations[0] (alter_column): field ")
