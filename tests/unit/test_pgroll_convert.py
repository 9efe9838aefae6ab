"""pgroll migration files converted (liveshift/sqlconvert/pgroll.py): the mapping of each operation and field, what
is reported rather than dropped, and bad input naming file, operation and field. No database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from liveshift.sqlconvert.pgroll import convert_pgroll, expression, is_pgroll, pgroll_files
from liveshift.sqlconvert.statements import SqlInputError

EXAMPLES = Path(__file__).parents[1] / "data" / "pgroll_examples"


def _convert(tmp_path: Path, operations: list[dict], name: str = "07_thing.yaml", **top: object) -> object:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({**top, "operations": operations}, sort_keys=False))
    return convert_pgroll(path)


def _ops(conversion: object) -> list[dict]:
    return yaml.safe_load(conversion.text)["operations"]  # type: ignore[attr-defined]


def test_select_expressions_become_expressions() -> None:
    assert expression("SELECT CASE WHEN a IS NULL THEN 'x' ELSE a END") == "CASE WHEN a IS NULL THEN 'x' ELSE a END"
    assert expression("upper(name)") == "upper(name)"
    assert expression("SELECT max(id) FROM users") == "(SELECT max(id) FROM users)"


def test_columns_are_not_null_unless_nullable_and_keys_over_several_columns_are_a_list(tmp_path: Path) -> None:
    columns = [
        {"name": "a", "type": "int", "pk": True},
        {"name": "b", "type": "int", "pk": True},
        {
            "name": "c",
            "type": "text",
            "nullable": True,
            "comment": "c!",
            "check": {"name": "c_len", "constraint": "length(c) > 1"},
        },
    ]
    conversion = _convert(tmp_path, [{"create_table": {"name": "t", "columns": columns, "comment": "t!"}}])
    (op,) = _ops(conversion)
    assert op["primary_key"] == ["a", "b"]
    assert [c["nullable"] for c in op["columns"]] == [False, False, True]
    assert op["columns"][2]["check"] == {"name": "c_len", "expression": "length(c) > 1"}
    assert op["comment"] == "t!" and op["columns"][2]["comment"] == "c!"
    assert conversion.migration.name == "07_thing"  # type: ignore[attr-defined]


def test_table_constraints_keep_their_names_and_options(tmp_path: Path) -> None:
    conversion = convert_pgroll(EXAMPLES / "51_create_table_with_table_foreign_key_constraint.yaml")
    (op,) = _ops(conversion)
    assert op["primary_key"] == ["id"] and op["primary_key_name"] == "phonebook_pk"
    fk, unique, check = op["constraints"]
    assert fk["references"] == {
        "table": "telephone_providers",
        "columns": ["id"],
        "on_delete": "CASCADE",
        "on_update": "CASCADE",
    }
    assert unique == {"name": "unique_numbers", "type": "unique", "columns": ["phone"], "include": ["name"]}
    assert check["check"] == "length(name) > 0"
    assert conversion.reviews == []  # type: ignore[attr-defined]


def test_exclusion_constraint_elements(tmp_path: Path) -> None:
    (op,) = _ops(convert_pgroll(EXAMPLES / "52_create_table_with_exclusion_constraint.yaml"))
    exclude = op["constraints"][0]
    assert exclude["exclude"] == [{"column": "title", "operator": "="}]
    assert exclude["method"] == "btree" and exclude["where"] == "title IS NOT NULL"


def test_alter_column_fields_and_explicit_nulls(tmp_path: Path) -> None:
    (multiple,) = _ops(convert_pgroll(EXAMPLES / "35_alter_column_multiple.yaml"))
    assert multiple["type"] == "text" and multiple["nullable"] is False and multiple["default"] == "'unknown event'"
    assert multiple["unique"] == {"name": "events_event_name_unique"}
    assert multiple["check"] == {"name": "event_name_length", "expression": "length(name) > 3"}
    assert multiple["up"].startswith("CASE WHEN")
    (comment,) = _ops(convert_pgroll(EXAMPLES / "36_set_comment_to_null.yaml"))
    assert comment == {"op": "alter_column", "table": "events", "column": "name", "comment": None}  # up/down: as is
    (default,) = _ops(convert_pgroll(EXAMPLES / "46_alter_column_drop_default.yaml"))
    assert "default" in default and default["default"] is None


def test_renames_index_options_replica_identity(tmp_path: Path) -> None:
    (rename,) = _ops(convert_pgroll(EXAMPLES / "13_rename_column.yaml"))
    assert rename == {"op": "rename_column", "table": "employees", "column": "role", "to": "job_title"}
    (index,) = _ops(convert_pgroll(EXAMPLES / "38_create_hash_index_with_fillfactor.yaml"))
    assert index["method"] == "hash" and index["storage_parameters"] == {"fillfactor": 70}
    (opclass,) = _ops(convert_pgroll(EXAMPLES / "54_create_index_with_opclass.yaml"))
    assert opclass["columns"] == [{"name": "id", "opclass": "int8_ops"}]
    (identity,) = _ops(convert_pgroll(EXAMPLES / "29_set_replica_identity.yaml"))
    assert identity == {"op": "set_replica_identity", "table": "fruits", "identity": "index", "index": "fruits_pkey"}


def test_index_columns_as_a_map(tmp_path: Path) -> None:
    columns = {"name": {"sort": "DESC", "nulls": "LAST", "collate": "C"}, "id": None}
    (op,) = _ops(_convert(tmp_path, [{"create_index": {"name": "i", "table": "t", "columns": columns}}]))
    assert op["columns"] == [{"name": "name", "collation": "C", "order": "desc", "nulls": "last"}, "id"]


def test_sql_runs_at_expand_or_at_contract(tmp_path: Path) -> None:
    (up,) = _ops(convert_pgroll(EXAMPLES / "05_sql.yaml"))
    assert up == {
        "op": "raw_sql",
        "up": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
        "down": "DROP TABLE users",
    }
    (complete,) = _ops(convert_pgroll(EXAMPLES / "32_sql_on_complete.yaml"))
    assert complete == {"op": "raw_sql", "on_complete": "ALTER TABLE people ADD COLUMN birth_date timestamp"}


def test_create_constraint_up_down_as_they_are_are_left_out(tmp_path: Path) -> None:
    (op,) = _ops(convert_pgroll(EXAMPLES / "44_add_table_unique_constraint.yaml"))
    assert op == {
        "op": "add_constraint",
        "table": "tickets",
        "name": "unique_zip_name",
        "type": "unique",
        "columns": ["sellers_name", "sellers_zip"],
    }


def test_what_liveshift_lacks_is_a_review_never_dropped(tmp_path: Path) -> None:
    conversion = convert_pgroll(EXAMPLES / "23_drop_check_constraint.yaml")
    assert [(r.field, r.op) for r in conversion.reviews] == [("down", "drop_constraint")]
    assert "REVIEW down" in conversion.text
    params = {"index_parameters": {"tablespace": "fast"}}
    constraint = {"name": "k", "type": "unique", "columns": ["a"], **params}
    table = {"name": "t", "columns": [{"name": "a", "type": "int"}], "constraints": [constraint]}
    conversion = _convert(tmp_path, [{"create_table": table}])
    assert [r.field for r in conversion.reviews] == ["constraints[0].index_parameters.tablespace"]  # type: ignore[attr-defined]


def test_version_schema_names_the_migration(tmp_path: Path) -> None:
    conversion = convert_pgroll(EXAMPLES / "56_with_version_schema.yaml")
    assert conversion.migration.name == "with_version_schema"


def test_json_files_and_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "01_x.json"
    path.write_text(json.dumps({"operations": [{"drop_table": {"name": "t"}}]}, indent=2))
    conversion = convert_pgroll(path)
    assert _ops(conversion) == [{"op": "drop_table", "table": "t"}]


def test_bad_input_names_file_operation_and_field(tmp_path: Path) -> None:
    with pytest.raises(SqlInputError, match=r"07_thing.yaml.*operations\[0\] \(add_column\).*colour"):
        _convert(tmp_path, [{"add_column": {"table": "t", "column": {"name": "c", "type": "int", "colour": 1}}}])
    path = tmp_path / "02.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "operations": [{"op": "drop_table", "table": "t"}]}))
    with pytest.raises(SqlInputError, match="a liveshift migration already"):
        convert_pgroll(path)


def test_shape_and_directory_order() -> None:
    assert is_pgroll({"operations": [{"sql": {"up": "SELECT 1"}}]})
    assert not is_pgroll({"operations": [{"op": "raw_sql", "up": "SELECT 1"}]})
    assert not is_pgroll({"operations": [{"sql": {"up": "x"}, "drop_table": {"name": "t"}}]})
    files = pgroll_files(EXAMPLES)
    assert len(files) == 56 and files[0].name == "01_create_tables.yaml" and files[-1].name.startswith("56_")


def test_raw_sql_needs_up_or_on_complete() -> None:
    from liveshift.catalog import Catalog
    from liveshift.errors import SpecError
    from liveshift.operations.raw_sql import RawSql

    RawSql(on_complete="SELECT 1").check(Catalog(schema_name="public"))
    with pytest.raises(SpecError, match="give up"):
        RawSql(down="SELECT 1").check(Catalog(schema_name="public"))


def test_cli_converts_a_directory_in_order_into_another(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import shutil

    from liveshift.cli.commands.convert import run

    source, out = tmp_path / "pgroll", tmp_path / "out"
    source.mkdir()
    for name in ("01_create_tables.yaml", "23_drop_check_constraint.yaml", "32_sql_on_complete.yaml"):
        shutil.copy(EXAMPLES / name, source / name)
    assert run(argparse.Namespace(file=str(source), output=None, name=None)) == 2  # -o names where to write
    assert run(argparse.Namespace(file=str(source), output=str(out), name=None)) == 3  # 23's REVIEW
    assert sorted(p.name for p in out.iterdir()) == [
        "01_create_tables.yaml",
        "23_drop_check_constraint.yaml",
        "32_sql_on_complete.yaml",
    ]
    assert "REVIEW" in capsys.readouterr().err


def test_identity_sequence_options_become_fields(tmp_path: Path) -> None:
    identity = {"user_specified_values": "ALWAYS", "sequence_options": "START 10 INCREMENT BY 5 CACHE 2 NO CYCLE"}
    column = {"name": "id", "type": "bigint", "pk": True, "generated": {"identity": identity}}
    (op,) = _ops(_convert(tmp_path, [{"create_table": {"name": "t", "columns": [column]}}]))
    expected = {"generated": "always", "start": 10, "increment": 5, "cache": 2, "cycle": False}
    assert op["columns"][0]["identity"] == expected
    identity["sequence_options"] = "OWNED BY NONE"
    conversion = _convert(tmp_path, [{"create_table": {"name": "t", "columns": [column]}}])
    assert [r.field for r in conversion.reviews] == ["columns[0].generated.identity.sequence_options"]  # type: ignore[attr-defined]
