"""liveshift diff round trip, on the schema pairs of tests/data/diff/: the current schema (with rows) is the live
database; the migration diff writes runs through every phase (expand, backfill, validate, verify, cutover,
contract); the live catalog then equals the desired schema built in a scratch schema (tables, columns,
indexes, constraints, and views with their columns' types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from liveshift.cli.main import main
from liveshift.sqlconvert.diff import diff
from tests.harness.db import complete, reference_schema, snapshot

pytestmark = pytest.mark.integration

PAIRS = Path(__file__).parents[1] / "data" / "diff"

_VIEWS = """
SELECT c.relname, pg_get_viewdef(c.oid),
       ARRAY(SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 ORDER BY a.attnum)
FROM pg_class c WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('v', 'm') ORDER BY 1
"""


def views(conn: psycopg.Connection, schema: str) -> list[Any]:
    return [list(row) for row in conn.execute(_VIEWS, (schema,))]


def desired_shape(conn: psycopg.Connection, desired: str) -> tuple[Any, Any]:
    with reference_schema(conn) as schema:
        conn.execute(desired)
        shape = snapshot(conn, schema), views(conn, schema)
    return json.loads(json.dumps(shape).replace(f"{schema}.", ""))


@pytest.mark.parametrize("pair", sorted(p.name for p in PAIRS.iterdir() if p.is_dir()))
def test_diff_migrates_the_live_schema_to_the_desired_one(dsn: str, conn: psycopg.Connection, pair: str) -> None:
    folder = PAIRS / pair
    expect = yaml.safe_load((folder / "expect.yaml").read_text())
    conn.execute((folder / "current.sql").read_text())
    found = diff(dsn, [str(folder / "desired.sql")], "public", "to_desired")
    assert found is not None
    conversion = found.conversion
    assert [op.op for op in conversion.migration.operations] == expect["ops"], conversion.text
    assert [r.field for r in conversion.reviews] == expect.get("reviews", []), conversion.text
    complete(dsn, conversion.migration)
    assert json.loads(json.dumps([snapshot(conn), views(conn, "public")])) == desired_shape(
        conn, (folder / "desired.sql").read_text()
    )
    again = diff(dsn, [str(folder / "desired.sql")], "public", "again")
    assert again is None, again and again.sql  # nothing left to change


def test_cli_marks_a_proposed_rename_for_review(
    dsn: str, conn: psycopg.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = PAIRS / "13_rename_column"
    conn.execute((folder / "current.sql").read_text())
    out = tmp_path / "m.yaml"
    assert main(["diff", str(folder / "desired.sql"), "--dsn", dsn, "-o", str(out)]) == 3
    assert (
        "REVIEW to:" in out.read_text() and "review operations[0] (rename_column) field 'to'" in capsys.readouterr().err
    )
    assert main(["diff", str(folder / "desired.sql"), "--dsn", dsn, "--sql"]) == 3
    assert capsys.readouterr().out == 'ALTER TABLE "users" RENAME COLUMN "legacy" TO "remark";\n'


def test_from_a_schema_file_needs_no_live_schema(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder = PAIRS / "03_widen_type"
    tables_only = PAIRS / "02_drop_column" / "desired.sql"  # CREATE statements only, as --from takes them
    assert main(["diff", str(folder / "desired.sql"), "--from", str(tables_only), "--dsn", dsn]) == 0
    text = capsys.readouterr().out
    assert "op: alter_column" in text and "op: add_column" in text
    with psycopg.connect(dsn) as c:  # nothing was written
        assert c.execute("SELECT count(*) FROM pg_class WHERE relname = 'users'").fetchone() == (0,)


def test_a_change_in_a_schema_file_is_refused_naming_file_and_line(
    dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "schema.sql"
    bad.write_text("CREATE TABLE t (id int);\nDROP TABLE t;\n")
    assert main(["diff", str(bad), "--from", str(bad), "--dsn", dsn]) == 2
    assert f"{bad}:2: Drop in a schema file" in capsys.readouterr().err
