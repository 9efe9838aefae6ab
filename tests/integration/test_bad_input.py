"""Bad input never touches the database: each refusal names the file, the operation's index and the
field, and the catalog is exactly as before (no liveshift schema created by a refused validate/prepare)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from liveshift import phases, preflight
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.spec import load_migration, parse_migration
from tests.harness.db import snapshot

pytestmark = pytest.mark.integration

FILE = "bad.yaml"


def database_state(conn: psycopg.Connection) -> dict[str, Any]:
    """Everything a refused migration must leave alone: tables, schemas, functions, triggers, the data."""
    return {
        "tables": snapshot(conn),
        "schemas": [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace ORDER BY 1")],
        "functions": conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone(),
        "triggers": conn.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").fetchone(),
        "rows": conn.execute("SELECT count(*), sum(hashtext(email)) FROM users").fetchone(),
    }


@pytest.fixture
def db(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, age int)")
    conn.execute("CREATE TABLE events (at timestamptz NOT NULL, payload text)")  # no key at all
    conn.execute("INSERT INTO users (email, age) SELECT 'u' || g || '@x', g FROM generate_series(1, 100) g")
    conn.execute("INSERT INTO events SELECT now(), 'p' || g FROM generate_series(1, 10) g")
    return conn


def add_column(**overrides: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "op": "add_column",
        "table": "users",
        "column": {"name": "email_lower", "type": "text"},
        "up": "lower(email)",
    }
    for key, value in overrides.items():
        if key.startswith("column."):
            op["column"][key.removeprefix("column.")] = value
        else:
            op[key] = value
    return op


def spec(*ops: dict[str, Any], name: str = "m1", schema: str = "public") -> dict[str, Any]:
    return {"name": name, "schema": schema, "operations": list(ops)}


def refused(dsn: str, conn: psycopg.Connection, data: dict[str, Any]) -> SpecError:
    """Both validate (what `plan` runs) and prepare refuse it, and neither changes anything."""
    before = database_state(conn)
    m = parse_migration(data, file=FILE)
    with open_session(dsn) as c, pytest.raises(SpecError) as by_validate:
        preflight.validate(c, m, file=FILE)
    assert database_state(conn) == before
    with open_session(dsn) as c, pytest.raises(SpecError) as by_prepare:
        phases.prepare(c, m, file=FILE)
    assert database_state(conn) == before
    assert str(by_prepare.value) == str(by_validate.value)
    return by_validate.value


def where(index: int, op: str, field: str) -> str:
    return f"{FILE}: operations[{index}] ({op}): field '{field}': "


# the first operation is fine, so every refusal below is located at index 1
OK = add_column(**{"column.name": "fine"})

CASES = [
    pytest.param(add_column(table="nope"), "table", "table public.'nope' does not exist", id="unknown-table"),
    pytest.param(add_column(up="lower(mail)"), "up", 'column "mail" does not exist', id="unknown-column-in-up"),
    pytest.param(
        add_column(**{"column.type": "nosuchtype"}), "column.type", "unknown type 'nosuchtype'", id="unknown-type"
    ),
    pytest.param(add_column(up="lower(email) +"), "up", "syntax error", id="up-syntax-error"),
    pytest.param(add_column(up="email + 1"), "up", "operator does not exist: text + integer", id="up-wrong-types"),
    pytest.param(
        add_column(**{"column.type": "integer"}, up="now()"),
        "up",
        "cannot cast type timestamp with time zone to integer",
        id="up-not-castable",
    ),
    pytest.param(
        add_column(**{"column.type": "integer"}, up="email"),
        "up",
        "fails on existing rows of table 'users': invalid input syntax for type integer",
        id="up-compiles-but-fails-on-the-data",
    ),
    pytest.param(
        add_column(up="1); DROP TABLE users; --"), "up", "does not compile against table 'users'", id="up-injection"
    ),
    pytest.param(
        add_column(up="lower(email)\n); DROP TABLE users; SELECT (1"),
        "up",
        "does not compile against table 'users'",
        id="up-injection-newline",
    ),
    pytest.param(
        add_column(**{"column.default": "'x'); DROP TABLE users; --"}, up=None),
        "column.default",
        "does not compile",
        id="default-injection",
    ),
    pytest.param(
        add_column(**{"column.type": "text); DROP TABLE users; --"}),
        "column.type",
        "unknown type",
        id="type-injection",
    ),
    pytest.param(
        add_column(**{"column.check": "email_lower <> '' OR DROP"}),
        "column.check",
        'column "drop" does not exist',
        id="bad-check",
    ),
    pytest.param(
        add_column(**{"column.check": "length(email_lower)"}),
        "column.check",
        "argument of CASE/WHEN must be type boolean, not type integer",
        id="check-not-boolean",
    ),
    pytest.param(
        add_column(**{"column.name": "fine"}),
        "column.name",
        "column 'fine' already exists in table 'users'",
        id="same-column-as-previous-op",
    ),
    pytest.param(
        {"op": "create_index", "name": "users_x", "table": "users", "columns": ["email", "nope"]},
        "columns[1]",
        "column 'nope' does not exist in table 'users'",
        id="unknown-column-in-index",
    ),
]


@pytest.mark.parametrize(("bad_op", "field", "fragment"), CASES)
def test_refused_with_location_and_nothing_touched(
    dsn: str, db: psycopg.Connection, bad_op: dict[str, Any], field: str, fragment: str
) -> None:
    err = refused(dsn, db, spec(OK, bad_op))
    assert (err.file, err.index, err.op, err.field) == (FILE, 1, bad_op["op"], field)
    assert str(err).startswith(where(1, bad_op["op"], field)), str(err)
    assert fragment in str(err)
    assert "\n" not in str(err)
    assert db.execute("SELECT to_regclass('users') IS NOT NULL").fetchone() == (True,)


def test_unknown_schema(dsn: str, db: psycopg.Connection) -> None:
    err = refused(dsn, db, spec(OK, schema='x"; DROP TABLE u;'))
    assert str(err) == f"""{FILE}: field 'schema': schema 'x"; DROP TABLE u;' does not exist"""


def test_a_table_without_key_is_fine_when_nothing_needs_a_backfill(dsn: str, db: psycopg.Connection) -> None:
    m = parse_migration(spec(add_column(table="events", up=None)), file=FILE)
    with open_session(dsn) as c:
        assert preflight.validate(c, m, file=FILE).backfill_targets() == []


def test_duplicate_name_and_second_migration_in_flight(dsn: str, db: psycopg.Connection) -> None:
    first = parse_migration(spec(OK), file="first.yaml")
    with open_session(dsn) as c:
        phases.prepare(c, first)
        phases.expand(c, first.name)
    # same name, other content
    err = refused(dsn, db, spec(add_column(**{"column.name": "other"})))
    assert str(err) == f"{FILE}: field 'name': a migration named 'm1' already exists (status expanded)"
    # another migration of a table m1 changes, while m1 is in flight: refused, naming m1 and the table
    err = refused(dsn, db, spec(add_column(**{"column.name": "other"}), name="m2"))
    assert err.field == "operations"
    assert str(err) == (
        f"{FILE}: field 'operations': migration 'm1' is still in flight on schema 'public' and changes or reads "
        "table 'users', which this migration changes or reads; finish or roll it back first"
    )
    # a migration of another table may run beside it, planned against the tables' current shape
    with open_session(dsn) as c:
        m2 = parse_migration(spec(add_column(table="events", up=None), name="m2"), file=FILE)
        plan = preflight.validate(c, m2, file=FILE)
        assert plan.green == "public_m2" and plan.blue == "public_base"
        assert [c.name for c in plan.physical.tables["users"].columns] == ["id", "email", "age"]  # no hidden column
    # once m1 is rolled back, the next migration of its table is welcome
    with open_session(dsn) as c:
        phases.rollback(c, "m1")
        m3 = parse_migration(spec(add_column(**{"column.name": "other"}), name="m3"), file=FILE)
        assert preflight.validate(c, m3, file=FILE).green == "public_m3"


@pytest.mark.parametrize(
    ("text", "fragment", "index", "field"),
    [
        ("name: m1\noperations: [\n", "not valid YAML", None, None),
        ("- just\n- a list\n", "a migration file holds a mapping", None, None),
        ("name: m1\noperations:\n  - op: teleport\n    table: users\n", "unknown operation 'teleport'", 0, "op"),
        ("name: m1\noperations:\n  - table: users\n", "Field required; one of: ", 0, "op"),
        (
            "name: m1\noperations:\n  - op: add_column\n    column: {name: a, type: text}\n",
            "Field required",
            0,
            "table",
        ),
        (
            "name: m1\noperations:\n  - op: add_column\n    table: users\n    column: {type: text}\n",
            "Field",
            0,
            "column.name",
        ),
        (
            "operations:\n  - op: add_column\n    table: users\n    column: {name: a, type: text}\n",
            "Field required",
            None,
            "name",
        ),
        (
            "name: M1\noperations:\n  - op: add_column\n    table: users\n    column: {name: a, type: text}\n",
            "should match pattern",
            None,
            "name",
        ),
    ],
    ids=[
        "malformed",
        "not-a-mapping",
        "unknown-op",
        "missing-op",
        "missing-table",
        "missing-nested",
        "missing-name",
        "bad-name",
    ],
)
def test_malformed_files(
    tmp_path: Path, db: psycopg.Connection, text: str, fragment: str, index: int | None, field: str | None
) -> None:
    before = database_state(db)
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_migration(path)
    err = info.value
    assert (err.file, err.index, err.field) == (str(path), index, field)
    assert str(err).startswith(f"{path}: ")
    assert fragment in str(err)
    assert database_state(db) == before


def test_refusal_messages_read_well(dsn: str, db: psycopg.Connection) -> None:
    err = refused(dsn, db, yaml.safe_load(f"name: m1\noperations:\n  - {OK}\n  - {add_column(up='lower(mail)')}\n"))
    assert str(err) == (
        f"{where(1, 'add_column', 'up')}expression 'lower(mail)' does not compile against table 'users': "
        'column "mail" does not exist'
    )


@pytest.mark.parametrize("second_table", ["users", "other"])
def test_concurrent_prepares_on_one_schema(
    dsn: str, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, second_table: str
) -> None:
    """Both pass validation before either records itself (the race window): of two on one table, the schema's
    lock lets one in and refuses the other, naming it; of two on disjoint tables, both are recorded (the second
    plans again, against the versions as the first left them)."""
    import threading

    barrier = threading.Barrier(2, timeout=30)
    original = preflight.validate
    waited = threading.local()

    def validate_then_wait(*args: Any, **kwargs: Any) -> Any:
        plan = original(*args, **kwargs)
        if not getattr(waited, "once", False):
            waited.once = True
            barrier.wait()
        return plan

    monkeypatch.setattr(preflight, "validate", validate_then_wait)
    outcomes: dict[str, Exception | None] = {}

    def prepare(name: str, table: str) -> None:
        op = {"op": "add_column", "table": table, "column": {"name": f"extra_{name}", "type": "text"}}
        try:
            with open_session(dsn) as c:
                phases.prepare(c, parse_migration(spec(op, name=name), file=FILE), file=FILE)
            outcomes[name] = None
        except SpecError as exc:
            outcomes[name] = exc

    db.execute("CREATE TABLE other (id int PRIMARY KEY)")
    threads = [threading.Thread(target=prepare, args=a) for a in (("m_users", "users"), ("m_second", second_table))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [e for e in outcomes.values() if e is not None]
    assert len(outcomes) == 2, outcomes
    if second_table == "other":
        assert refused == []
        return
    assert len(refused) == 1, outcomes
    assert "is still in flight on schema 'public' and changes or reads table 'users'" in str(refused[0])
    assert refused[0].field == "operations"
