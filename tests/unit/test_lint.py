"""liveshift lint on single statements: locks, rewrites, scans, hazards, lock_timeout tracking, CLI output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveshift.cli.main import main
from liveshift.sqlconvert.lint import lint_text
from liveshift.sqlconvert.statements import SqlInputError, split_sql


def one(sql: str) -> tuple[str, bool, bool, list[str]]:
    report = lint_text("SET lock_timeout = '1s';\n" + sql, "t.sql")[1]
    return report.lock, report.rewrites, report.scans_under_lock, [f.code for f in report.findings]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE t ADD COLUMN a text", ("ACCESS EXCLUSIVE", False, False, [])),
        ("ALTER TABLE t ADD COLUMN a int DEFAULT 7", ("ACCESS EXCLUSIVE", False, False, [])),
        (
            "ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid()",
            ("ACCESS EXCLUSIVE", True, False, ["adding-field-with-default"]),
        ),
        ("ALTER TABLE t ALTER COLUMN a TYPE bigint", ("ACCESS EXCLUSIVE", True, False, ["changing-column-type"])),
        ("ALTER TABLE t ALTER COLUMN a SET NOT NULL", ("ACCESS EXCLUSIVE", False, True, ["adding-not-nullable-field"])),
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", ("ACCESS EXCLUSIVE", False, False, [])),
        ("ALTER TABLE t VALIDATE CONSTRAINT c", ("SHARE UPDATE EXCLUSIVE", False, False, [])),
        ("CREATE INDEX i ON t (a)", ("SHARE", False, True, ["require-concurrent-index-creation"])),
        ("CREATE INDEX CONCURRENTLY i ON t (a)", ("SHARE UPDATE EXCLUSIVE", False, False, [])),
        ("CREATE TABLE n (id int PRIMARY KEY)", ("none", False, False, [])),
        ("VACUUM FULL t", ("ACCESS EXCLUSIVE", True, False, ["table-rewrite"])),
    ],
)
def test_statement_lock_and_hazards(sql: str, expected: tuple[str, bool, bool, list[str]]) -> None:
    assert one(sql) == expected


def test_several_subcommands_take_the_strongest_lock() -> None:
    lock, _, scans, codes = one(
        "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id), ALTER COLUMN b SET NOT NULL"
    )
    assert lock == "ACCESS EXCLUSIVE" and scans
    assert codes == ["adding-foreign-key-constraint", "constraint-missing-not-valid", "adding-not-nullable-field"]


def test_missing_lock_timeout_reported_once_at_first_blocking_statement_and_reset_counts() -> None:
    text = "CREATE TABLE n (id int);\nALTER TABLE t ADD COLUMN a text;\nALTER TABLE t ADD COLUMN b text;\n"
    text += "SET lock_timeout = '1s';\nRESET lock_timeout;\nALTER TABLE t ADD COLUMN c text;\n"
    codes = [(r.line, [f.code for f in r.findings]) for r in lint_text(text, "t.sql")]
    assert codes == [(1, []), (2, ["require-lock-timeout"]), (3, []), (4, []), (5, []), (6, [])]


def test_every_finding_names_a_safe_way() -> None:
    reports = lint_text("ALTER TABLE t RENAME COLUMN a TO b;\nCREATE INDEX i ON t (a);", "t.sql")
    safe = {f.code: f.safe for r in reports for f in r.findings}
    assert safe["renaming-column"].startswith("rename_column")
    assert safe["require-concurrent-index-creation"].startswith("create_index")


def test_lines_skip_comments_and_blank_lines() -> None:
    reports = lint_text("-- header\n\n/* block */ ALTER TABLE t\n  DROP COLUMN a;\nSELECT 1", "t.sql")
    assert [(r.line, r.end_line) for r in reports] == [(3, 4), (5, 5)]


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(SqlInputError) as err:
        lint_text("SELECT 1;\n\nALTER TABLEX t;", "broken.sql")
    assert str(err.value).startswith("broken.sql:3: syntax error")


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean.sql"
    clean.write_text("SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN a text;\n")
    hazard = tmp_path / "hazard.sql"
    hazard.write_text("SET lock_timeout = '1s';\n\nCREATE INDEX i ON t (a);\n")
    broken = tmp_path / "broken.sql"
    broken.write_text("ALTER TABLEX t;")
    assert main(["lint", str(clean)]) == 0
    assert main(["lint", str(clean), str(hazard), "--json"]) == 1
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{") :])
    assert data["findings"] == 1
    finding = data["statements"][-1]["findings"][0]
    assert (finding["file"], finding["line"], finding["code"]) == (str(hazard), 3, "require-concurrent-index-creation")
    assert main(["lint", str(hazard), "--findings-only"]) == 1
    assert f"{hazard}:3: require-concurrent-index-creation:" in capsys.readouterr().out
    assert main(["lint", str(broken)]) == 2
    assert f"{broken}:1: syntax error" in capsys.readouterr().err


def test_locks_held_across_a_transaction() -> None:
    text = (
        "SET lock_timeout = '1s';\nBEGIN;\nALTER TABLE t ADD COLUMN a text;\n"
        "ALTER TABLE t ADD CONSTRAINT c CHECK (a <> '') NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\n"
        "COMMIT;\nALTER TABLE t VALIDATE CONSTRAINT c;\nUPDATE t SET a = 'x';\n"
    )
    reports = lint_text(text, "t.sql")
    codes = {r.line: [f.code for f in r.findings] for r in reports}
    assert codes[5] == ["holding-lock-in-transaction", "constraint-missing-not-valid"]
    assert "holding ACCESS EXCLUSIVE on t (line 3)" in reports[4].findings[0].message
    assert codes[7] == [] and codes[8] == []  # after COMMIT nothing is held


def test_non_ascii_text_keeps_statements_and_lines_whole() -> None:
    reports = lint_text('-- café ☕\nALTER TABLE "tä" ADD COLUMN é text;\n-- ü\nDROP TABLE "tä";', "t.sql")
    assert [(r.line, r.statement) for r in reports] == [
        (2, 'ALTER TABLE "tä" ADD COLUMN é text'),
        (4, 'DROP TABLE "tä"'),
    ]
    with pytest.raises(SqlInputError, match=r"^t.sql:3: syntax error"):
        lint_text("-- ☕☕☕\n\nALTER TABLEX t", "t.sql")


def test_psql_meta_commands_are_skipped_as_psql_never_sends_them() -> None:
    text = "\\set ON_ERROR_STOP on\nSELECT '\\x';\n\\echo done\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n"
    text += "\\not a meta-command inside a body\nSELECT 1$$;\n"
    statements = split_sql(text, "m.sql")
    assert [(s.kind, s.line) for s in statements] == [("SelectStmt", 2), ("CreateFunctionStmt", 4)]
    assert statements[0].text == "SELECT '\\x'" and "\\not a meta-command" in statements[1].text


def test_the_table_of_an_unknown_index_is_read_from_rails_and_postgresql_names() -> None:
    text = "SET lock_timeout = '1s';\nDROP INDEX \"index_users_on_email\";\nDROP INDEX orders_pkey;\n"
    reports = lint_text(text, "i.sql")
    assert [[(lock.relation, lock.mode) for lock in r.locks] for r in reports[1:]] == [
        [("users", "ACCESS EXCLUSIVE")],
        [("orders", "ACCESS EXCLUSIVE")],
    ]
    assert reports[1].assumed == ["assumed index index_users_on_email is on table users (by its name); --dsn reads it"]


def test_the_table_of_an_unknown_index_is_one_the_file_names_later() -> None:
    # Prisma drops the old unique index before creating the new one on its table
    text = "SET lock_timeout = '1s';\nDROP INDEX \"User_email_key\";\n"
    text += 'CREATE UNIQUE INDEX "User_email_orgId_key" ON "User"("email", "orgId");\n'
    assert [(lock.relation, lock.mode) for lock in lint_text(text, "p.sql")[1].locks] == [("User", "ACCESS EXCLUSIVE")]


@pytest.mark.parametrize(
    ("index", "table"),
    [
        ("accounts_email_idx", "accounts"),
        ("order_items_order_id_idx", "order_items"),
        ("api_tokens_clinic_id_5e2b9c1f", "api_tokens"),
        ("ix_users_email", "users"),
        ("User_email_key", "User"),
        ("measurements_2024_device_id_idx", "measurements_2024"),
    ],
)
def test_the_table_of_an_index_no_statement_names_is_guessed_from_its_name(index: str, table: str) -> None:
    report = lint_text(f"SET lock_timeout = '1s';\nDROP INDEX \"{index}\";\n", "i.sql")[1]
    assert [(lock.relation, lock.mode) for lock in report.locks] == [(table, "ACCESS EXCLUSIVE")]
    assert report.assumed == [f"assumed index {index} is on table {table} (by its name); --dsn reads it"]


def test_a_statement_a_do_block_builds_is_read_with_its_run_time_names_unknown() -> None:
    text = "SET lock_timeout = '1s';\nDO $$DECLARE t text; BEGIN FOR t IN SELECT relname FROM pg_class LOOP\n"
    text += "EXECUTE format('CREATE INDEX ON %I (tenant_id)', t); END LOOP; END$$;\n"
    report = lint_text(text, "do.sql")[1]
    assert [(lock.relation, lock.mode) for lock in report.locks] == [("(named at run time)", "SHARE")]
    assert [f.code for f in report.findings] == ["require-concurrent-index-creation"]
    assert "read a statement EXECUTE builds with its run-time names and values unknown" in report.assumed


def test_a_query_under_a_lock_its_transaction_holds_is_reported() -> None:
    # the new table's foreign key takes SHARE ROW EXCLUSIVE on organizations, held while the copy reads it
    text = "SET lock_timeout = '1s';\nBEGIN;\nCREATE TABLE s (org bigint REFERENCES organizations (id));\n"
    text += "INSERT INTO s SELECT id FROM organizations;\nCOMMIT;\n"
    assert [f.code for f in lint_text(text, "t.sql")[3].findings] == ["holding-lock-in-transaction"]


def test_an_insert_leaving_id_to_its_default_draws_from_the_conventional_sequence() -> None:
    text = "SET lock_timeout = '1s';\nINSERT INTO audit (action) SELECT 'x' FROM users;\n"
    text += "INSERT INTO schema_migrations (version) VALUES ('1');\nINSERT INTO audit (id, action) VALUES (1, 'y');\n"
    text += "INSERT INTO flags (key, enabled) VALUES ('x', true);\n"  # VALUES seed a lookup table as often
    reports = lint_text(text, "s.sql")
    assert [{lock.relation for lock in r.locks} for r in reports[1:]] == [
        {"audit", "audit_id_seq", "users"},
        {"schema_migrations"},
        {"audit"},
        {"flags"},
    ]


def test_a_migration_tool_recording_a_migration_draws_from_its_tables_serial_id() -> None:
    # TypeORM's `migration:run` logs this INSERT; its `migrations` table (as Laravel's and Knex's) has `id SERIAL`
    text = "SET lock_timeout = '1s';\n"
    text += 'INSERT INTO "migrations"("timestamp", "name") VALUES (1763030000000, \'AgentAvatar1763030000000\');\n'
    text += "INSERT INTO knex_migrations (id, name, batch) VALUES (7, '20261101_x.js', 3);\n"
    reports = lint_text(text, "s.sql")
    assert [{lock.relation for lock in r.locks} for r in reports[1:]] == [
        {"migrations", "migrations_id_seq"},
        {"knex_migrations"},
    ]
    assert "serial id" in reports[1].assumed[0]


def test_the_rows_of_a_copy_from_stdin_are_not_statements() -> None:
    # pg_dump's data, or a seed script run by psql: the rows up to `\.` are COPY's input
    text = "SET lock_timeout = '1s';\nCOPY meds (id, name) FROM stdin;\n1\tAspirin\n2\tIbuprofen; 200mg\n\\.\n"
    text += "SELECT setval('meds_id_seq', 2);\n"
    reports = lint_text(text, "seed.sql")
    assert [(r.line, r.statement) for r in reports[1:]] == [
        (2, "COPY meds (id, name) FROM stdin"),
        (6, "SELECT setval('meds_id_seq', 2)"),
    ]
