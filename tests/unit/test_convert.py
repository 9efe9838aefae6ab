"""liveshift convert without a database: which operation each statement becomes, what is marked for review,
what stays raw_sql, and the errors (file and line)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from liveshift.cli.main import main
from liveshift.spec import parse_migration
from liveshift.sqlconvert.convert import Conversion, convert_statements, default_name
from liveshift.sqlconvert.statements import NothingToConvert, SqlInputError, split_sql


def convert(sql: str) -> Conversion:
    return convert_statements(split_sql(sql, "m.sql"), "m.sql", "m")


def ops(sql: str) -> list[dict]:
    return yaml.safe_load(convert(sql).text)["operations"]


def reviewed(sql: str) -> list[tuple[int, str]]:
    return [(r.index, r.field) for r in convert(sql).reviews]


def test_the_file_written_is_the_migration_validated() -> None:
    conversion = convert("ALTER TABLE users ADD COLUMN n text;\nCREATE INDEX ON users (n);")
    assert parse_migration(yaml.safe_load(conversion.text)) == conversion.migration
    assert "# [1] m.sql:2: CREATE INDEX ON users (n)" in conversion.text


def test_type_change_up_from_using_and_down_always_reviewed() -> None:
    assert ops("ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint")[0] == {
        "op": "alter_column", "table": "t", "column": "a", "type": "bigint", "up": "CAST(a AS bigint)",
    }  # fmt: skip
    assert reviewed("ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint") == [(0, "down")]
    assert reviewed("ALTER TABLE t ALTER COLUMN a TYPE bigint") == [(0, "up"), (0, "down")]


def test_down_of_a_type_change_uses_the_old_type_the_file_declares() -> None:
    found = ops("CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE text")[1]
    assert (found["up"], found["down"]) == ("CAST(a AS text)", "CAST(a AS integer)")


def test_not_null_without_default_gets_a_reviewed_candidate() -> None:
    assert ops("ALTER TABLE t ADD COLUMN c int NOT NULL")[0]["up"] == "0"
    assert reviewed("ALTER TABLE t ADD COLUMN c int NOT NULL") == [(0, "up")]
    assert reviewed("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 3") == []
    assert reviewed("ALTER TABLE t ALTER COLUMN c SET NOT NULL") == [(0, "up")]
    assert "up" not in ops("ALTER TABLE t ALTER COLUMN c SET NOT NULL")[0]  # unknown type: no value made up
    assert reviewed("ALTER TABLE t ALTER COLUMN c DROP NOT NULL") == [(0, "down")]


def test_a_default_set_with_not_null_fills_the_nulls_without_review() -> None:
    sql = "ALTER TABLE t ALTER COLUMN c SET DEFAULT 5, ALTER COLUMN c SET NOT NULL"
    assert ops(sql) == [
        {"op": "alter_column", "table": "t", "column": "c", "default": "5", "nullable": False, "up": "coalesce(c, 5)"}
    ]
    assert reviewed(sql) == []


def test_django_style_add_with_default_then_drop_default_is_one_add_column() -> None:
    found = ops(
        'ALTER TABLE "t" ADD COLUMN "c" int DEFAULT 0 NOT NULL;\nALTER TABLE "t" ALTER COLUMN "c" DROP DEFAULT;'
    )
    assert found == [
        {"op": "add_column", "table": "t", "column": {"name": "c", "type": "integer", "nullable": False}, "up": "0"}
    ]


def test_anything_else_is_raw_sql_with_its_reason_and_lint_findings() -> None:
    conversion = convert("CREATE INDEX i ON t (lower(a));\nCREATE VIEW v AS SELECT 1;")
    assert [op.op for op in conversion.migration.operations] == ["raw_sql", "raw_sql"]
    assert "lint: require-concurrent-index-creation" in conversion.text
    assert any(
        "m.sql:2: operations[1] (raw_sql): kept as raw_sql (no liveshift operation for View)" in n
        for n in conversion.notes
    )


def test_a_statement_with_one_unsupported_part_stays_whole() -> None:
    found = ops("ALTER TABLE t ADD COLUMN a text, ALTER COLUMN b SET STORAGE EXTERNAL")
    assert found == [{"op": "raw_sql", "up": "ALTER TABLE t ADD COLUMN a text, ALTER COLUMN b SET STORAGE EXTERNAL"}]


def test_concurrent_expression_index_loses_concurrently_only_under_review() -> None:
    conversion = convert("CREATE INDEX CONCURRENTLY i ON t (lower(a))")
    assert conversion.migration.operations[0].up == "CREATE INDEX i ON t ((lower(a)))"
    assert [(r.index, r.field) for r in conversion.reviews] == [(0, "up")]


def test_transaction_and_session_statements_are_skipped() -> None:
    conversion = convert("BEGIN;\nSET lock_timeout = '1s';\nDROP TABLE t;\nCOMMIT;")
    assert [op.op for op in conversion.migration.operations] == ["drop_table"]
    assert conversion.notes[:2] == [
        "m.sql:1: skipped 'BEGIN' (liveshift runs its own)",
        "m.sql:2: skipped \"SET lock_timeout = '1s'\" (liveshift runs its own)",
    ]


def test_schema_named_by_the_statements_becomes_the_migration_schema() -> None:
    assert convert("ALTER TABLE app.t DROP COLUMN a").migration.schema_name == "app"
    with pytest.raises(SqlInputError, match=r"^m.sql:2: a migration holds one schema"):
        convert("ALTER TABLE app.t DROP COLUMN a;\nALTER TABLE other.t DROP COLUMN a")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1;\nALTER TABLEX t", r"^m.sql:2: syntax error"),
        ("ALTER TABLE t DROP COLUMN a;\n\nVACUUM FULL t", r"^m.sql:3: cannot run inside a transaction"),
    ],
)
def test_errors_name_the_file_and_line(sql: str, message: str) -> None:
    with pytest.raises(SqlInputError, match=message):
        convert(sql)


@pytest.mark.parametrize("sql", ["BEGIN;\n--\n-- Alter field f on m\n--\n-- (no-op)\nCOMMIT;", "", "SET x = 1;"])
def test_sql_without_ddl_is_nothing_to_convert_not_an_error(sql: str) -> None:
    with pytest.raises(NothingToConvert, match=r"^m.sql: nothing to convert"):
        convert(sql)


DJANGO_CREATE_MODEL = """BEGIN;
CREATE TABLE "t" ("id" integer NOT NULL PRIMARY KEY, "ref_id" text COLLATE "C" NOT NULL);
CREATE TABLE "u" ("id" bigint NOT NULL PRIMARY KEY, "t_id" integer NOT NULL);
ALTER TABLE "t" ADD CONSTRAINT "t_ref_id_uniq" UNIQUE ("ref_id");
ALTER TABLE "u" ADD CONSTRAINT "u_t_id_fk_t_id" FOREIGN KEY ("t_id") REFERENCES "t" ("id");
CREATE INDEX "u_t_id_idx" ON "u" ("t_id");
ALTER TABLE "t" RENAME TO "t2";
CREATE INDEX "t2_ref_idx" ON "t2" ("ref_id");
COMMIT;"""


def test_statements_naming_a_table_created_as_raw_sql_stay_raw_sql() -> None:
    # a CreateModel with a column collation: the table is raw_sql, so are its constraints, a foreign key to it
    # and what follows a rename of it; the other table and its own index stay operations
    assert [op["op"] for op in ops(DJANGO_CREATE_MODEL)] == [
        "raw_sql", "create_table", "raw_sql", "raw_sql", "create_index", "raw_sql", "raw_sql"
    ]  # fmt: skip
    notes = convert(DJANGO_CREATE_MODEL).notes
    assert "m.sql:4: operations[2] (raw_sql): kept as raw_sql (names t, created by raw_sql above" in "\n".join(notes)


def test_identity_generated_and_primary_key_ddl_become_operations() -> None:
    created = ops(
        'CREATE TABLE "t" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY '
        '(START WITH 10 NO MINVALUE CYCLE), "a" int, "b" int GENERATED ALWAYS AS (a * 2) STORED, '
        '"c" int GENERATED ALWAYS AS (a) VIRTUAL)'
    )[0]["columns"]
    assert created[0]["identity"] == {"generated": "by_default", "start": 10, "cycle": True}
    assert (created[2]["generated"], created[3]["generated"]) == ("a * 2", {"expression": "a", "stored": False})
    assert ops("ALTER TABLE t ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY")[0]["column"]["identity"] == "always"
    assert ops("ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY")[0] == {
        "op": "alter_column", "table": "t", "column": "id", "identity": "always"
    }  # fmt: skip
    assert ops("ALTER TABLE t ADD PRIMARY KEY (a, b)")[0] == {
        "op": "add_primary_key",
        "table": "t",
        "columns": ["a", "b"],
    }
    assert ops("ALTER TABLE t ADD CONSTRAINT k PRIMARY KEY (a)")[0]["name"] == "k"
    # a stored generated column added to a live table means a rewrite: kept as written, with the reason
    assert ops("ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a) STORED")[0]["op"] == "raw_sql"
    folded = ops(
        "ALTER TABLE t ADD COLUMN n int NOT NULL;\nALTER TABLE t ALTER COLUMN n ADD GENERATED ALWAYS AS IDENTITY"
    )
    assert folded == [
        {"op": "add_column", "table": "t", "column": {"name": "n", "type": "integer", "identity": "always"}}
    ]


def test_default_names() -> None:
    assert default_name("migrations/0002_Add users.sql") == "m0002_add_users"
    assert default_name("add_email.sql") == "add_email"


def test_cli_writes_the_file_and_exit_codes_tell_review_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, review, broken = tmp_path / "clean.sql", tmp_path / "review.sql", tmp_path / "broken.sql"
    clean.write_text("ALTER TABLE t ADD COLUMN a text;\n")
    review.write_text("ALTER TABLE t ALTER COLUMN a TYPE bigint;\n")
    broken.write_text("\nALTER TABLEX t;\n")
    out = tmp_path / "m.yaml"
    assert main(["convert", str(clean), "-o", str(out), "--name", "add_a"]) == 0
    assert yaml.safe_load(out.read_text())["name"] == "add_a"
    assert main(["convert", str(review)]) == 3
    captured = capsys.readouterr()
    assert (
        "REVIEW" in captured.out
        and f"REVIEW: {review}:1: review operations[0] (alter_column) field 'up'" in captured.err
    )
    assert main(["convert", str(broken)]) == 2
    assert f"{broken}:2: syntax error" in capsys.readouterr().err
    empty, out = tmp_path / "empty.sql", tmp_path / "empty.yaml"
    empty.write_text("BEGIN;\n-- (no-op)\nCOMMIT;\n")
    assert main(["convert", str(empty), "-o", str(out)]) == 4  # nothing to convert: no file, not an error
    assert not out.exists() and "nothing to convert" in capsys.readouterr().err


def test_an_invalid_name_is_refused_as_the_migration_validation_says() -> None:
    with pytest.raises(SqlInputError, match=r"^m.sql: the converted migration is not valid: field 'name': String"):
        convert_statements(split_sql("DROP TABLE t", "m.sql"), "m.sql", "Bad Name")


def test_enum_types_and_their_values() -> None:
    assert ops(
        "CREATE TYPE app.mood AS ENUM ('happy', 'sad');\n"
        "ALTER TYPE app.mood ADD VALUE 'ok' BEFORE 'sad';\n"
        "ALTER TYPE app.mood ADD VALUE IF NOT EXISTS 'meh';\n"
        "ALTER TYPE app.mood RENAME VALUE 'sad' TO 'down';\n"
        "DROP TYPE app.legacy, app.old;"
    ) == [
        {"op": "create_enum", "name": "mood", "values": ["happy", "sad"]},
        {"op": "add_enum_value", "enum": "mood", "value": "ok", "before": "sad"},
        {"op": "add_enum_value", "enum": "mood", "value": "meh", "if_not_exists": True},
        {"op": "rename_enum_value", "enum": "mood", "value": "sad", "to": "down"},
        {"op": "drop_enum", "name": "legacy"},
        {"op": "drop_enum", "name": "old"},
    ]
    assert convert("CREATE TYPE app.mood AS ENUM ('a')").migration.schema_name == "app"
    assert ops("DROP TYPE mood CASCADE")[0]["op"] == "raw_sql"


def test_add_constraint_on_existing_columns_not_null_included() -> None:
    assert ops(
        "ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0);\n"
        "ALTER TABLE users ADD CONSTRAINT users_nick_nn NOT NULL nick;"
    ) == [
        {"op": "add_constraint", "table": "users", "name": "age_pos", "type": "check", "check": "age > 0"},
        {"op": "add_constraint", "table": "users", "name": "users_nick_nn", "type": "not_null", "columns": ["nick"]},
    ]


def test_comments_and_a_renamed_constraint() -> None:
    assert ops(
        "COMMENT ON TABLE users IS 'people';\n"
        "COMMENT ON COLUMN users.email IS NULL;\n"
        "COMMENT ON CONSTRAINT c ON users IS 'why';\n"
        "ALTER TABLE users RENAME CONSTRAINT a TO b;\n"
        "COMMENT ON INDEX i IS 'x';"
    ) == [
        {"op": "comment", "table": "users", "comment": "people"},
        {"op": "comment", "table": "users", "column": "email", "comment": None},
        {"op": "comment", "table": "users", "constraint": "c", "comment": "why"},
        {"op": "rename_constraint", "table": "users", "name": "a", "to": "b"},
        {"op": "raw_sql", "up": "COMMENT ON INDEX i IS 'x'"},
    ]


def test_a_foreign_key_with_its_options_is_add_constraint() -> None:
    assert ops(
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) MATCH FULL "
        "ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED"
    ) == [
        {"op": "add_constraint", "table": "orders", "name": "orders_user_fk", "type": "foreign_key",
         "columns": ["user_id"], "references": {"table": "users", "columns": ["id"], "on_delete": "SET NULL",
         "on_update": "CASCADE", "match": "full", "deferrable": True, "initially_deferred": True}},
    ]  # fmt: skip
    assert ops("ALTER TABLE o ADD FOREIGN KEY (a, b) REFERENCES u (x, y) ON DELETE SET NULL (a)")[0]["op"] == "raw_sql"
