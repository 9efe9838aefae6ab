"""Migration file parsing: every refusal names the file, the operation's index and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveshift.errors import SpecError
from liveshift.operations import OPERATION_TYPES
from liveshift.spec import Migration, json_schema, load_migration, parse_migration

VALID = {
    "name": "users_email_lower",
    "operations": [
        {"op": "add_column", "table": "users", "column": {"name": "email_lower", "type": "text"}, "up": "lower(email)"}
    ],
}


def refusal(data: object, file: str = "m.yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_migration(data, file=file)
    return info.value


def test_valid_file_parses_with_defaults() -> None:
    m = parse_migration(VALID, file="m.yaml")
    assert (m.name, m.schema_name) == ("users_email_lower", "public")
    op = m.operations[0]
    assert (op.op_name, op.table, op.column.name, op.column.nullable, op.up) == (
        "add_column",
        "users",
        "email_lower",
        True,
        "lower(email)",
    )
    assert m.tables() == ["users"]


def test_unknown_op_names_index_and_field() -> None:
    data = {"name": "m1", "operations": [VALID["operations"][0], {"op": "teleport_column", "table": "users"}]}
    err = refusal(data)
    assert (err.file, err.index, err.op) == ("m.yaml", 1, "teleport_column")
    assert str(err).startswith("m.yaml: operations[1] (teleport_column): ")
    assert err.field == "op"
    assert err.message.startswith("unknown operation 'teleport_column'; one of: ")
    assert "add_column" in err.message


def test_missing_op_field() -> None:
    err = refusal({"name": "m1", "operations": [{"table": "users"}]})
    assert (err.index, err.field) == (0, "op")
    assert err.message.startswith("Field required; one of: ")


def test_missing_nested_field_names_the_dotted_path() -> None:
    data = {"name": "m1", "operations": [{"op": "add_column", "table": "users", "column": {"name": "x"}}]}
    err = refusal(data)
    assert (err.index, err.op, err.field) == (0, "add_column", "column.type")
    assert str(err) == "m.yaml: operations[0] (add_column): field 'column.type': Field required"


def test_unknown_field_is_refused() -> None:
    op = {**VALID["operations"][0], "upp": "lower(email)"}
    err = refusal({"name": "m1", "operations": [op]})
    assert (err.index, err.field) == (0, "upp")
    assert "Extra inputs are not permitted" in err.message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("Users", "should match pattern"), ("x" * 101, "at most 100"), ("base", "'base' names the version")],
)
def test_bad_migration_name(name: str, fragment: str) -> None:
    err = refusal({**VALID, "name": name})
    assert (err.index, err.field) == (None, "name")
    assert fragment in err.message
    assert str(err).startswith("m.yaml: field 'name': ")


def test_no_operations_and_several_problems_counted() -> None:
    assert refusal({"name": "m1", "operations": []}).field == "operations"
    err = refusal({"operations": [{"table": "users"}], "extra": 1})
    assert "more problems" in err.message


def test_load_yaml_json_and_malformed_files(tmp_path: Path) -> None:
    as_json = tmp_path / "m.json"
    as_json.write_text(json.dumps(VALID))
    assert load_migration(as_json).name == "users_email_lower"

    as_yaml = tmp_path / "m.yaml"
    as_yaml.write_text(
        "name: m1\noperations:\n  - op: add_column\n    table: users\n    column: {name: a, type: int}\n"
    )
    assert load_migration(as_yaml).operations[0].column.type == "int"

    broken = tmp_path / "broken.yaml"
    broken.write_text("name: m1\noperations: [\n")
    with pytest.raises(SpecError, match=r"broken\.yaml: not valid YAML"):
        load_migration(broken)

    broken_json = tmp_path / "broken.json"
    broken_json.write_text("{")
    with pytest.raises(SpecError, match=r"broken\.json: not valid JSON"):
        load_migration(broken_json)

    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(SpecError, match=r"scalar\.yaml: a migration file holds a mapping"):
        load_migration(scalar)

    with pytest.raises(SpecError, match=r"missing\.yaml: cannot read"):
        load_migration(tmp_path / "missing.yaml")

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: m1\noperations:\n  - op: add_column\n    table: users\n")
    with pytest.raises(SpecError) as info:
        load_migration(wrong)
    assert (info.value.file, info.value.index, info.value.field) == (str(wrong), 0, "column")


def test_example_files_parse() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    good = [p for p in sorted(examples.iterdir()) if p.suffix in (".yaml", ".json")]
    assert len(good) >= 3
    for path in good:
        assert isinstance(load_migration(path), Migration)


def test_json_schema_covers_every_operation() -> None:
    schema = json_schema()
    assert schema["required"] == ["name", "operations"]
    assert schema["properties"]["schema"]["default"] == "public"
    items = schema["properties"]["operations"]["items"]
    assert set(items["discriminator"]["mapping"]) == {t.op_name for t in OPERATION_TYPES}
    assert schema["properties"]["name"]["pattern"] == "^[a-z0-9_][a-z0-9_-]*$"
    json.dumps(schema)  # serialisable as is


def test_model_dump_round_trips() -> None:
    m = parse_migration(VALID)
    again = parse_migration(m.model_dump(mode="json", by_alias=True))
    assert again == m
