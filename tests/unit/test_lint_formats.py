"""liveshift lint: statements that crashed it, exit 2 on its own failures, what it learns from the file, and
the formats CI tools read (GitHub workflow commands, SARIF, JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liveshift.cli.main import main
from liveshift.sqlconvert import analyze
from liveshift.sqlconvert.lint import lint_text


def test_drop_statements_of_every_object_kind_are_read() -> None:
    text = "SET lock_timeout = '1s';\nDROP SCHEMA old CASCADE;\nDROP TYPE mood;\nDROP FUNCTION f(int);\n"
    text += "DROP DOMAIN d;\nDROP TRIGGER tr ON t;\nDROP POLICY p ON t;\n"
    reports = lint_text(text, "drops.sql")
    assert [r.lock for r in reports[1:]] == ["ACCESS EXCLUSIVE", "none", "none", "none", *["ACCESS EXCLUSIVE"] * 2]
    assert reports[1].assumed  # which tables the schema holds needs the catalog


def test_an_internal_error_exits_2_naming_file_and_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(scope: object, node: object) -> list:
        raise AttributeError("'str' object has no attribute 'sval'")

    monkeypatch.setitem(analyze.ANALYSERS, analyze.ast.DropStmt, broken)
    path = tmp_path / "m.sql"
    path.write_text("SET lock_timeout = '1s';\n\nDROP SCHEMA s CASCADE;\n")
    assert main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: internal error in liveshift lint on `DROP SCHEMA s CASCADE`: AttributeError" in err


def test_the_file_s_own_tables_decide_catalog_questions() -> None:
    text = "SET lock_timeout = '1s';\nCREATE TABLE t (v varchar(20), n numeric(8,2), i int);\n"
    reports = lint_text(text + "ALTER TABLE t ALTER COLUMN v TYPE text;\n", "t.sql")
    assert (reports[2].rewrites, reports[2].assumed) == (False, [])
    other = "ALTER TABLE u ALTER COLUMN i TYPE bigint;\nALTER TABLE u ALTER COLUMN v TYPE varchar(40);\n"
    reports = lint_text("SET lock_timeout = '1s';\n" + other, "u.sql")
    assert [r.rewrites for r in reports[1:]] == [True, False]
    assert all("--dsn" in r.assumed[0] for r in reports[1:])


def test_partition_of_a_parent_with_a_default_partition_scans_it() -> None:
    text = "SET lock_timeout = '1s';\nCREATE TABLE ev (at date) PARTITION BY RANGE (at);\n"
    text += "CREATE TABLE ev_def PARTITION OF ev DEFAULT;\n"
    text += "ALTER TABLE ev ATTACH PARTITION ev_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n"
    report = lint_text(text, "p.sql")[3]
    # the parent and its DEFAULT partition were created by this file (nobody's traffic): only ev_2025 counts
    assert [(lock.relation, lock.mode) for lock in report.locks] == [("ev_2025", "ACCESS EXCLUSIVE")]
    assert [f.code for f in report.findings] == ["attach-partition-scan"]
    existing = "SET lock_timeout = '1s';\n" + text.split("\n", 3)[3]
    # unknown: a range-partitioned parent is assumed to have no DEFAULT partition, a list-partitioned one to
    # have one (the hazardous case), a hash-partitioned one cannot; each said
    unknown = lint_text(existing, "p.sql")[1]
    assert unknown.assumed == ["assumed ev has no DEFAULT partition (range partitions rarely do); --dsn reads it"]
    assert [f.code for f in unknown.findings] == ["attach-partition-scan"]
    listed = lint_text("SET lock_timeout = '1s';\nALTER TABLE ev ATTACH PARTITION ev_us FOR VALUES IN ('us');", "p.sql")
    assert listed[1].assumed == [
        "assumed ev has a DEFAULT partition, ev_default (locked ACCESS EXCLUSIVE and scanned); --dsn reads it"
    ]
    assert ("ev_default", "ACCESS EXCLUSIVE") in [(lock.relation, lock.mode) for lock in listed[1].locks]
    assert [f.code for f in listed[1].findings] == ["attach-partition-scan", "partition-default-scan"]
    hashed = "SET lock_timeout = '1s';\nCREATE TABLE ev_0 PARTITION OF ev FOR VALUES WITH (MODULUS 4, REMAINDER 0);"
    assert lint_text(hashed, "p.sql")[1].findings == [] and lint_text(hashed, "p.sql")[1].assumed == []


def test_attach_of_a_partition_whose_validated_check_proves_its_bound_does_not_scan_it() -> None:
    text = "SET lock_timeout = '1s';\n"
    text += "ALTER TABLE ev_27 ADD CONSTRAINT b CHECK (at >= '2027-01-01' AND at < '2028-01-01') NOT VALID;\n"
    attach = "ALTER TABLE ev ATTACH PARTITION ev_27 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n"
    # NOT VALID proves nothing; validated, the bound is proven
    assert "attach-partition-scan" in [f.code for f in lint_text(text + attach, "p.sql")[2].findings]
    validated = text + "ALTER TABLE ev_27 VALIDATE CONSTRAINT b;\n" + attach
    assert lint_text(validated, "p.sql")[3].findings == []
    # …unless the parent has an index the partition lacks: ATTACH builds it, a scan under ACCESS EXCLUSIVE
    indexed = "CREATE TABLE ev (at date) PARTITION BY RANGE (at);\nCREATE INDEX ev_at ON ev (at);\n" + validated
    assert [f.code for f in lint_text(indexed, "p.sql")[5].findings] == ["attach-partition-scan"]


@pytest.fixture
def hazard(tmp_path: Path) -> Path:
    path = tmp_path / "m.sql"
    path.write_text("SET lock_timeout = '1s';\nCREATE INDEX i ON t (a);\n")
    return path


def test_github_annotations(hazard: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "github", str(hazard)]) == 1
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"::warning file={hazard},line=2,endLine=2,title=liveshift lint%3A require-concurrent")
    assert "Safely: create_index" in line


def test_sarif(hazard: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "sarif", str(hazard)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == "2.1.0"
    (result,) = data["runs"][0]["results"]
    assert result["ruleId"] == "require-concurrent-index-creation"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert [r["id"] for r in data["runs"][0]["tool"]["driver"]["rules"]] == [result["ruleId"]]


def test_json_format_lists_every_relation_lock(hazard: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--format", "json", str(hazard)]) == 1
    statement = json.loads(capsys.readouterr().out)["statements"][1]
    assert statement["locks"] == [{"relation": "t", "mode": "SHARE", "index": False}]


def test_unreachable_catalog_exits_2(hazard: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--dsn", "host=127.0.0.1 port=1 connect_timeout=2", str(hazard)]) == 2
    assert "--dsn: cannot read the catalog" in capsys.readouterr().err


def test_partitions_and_foreign_keys_are_read_from_their_conventional_names() -> None:
    text = "SET lock_timeout = '1s';\nDROP TABLE events_2023;\nDROP TABLE order_items;\n"
    text += 'ALTER TABLE "accounts" DROP CONSTRAINT "accounts_organization_id_4b3c2a1f_fk_organizations_id";\n'
    reports = lint_text(text, "n.sql")
    assert [[lock.relation for lock in r.locks] for r in reports[1:]] == [
        ["events", "events_2023"],
        ["order_items"],
        ["accounts", "organizations"],
    ]
