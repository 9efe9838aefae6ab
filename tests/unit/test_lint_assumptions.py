"""What lint assumes without the catalog, and what it learns instead from the file, a schema file (--schema)
or a DO block's statements: each verdict says what it assumed, and knowing the catalog replaces the guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveshift.cli.main import main
from liveshift.sqlconvert.lint import StatementReport, learn_schema, lint_text

SCHEMA = """
CREATE DOMAIN checked_int AS int CHECK (VALUE > 0);
CREATE TABLE users (id bigint PRIMARY KEY, name varchar(40), code text, born timestamp, ip cidr);
CREATE TABLE posts (id int PRIMARY KEY, user_id bigint REFERENCES users (id), slug text);
CREATE INDEX posts_slug_idx ON posts (slug);
CREATE TABLE ev (at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE ev_default PARTITION OF ev DEFAULT;
"""


def report(sql: str, schema: Path | None = None) -> StatementReport:
    knowledge = learn_schema(str(schema)) if schema else None
    return lint_text(f"SET lock_timeout = '1s';\n{sql};\n", "m.sql", knowledge)[-1]


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    path = tmp_path / "structure.sql"
    path.write_text(SCHEMA)
    return path


@pytest.mark.parametrize(
    ("sql", "rewrites", "assumed"),
    [
        ("ALTER TABLE users ALTER COLUMN name TYPE varchar(80)", False, "a narrower varchar"),
        ("ALTER TABLE users ALTER COLUMN ip TYPE inet", False, "cidr"),
        ("ALTER TABLE users ALTER COLUMN born TYPE timestamptz", False, "UTC"),
        # Prisma's @db.Timestamptz(3) on a TIMESTAMP(3) column: the precision rounds every value
        ("ALTER TABLE users ALTER COLUMN born TYPE timestamptz(3)", True, "a precision below 6"),
        ("ALTER TABLE users ALTER COLUMN id TYPE numeric(30, 0)", False, "a narrower varchar, text or numeric"),
        ("ALTER TABLE users ALTER COLUMN id TYPE int", True, "of a type it converts"),
        # Django's FloatField to DecimalField: it writes USING only where the base type changes
        ("ALTER TABLE users ALTER COLUMN id TYPE numeric(3, 2) USING id::numeric(3, 2)", True, "a cast to numeric"),
        ("ALTER TABLE users ADD COLUMN level checked_int", False, "not a domain with constraints"),
    ],
)
def test_without_the_catalog_the_guess_is_stated(sql: str, rewrites: bool, assumed: str) -> None:
    found = report(sql)
    assert found.rewrites == rewrites
    assert any(assumed in note for note in found.assumed), found.assumed


@pytest.mark.parametrize(
    ("sql", "rewrites"),
    [
        ("ALTER TABLE users ALTER COLUMN name TYPE varchar(80)", False),
        ("ALTER TABLE users ALTER COLUMN name TYPE varchar(10)", True),
        ("ALTER TABLE users ALTER COLUMN code TYPE varchar(10)", True),
        ("ALTER TABLE users ALTER COLUMN id TYPE numeric(30, 0)", True),
        ("ALTER TABLE users ADD COLUMN level checked_int", True),
    ],
)
def test_a_schema_file_replaces_the_guess(schema: Path, sql: str, rewrites: bool) -> None:
    found = report(sql, schema)
    assert found.rewrites == rewrites
    assert not [n for n in found.assumed if "--dsn reads" in n and "TimeZone" not in n]


def test_a_schema_file_names_partitions_parents_and_referenced_tables(schema: Path) -> None:
    created = report("CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')", schema)
    assert {lock.relation: lock.mode for lock in created.locks} == {
        "ev": "ACCESS EXCLUSIVE",
        "ev_default": "ACCESS EXCLUSIVE",
    }
    assert created.scans_under_lock and [f.code for f in created.findings] == ["partition-default-scan"]
    dropped = report("DROP TABLE ev_2024", schema)
    assert {lock.relation for lock in dropped.locks} == {"ev", "ev_2024", "ev_default"}
    unnamed_fk = report("ALTER TABLE posts DROP CONSTRAINT posts_user_id_fkey", schema)
    assert {lock.relation for lock in unnamed_fk.locks} == {"posts", "users"}
    sql = "BEGIN;\nLOCK TABLE posts;\nUPDATE posts SET slug = 'x' WHERE slug = 'y';\nCOMMIT;\n"
    indexed = lint_text(sql, "m.sql", learn_schema(str(schema)))[2]  # posts_slug_idx: a lookup
    assert (indexed.findings, indexed.assumed) == ([], [])


def test_schema_tables_are_traffic_not_new(schema: Path) -> None:
    assert [f.code for f in report("CREATE INDEX ON users (name)", schema).findings] == [
        "require-concurrent-index-creation"
    ]


def test_an_update_pinned_to_the_key_is_a_lookup() -> None:
    sql = "BEGIN;\nLOCK TABLE users IN ACCESS EXCLUSIVE MODE;\nUPDATE users SET name = 'x' WHERE id = 1;\nCOMMIT;\n"
    update = lint_text(sql, "m.sql")[2]
    assert not [f.code for f in update.findings if f.code == "holding-lock-in-transaction"]
    assert any("primary key" in note for note in update.assumed)
    scanning = lint_text(sql.replace("id = 1", "name IS NULL"), "m.sql")[2]
    assert "holding-lock-in-transaction" in [f.code for f in scanning.findings]


def test_on_only_builds_no_index() -> None:
    found = report("CREATE INDEX ev_at ON ONLY ev (at)")
    assert (found.lock, found.scans_under_lock, found.findings) == ("SHARE", False, [])
    assert any("partitioned" in note for note in found.assumed)


def test_do_blocks_are_read_statement_by_statement() -> None:
    body = """DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'c') THEN
    ALTER TABLE invoices ADD CONSTRAINT c CHECK (amount > 0);
  END IF;
  EXECUTE 'CREATE INDEX invoices_at ON invoices (at)';
  EXECUTE format('DROP TABLE %I', 'other');
END
$$"""
    found = report(body)
    # format()'s statement is read with the name it is given at run time unknown
    assert found.lock == "ACCESS EXCLUSIVE" and found.tables == ["(named at run time)", "invoices"]
    codes = {"constraint-missing-not-valid", "require-concurrent-index-creation", "ban-drop-table"}
    assert {f.code for f in found.findings} == codes
    assert report("DO LANGUAGE plv8 $$ plv8.execute('ALTER TABLE t DROP COLUMN a') $$").findings == []


def test_queries_take_access_share_on_what_they_read() -> None:
    assert {lock.relation: lock.mode for lock in report("SELECT count(*) FROM users JOIN pg_class ON true").locks} == {
        "users": "ACCESS SHARE"
    }
    copied = report("INSERT INTO archive SELECT * FROM orders")
    assert {lock.relation: lock.mode for lock in copied.locks} == {"archive": "ROW EXCLUSIVE", "orders": "ACCESS SHARE"}


def test_cli_schema_option(schema: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    migration = tmp_path / "0001.sql"
    migration.write_text("SET lock_timeout = '1s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(10);\n")
    assert main(["lint", str(migration), "--findings-only"]) == 0  # assumed a widening
    assert main(["lint", str(migration), "--schema", str(schema), "--findings-only"]) == 1
    assert "changing-column-type" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("sql", "relation", "mode"),
    [
        ("ALTER TABLE posts DROP CONSTRAINT posts_user_id_fkey", "users", "ACCESS EXCLUSIVE"),
        ("ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_fk", "orders", "ROW SHARE"),
        ("ALTER TABLE posts DROP CONSTRAINT posts_category_id_fkey", "categories", "ACCESS EXCLUSIVE"),
    ],
)
def test_a_foreign_key_is_known_by_its_name(sql: str, relation: str, mode: str) -> None:
    found = report(sql)
    assert (relation, mode) in {(lock.relation, lock.mode) for lock in found.locks}
    assert any(f"referencing {relation} (by its name)" in note for note in found.assumed)


def test_a_constraint_not_named_as_a_foreign_key_locks_its_table_alone() -> None:
    assert [lock.relation for lock in report("ALTER TABLE invoices VALIDATE CONSTRAINT invoices_user_id_nn").locks] == [
        "invoices"
    ]


def test_sequences_are_named_as_postgresql_names_them() -> None:
    restarted = report("ALTER TABLE orders ALTER COLUMN id RESTART WITH 1000")
    assert {lock.relation: lock.mode for lock in restarted.locks} == {
        "orders": "ACCESS EXCLUSIVE",
        "orders_id_seq": "SHARE ROW EXCLUSIVE",
    }
    reset = report("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
    assert {lock.relation: lock.mode for lock in reset.locks} == {
        "orders": "ACCESS SHARE",
        "orders_id_seq": "ROW EXCLUSIVE",
    }


def test_a_refresh_states_the_tables_its_query_reads_are_assumed(schema: Path) -> None:
    """Without the catalog lint cannot name the tables a materialized view's query reads (ACCESS SHARE on each):
    it says so; a view the file or a schema file defines has its sources named, and WITH NO DATA reads none."""
    found = report("REFRESH MATERIALIZED VIEW CONCURRENTLY daily")
    assert ("ACCESS SHARE", "(tables daily reads)") in {(lock.mode, lock.relation) for lock in found.locks}
    assert any("query of daily reads tables" in note for note in found.assumed), found.assumed
    schema.write_text(SCHEMA + "CREATE MATERIALIZED VIEW slugs AS SELECT slug FROM posts;\n")
    named = report("REFRESH MATERIALIZED VIEW CONCURRENTLY slugs", schema)
    assert ("ACCESS SHARE", "posts") in {(lock.mode, lock.relation) for lock in named.locks}
    assert not named.assumed
    assert report("REFRESH MATERIALIZED VIEW daily WITH NO DATA").assumed == []


def test_a_domains_constraint_locks_the_partitions_a_schema_file_declares(schema: Path) -> None:
    """A partitioned table with a column of the domain holds no values itself: its partitions (which a schema file
    declares with PARTITION OF, columns inherited) are checked and locked, as test_lint_facts.py measures."""
    schema.write_text(
        SCHEMA + "CREATE DOMAIN cents AS bigint;\n"
        "CREATE TABLE ledger (id bigint, amount cents) PARTITION BY RANGE (id);\n"
        "CREATE TABLE ledger_1 PARTITION OF ledger FOR VALUES FROM (0) TO (100);\n"
        "CREATE TABLE ledger_2 PARTITION OF ledger FOR VALUES FROM (100) TO (200) PARTITION BY RANGE (id);\n"
        "CREATE TABLE ledger_2a PARTITION OF ledger_2 FOR VALUES FROM (100) TO (150);\n"
        "CREATE TABLE fees (id int, amount cents);\n"
    )
    found = report("ALTER DOMAIN cents ADD CONSTRAINT positive CHECK (VALUE >= 0)", schema)
    assert {(lock.mode, lock.relation) for lock in found.locks} == {
        ("SHARE", "fees"), ("SHARE", "ledger_1"), ("SHARE", "ledger_2a")
    }  # fmt: skip
