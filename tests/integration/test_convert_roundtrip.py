"""convert round trip: for each statement class, the converted migration run through liveshift (expand, backfill,
validate, verify, cutover, contract) leaves the same physical schema as running the SQL directly."""

from __future__ import annotations

import psycopg
import pytest

from liveshift.sqlconvert.convert import convert_statements
from liveshift.sqlconvert.statements import split_sql
from tests.harness.db import complete, plain_alter_snapshot, snapshot

pytestmark = pytest.mark.integration

SETUP = """
CREATE TYPE state AS ENUM ('new', 'done');
CREATE TYPE legacy_kind AS ENUM ('a', 'b');
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name varchar(50), age int NOT NULL DEFAULT 0,
                    legacy text, code text);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, total numeric(10,2), note text, state state);
CREATE INDEX users_name_idx ON users (name);
ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0);
CREATE TABLE visits (id int NOT NULL, user_id bigint, day date);
CREATE INDEX visits_id_idx ON visits (id);
"""
ROWS = """
INSERT INTO users (email, name, age, code) SELECT 'u' || g || '@x.org', 'user ' || g, g % 90, 'c' || g
FROM generate_series(1, 300) g;
INSERT INTO orders (user_id, total, note) SELECT g, g, 'n' FROM generate_series(1, 300) g;
"""

CASES = {
    "add nullable column": ("ALTER TABLE users ADD COLUMN nickname text", ["add_column"]),
    "add column with default": ("ALTER TABLE users ADD COLUMN score bigint NOT NULL DEFAULT 7", ["add_column"]),
    "add NOT NULL column without default": ("ALTER TABLE users ADD COLUMN tag text NOT NULL", ["add_column"]),
    "add column, inline constraints": (
        "ALTER TABLE orders ADD COLUMN buyer bigint REFERENCES users (id) ON DELETE CASCADE, "
        "ADD COLUMN ref text UNIQUE, ADD COLUMN qty int CHECK (qty > 0)",
        ["add_column", "add_column", "add_column"],
    ),
    "add column, then drop its default": (
        "ALTER TABLE users ADD COLUMN level int DEFAULT 1 NOT NULL; ALTER TABLE users ALTER COLUMN level DROP DEFAULT",
        ["add_column"],
    ),
    "drop column": ("ALTER TABLE users DROP COLUMN legacy", ["drop_column"]),
    "rename column": ("ALTER TABLE users RENAME COLUMN name TO full_name", ["rename_column"]),
    "type change without USING": ("ALTER TABLE users ALTER COLUMN age TYPE bigint", ["alter_column"]),
    "type change with USING": (
        "ALTER TABLE orders ALTER COLUMN total TYPE bigint USING round(total)::bigint",
        ["alter_column"],
    ),
    "SET NOT NULL": ("ALTER TABLE users ALTER COLUMN name SET NOT NULL", ["alter_column"]),
    "DROP NOT NULL": ("ALTER TABLE users ALTER COLUMN email DROP NOT NULL", ["alter_column"]),
    "SET DEFAULT": ("ALTER TABLE users ALTER COLUMN code SET DEFAULT 'none'", ["alter_column"]),
    "DROP DEFAULT": ("ALTER TABLE users ALTER COLUMN age DROP DEFAULT", ["alter_column"]),
    "type and NOT NULL in one ALTER": (
        "ALTER TABLE users ALTER COLUMN name TYPE text, ALTER COLUMN name SET NOT NULL",
        ["alter_column"],
    ),
    "ADD CONSTRAINT CHECK": ("ALTER TABLE users ADD CONSTRAINT users_age_nonneg CHECK (age >= 0)", ["add_constraint"]),
    "ADD CHECK unnamed": ("ALTER TABLE users ADD CHECK (age < 200)", ["add_constraint"]),
    "ADD CONSTRAINT UNIQUE": ("ALTER TABLE users ADD CONSTRAINT users_code_key UNIQUE (code)", ["add_constraint"]),
    "ADD UNIQUE unnamed, two columns": ("ALTER TABLE users ADD UNIQUE (email, code)", ["add_constraint"]),
    "ADD FOREIGN KEY": (
        "ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL",
        ["add_constraint"],
    ),
    "ADD FOREIGN KEY with options": (
        "ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) MATCH FULL "
        "ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED",
        ["add_constraint"],
    ),
    "ADD FOREIGN KEY unnamed": (
        "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id)",
        ["add_constraint"],
    ),
    "DROP CONSTRAINT": ("ALTER TABLE orders DROP CONSTRAINT orders_total_check", ["drop_constraint"]),
    "CREATE INDEX": ("CREATE INDEX users_age_idx ON users (age, name) WHERE age >= 18", ["create_index"]),
    "CREATE UNIQUE INDEX unnamed": ("CREATE UNIQUE INDEX ON users (code)", ["create_index"]),
    "CREATE INDEX using hash": (
        "CREATE INDEX CONCURRENTLY users_email_hash ON users USING hash (email)",
        ["create_index"],
    ),
    "DROP INDEX": ("DROP INDEX users_name_idx", ["drop_index"]),
    "CREATE TABLE": (
        "CREATE TABLE items (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), "
        "sku varchar(20) NOT NULL UNIQUE, qty int NOT NULL DEFAULT 1 CHECK (qty > 0))",
        ["create_table"],
    ),
    "CREATE TABLE with table-level key": (
        "CREATE TABLE tags (user_id bigint, tag text, PRIMARY KEY (user_id, tag))",
        ["create_table"],
    ),
    "DROP TABLE": ("DROP TABLE orders", ["drop_table"]),
    "RENAME TABLE": ("ALTER TABLE orders RENAME TO purchases", ["rename_table"]),
    "ADD COLUMN identity": ("ALTER TABLE users ADD COLUMN number bigint GENERATED ALWAYS AS IDENTITY", ["add_column"]),
    "ADD GENERATED AS IDENTITY": (
        "ALTER TABLE visits ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 10)",
        ["alter_column"],
    ),
    "ADD PRIMARY KEY": ("ALTER TABLE visits ADD PRIMARY KEY (user_id, day)", ["add_primary_key"]),
    "CREATE TABLE with identity and generated columns": (
        "CREATE TABLE tickets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, cents int, "
        "euros numeric GENERATED ALWAYS AS (cents / 100.0) STORED)",
        ["create_table"],
    ),
    "ADD CONSTRAINT NOT NULL": ("ALTER TABLE users ADD CONSTRAINT users_code_nn NOT NULL code", ["add_constraint"]),
    "CREATE TYPE AS ENUM, a column of it": (
        "CREATE TYPE priority AS ENUM ('low', 'high'); ALTER TABLE users ADD COLUMN priority priority DEFAULT 'low'",
        ["create_enum", "add_column"],
    ),
    "ALTER TYPE ADD VALUE": ("ALTER TYPE state ADD VALUE IF NOT EXISTS 'paid' AFTER 'new'", ["add_enum_value"]),
    "ALTER TYPE RENAME VALUE": ("ALTER TYPE state RENAME VALUE 'done' TO 'closed'", ["rename_enum_value"]),
    "DROP TYPE": ("DROP TYPE legacy_kind", ["drop_enum"]),
    "raw SQL: NOT VALID constraint": (
        "ALTER TABLE users ADD CONSTRAINT users_email_at CHECK (email LIKE '%@%') NOT VALID",
        ["raw_sql"],
    ),
    "raw SQL: expression index": ("CREATE INDEX users_lower_email ON users (lower(email))", ["raw_sql"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_converted_migration_leaves_the_plain_schema(dsn: str, conn: psycopg.Connection, case: str) -> None:
    sql, ops = CASES[case]
    conn.execute(SETUP)
    conn.execute(ROWS)
    conversion = convert_statements(split_sql(sql, "case.sql"), "case.sql", "converted")
    assert [op.op for op in conversion.migration.operations] == ops
    complete(dsn, conversion.migration)
    assert snapshot(conn) == plain_alter_snapshot(conn, SETUP, sql)
