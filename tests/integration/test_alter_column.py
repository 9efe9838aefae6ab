"""alter_column through every phase, each sub-feature with a blue and a green client writing."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
import pytest

from liveshift import engine
from liveshift.catalog import read_catalog
from liveshift.ddl import run_steps
from liveshift.errors import SpecError
from liveshift.plan import build_plan
from tests.helpers import backfill_all, client, migration, plain_alter_snapshot, snapshot

pytestmark = pytest.mark.integration

SETUP = """
CREATE TABLE teams (id serial PRIMARY KEY, name text);
CREATE TABLE items (
    id bigserial PRIMARY KEY,
    price integer NOT NULL DEFAULT 0 CHECK (price >= 0),
    code text UNIQUE,
    team_id integer REFERENCES teams (id) ON DELETE CASCADE,
    owner_id integer,
    note text,
    flag boolean NOT NULL DEFAULT true
);
CREATE INDEX items_price_idx ON items (price);
CREATE INDEX items_team_price ON items (team_id, price) WHERE flag;
"""
ROWS = 300
BLUE, NAME = "public_base", "alter_items"
GREEN = f"public_{NAME}"


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
    ),
]


def _migration(case: Case):
    return migration(f"name: {NAME}\noperations:{case.ops}")


@pytest.fixture
def items(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute(SETUP)
    conn.execute("INSERT INTO teams (name) VALUES ('red'), ('blue')")
    conn.execute(
        "INSERT INTO items (price, code, team_id, note) SELECT g, 'c' || g, CASE WHEN g % 2 = 0 THEN 1 + g % 2 END, "
        f"CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, {ROWS}) g"
    )
    # identity of each row id is fixed below; the sequence must hand out ROWS + 1 next
    return conn


def _write_both(dsn: str, case: Case) -> None:
    blue, green = client(dsn, BLUE), client(dsn, GREEN)
    with blue, green:
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
def test_phases(dsn: str, items: psycopg.Connection, case: Case) -> None:
    before = snapshot(items)
    m = _migration(case)
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.expand(conn, m.name)
    _write_both(dsn, case)
    backfill_all(dsn, m.name)
    with client(dsn, BLUE) as blue, client(dsn, GREEN) as green:
        # updates through both sides after the backfill keep the two shapes in step
        blue.execute("UPDATE items SET price = price + 1 WHERE id = 3")
        green.execute("UPDATE items SET owner_id = 1 WHERE id = 4")
        with engine.connect(dsn) as conn:
            engine.validate_constraints(conn, m.name)
            report = engine.verify(conn, m.name)
            assert report.ok, report.summary()
            engine.cutover(conn, m.name)
        blue.execute("UPDATE items SET note = 'late blue' WHERE id = 5")  # blue keeps working after cutover
        green.execute("UPDATE items SET price = 42 WHERE id = 6")
        with engine.connect(dsn) as conn:
            engine.contract(conn, m.name)
        for query, expected in case.after_contract:
            if isinstance(expected, type) and issubclass(expected, Exception):
                with pytest.raises(expected):
                    green.execute(query)
            else:
                assert green.execute(query).fetchone() == (expected,)
    after = snapshot(items)
    assert after == plain_alter_snapshot(items, SETUP, case.alter)
    assert after != before
    assert items.execute("SELECT count(*) FROM items").fetchone()[0] >= ROWS + 2  # type: ignore[index]
    assert items.execute("SELECT price FROM items WHERE id = 6").fetchone()[0] == 42  # type: ignore[index]
    assert items.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal"
    ).fetchone() == (0,)
    assert items.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (BLUE,)).fetchone() == (0,)


@pytest.mark.parametrize("stop_after", ["expand", "backfill", "verify", "cutover"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rollback_from_each_phase(dsn: str, items: psycopg.Connection, case: Case, stop_after: str) -> None:
    before = snapshot(items)
    m = _migration(case)
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.expand(conn, m.name)
        _write_both(dsn, case)
        if stop_after != "expand":
            backfill_all(dsn, m.name)
        if stop_after in ("verify", "cutover"):
            engine.validate_constraints(conn, m.name)
            assert engine.verify(conn, m.name).ok
        if stop_after == "cutover":
            engine.cutover(conn, m.name)
        with client(dsn, BLUE) as blue:
            blue.execute("INSERT INTO items (price, code) VALUES (9, 'last blue')")
        engine.rollback(conn, m.name)
        engine.rollback(conn, m.name)  # twice equals once
    assert snapshot(items) == before
    rows = items.execute("SELECT count(*) FROM items WHERE id > %s", (ROWS,)).fetchone()
    assert rows == (3,)  # the blue and the green write after expand, the blue one before rollback
    query, expected = case.seen_by_blue
    assert items.execute(query).fetchone() == (expected,)


def test_each_step_twice_equals_once(dsn: str, items: psycopg.Connection) -> None:
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
    with engine.connect(dsn) as conn:
        engine.prepare(conn, m)
        engine.prepare(conn, m)
        engine.expand(conn, m.name)
        once = snapshot(conn)
        engine.expand(conn, m.name)
        assert snapshot(conn) == once
        backfill_all(dsn, m.name)
        backfill_all(dsn, m.name)
        engine.validate_constraints(conn, m.name)
        engine.validate_constraints(conn, m.name)
        assert engine.verify(conn, m.name).ok
        engine.cutover(conn, m.name)
        engine.cutover(conn, m.name)
        plan = engine.plan_of(engine.load_record(conn, m.name))
        engine.contract(conn, m.name)
        done = snapshot(conn)
        # every contract step run again (as a retried activity would, after a crash) changes nothing
        run_steps(conn, plan.contract_steps())
        assert snapshot(conn) == done
    assert done == plain_alter_snapshot(
        items,
        SETUP,
        "ALTER TABLE items ALTER COLUMN price TYPE bigint, ADD CONSTRAINT items_price_cap CHECK (price < 10000000), "
        "ALTER COLUMN code TYPE varchar(50)",
    )


@pytest.mark.parametrize(
    ("setup", "ops", "message"),
    [
        ("CREATE INDEX items_lower ON items (lower(note))", "column: note\n    type: varchar(10)", "expression"),
        ("CREATE INDEX items_part ON items (id) WHERE note <> ''", "column: note\n    type: varchar(10)", "predicate"),
        ("CREATE INDEX items_desc ON items (note DESC)", "column: note\n    type: varchar(10)", "options"),
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
    conn.execute(SETUP)
    if setup:
        conn.execute(setup)
    body = ops if ops.startswith("table:") else f"table: items\n    {ops}"
    m = migration(f"name: {NAME}\noperations:\n  - op: alter_column\n    {body}\n")
    with pytest.raises(SpecError) as err:
        build_plan(m, read_catalog(conn, "public"), None, file="m.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("m.yaml: operations[0] (alter_column): field ")
