"""`liveshift plan` and `liveshift schema` as subprocesses, against the real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.harness.cli import EXAMPLES, liveshift
from tests.harness.db import snapshot

pytestmark = pytest.mark.integration


def schemas(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT nspname FROM pg_namespace ORDER BY 1")]


def test_plan_prints_each_phase_with_locks_and_writes_nothing(dsn: str, example_db: psycopg.Connection) -> None:
    before, before_schemas = snapshot(example_db), schemas(example_db)
    result = liveshift("plan", str(EXAMPLES / "users_email_lower.yaml"), "--dsn", dsn)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "migration users_email_lower on schema public: valid" in out
    for header in ("\nexpand (", "\nbackfill (1 tables)", "\nvalidate (", "\nverify (", "\ncontract (", "\nrollback ("):
        assert header in out
    assert out.index("\nexpand (") < out.index("\nbackfill (") < out.index("\ncontract (") < out.index("\nrollback (")
    # statements rendered with real quoting, each under its lock
    assert 'ALTER TABLE "public"."users" ADD COLUMN "_ls_new_email_lower" text' in out
    assert "lock: ACCESS EXCLUSIVE (catalog only, brief)" in out
    assert "lock: SHARE UPDATE EXCLUSIVE, CONCURRENTLY (reads and writes continue), outside a transaction" in out
    assert 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "users_email_lower_key"' in out
    assert "users: key (id), about 1000 rows" in out
    assert "UNCHECKED" not in out
    assert result.stderr == ""
    # validating wrote nothing: no liveshift schema, no version schemas, same tables
    assert snapshot(example_db) == before
    assert schemas(example_db) == before_schemas


def test_plan_json(dsn: str, example_db: psycopg.Connection) -> None:
    result = liveshift("plan", str(EXAMPLES / "orders_totals.json"), "--dsn", dsn, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert (data["migration"], data["blue"], data["green"]) == ("orders_totals", "public_base", "public_orders_totals")
    assert set(data["phases"]) == {"expand", "validate", "contract", "rollback"}
    expand = data["phases"]["expand"]
    assert all({"description", "lock", "statement", "transactional", "unchecked"} <= set(s) for s in expand)
    assert any('ADD COLUMN "_ls_new_total_eur" numeric(12,2)' in s["statement"] for s in expand)
    assert sorted(t["table"] for t in data["backfill"]) == ["orders", "users"]
    assert {"table": "orders", "check": "check orders_total_eur_check", "predicate": "total_eur >= 0"} in data["verify"]
    assert "liveshift" not in schemas(example_db)


def test_plan_refuses_bad_file_with_one_line_and_exit_2(dsn: str, example_db: psycopg.Connection) -> None:
    path = str(EXAMPLES / "bad_unknown_column.yaml")
    result = liveshift("plan", path, "--dsn", dsn)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"liveshift plan: {path}: operations[0] (add_column): field 'up': ")
    assert '"mail" does not exist' in lines[0]
    assert "liveshift" not in schemas(example_db)

    as_json = liveshift("plan", path, "--dsn", dsn, "--json")
    assert as_json.returncode == 2
    data = json.loads(as_json.stdout)
    assert (data["valid"], data["file"], data["index"], data["field"]) == (False, path, 0, "up")


def test_plan_refuses_malformed_yaml_and_unreachable_database(tmp_path: Path, dsn: str) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\noperations: [\n")
    result = liveshift("plan", str(bad), "--dsn", dsn)
    assert result.returncode == 2
    assert result.stderr.startswith(f"liveshift plan: {bad}: not valid YAML")
    assert len(result.stderr.splitlines()) == 1

    nowhere = liveshift("plan", str(EXAMPLES / "users_email_lower.yaml"), "--dsn", "postgresql://127.0.0.1:1/x")
    assert nowhere.returncode == 2
    assert "cannot connect to the database" in nowhere.stderr
    assert len(nowhere.stderr.splitlines()) == 1


def test_plan_flags_raw_sql_as_unchecked(dsn: str, example_db: psycopg.Connection, tmp_path: Path) -> None:
    from liveshift.operations import OPERATION_TYPES

    if "raw_sql" not in {t.op_name for t in OPERATION_TYPES}:
        pytest.fail("the raw_sql operation is not registered")
    path = tmp_path / "raw.yaml"
    path.write_text(
        "name: raw_touch\noperations:\n  - op: raw_sql\n    up: CREATE INDEX users_name_idx ON users (name)\n"
        "    down: DROP INDEX users_name_idx\n"
    )
    result = liveshift("plan", str(path), "--dsn", dsn)
    assert result.returncode == 0, result.stderr
    assert "contains raw SQL" in result.stdout
    assert "[UNCHECKED raw SQL]" in result.stdout
    data = json.loads(liveshift("plan", str(path), "--dsn", dsn, "--json").stdout)
    assert data["unchecked"] is True
    assert any(s["unchecked"] for s in data["phases"]["expand"])


def test_schema_prints_the_migration_json_schema() -> None:
    result = liveshift("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"name", "operations"} <= set(schema["required"])
    assert "schema" in schema["properties"]
    ops = schema["properties"]["operations"]["items"]
    assert "add_column" in ops["discriminator"]["mapping"]
