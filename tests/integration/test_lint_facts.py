"""lint's facts held to PostgreSQL: for each statement class, the locks lint reports (mode and relation,
partitions, DEFAULT partitions, referenced tables and domain users included), its rewrite and its verdict
are compared with what the server really does, measured in a rolled-back transaction (pg_locks, relfilenode,
pg_stat_xact_user_tables; tests/harness/pg_truth.py). lint reads the catalog as `--dsn` does.

Measured on the test session's server (PostgreSQL 18 embedded; LIVESHIFT_TEST_PG_BINDIR runs another).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from liveshift.sqlconvert.lint import lint_text
from liveshift.sqlconvert.live_catalog import load
from tests.harness.pg_truth import case_schema, lint_dangerous, measure_statement

pytestmark = pytest.mark.integration

SETUP = (Path(__file__).parents[1] / "data" / "lint_facts" / "setup.sql").read_text()
SINCE_18 = ("NOT NULL email", "VIRTUAL")  # NOT NULL constraints by name (and NOT VALID), virtual generated columns

STATEMENTS = [
    # column types: binary coercible changes are catalog only
    "ALTER TABLE users ALTER COLUMN name TYPE varchar(50)",
    "ALTER TABLE users ALTER COLUMN name TYPE text",
    "ALTER TABLE users ALTER COLUMN name TYPE varchar(10)",
    "ALTER TABLE users ALTER COLUMN amount TYPE numeric(12,2)",
    "ALTER TABLE users ALTER COLUMN amount TYPE numeric(12,3)",
    "ALTER TABLE users ALTER COLUMN amount TYPE numeric",
    "ALTER TABLE users ALTER COLUMN age TYPE bigint",
    "ALTER TABLE users ALTER COLUMN email TYPE varchar(100)",
    "ALTER TABLE users ALTER COLUMN email TYPE text USING email || ''",
    "ALTER TABLE users ALTER COLUMN age SET DATA TYPE int",
    # NOT NULL
    "ALTER TABLE users ALTER COLUMN nick DROP NOT NULL",
    "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
    "ALTER TABLE checked ALTER COLUMN note SET NOT NULL",
    "ALTER TABLE users ADD CONSTRAINT nn NOT NULL email NOT VALID",
    "ALTER TABLE users ADD CONSTRAINT nn NOT NULL email",
    # partitions
    "ALTER TABLE ev ATTACH PARTITION ev_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "ALTER TABLE logs ATTACH PARTITION logs_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "ALTER TABLE ev DETACH PARTITION ev_2024",
    "ALTER TABLE logs DETACH PARTITION logs_2024",
    "CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "CREATE TABLE logs_2026 PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    "ALTER INDEX ev_id_idx ATTACH PARTITION ev_2024_id_idx",
    "ALTER TABLE ev ADD COLUMN x int",
    # triggers, policies, rules, sequences, domains, types, grants
    "ALTER TABLE orders DISABLE TRIGGER t1",
    "ALTER TABLE orders ENABLE TRIGGER ALL",
    "CREATE TRIGGER t2 BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION trg()",
    "DROP TRIGGER t1 ON orders",
    "CREATE POLICY p ON users USING (true)",
    "ALTER TABLE users ENABLE ROW LEVEL SECURITY",
    "CREATE RULE r AS ON INSERT TO users DO ALSO NOTIFY x",
    "ALTER SEQUENCE s1 RESTART WITH 10",
    "ALTER SEQUENCE s1 OWNED BY users.id",
    "ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0)",
    "ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID",
    "ALTER DOMAIN posint SET NOT NULL",
    "ALTER DOMAIN posint DROP NOT NULL",
    "ALTER DOMAIN posint SET DEFAULT 1",
    "ALTER TYPE mood ADD VALUE 'c'",
    "ALTER TYPE mood RENAME VALUE 'a' TO 'z'",
    "GRANT SELECT ON users TO PUBLIC",
    "REVOKE SELECT ON users FROM PUBLIC",
    "COMMENT ON TABLE users IS 'accounts'",
    # constraints and keys
    "ALTER TABLE nopk ADD PRIMARY KEY USING INDEX nopk_v",
    "ALTER TABLE nopk ADD PRIMARY KEY USING INDEX nopk_id",
    "ALTER TABLE orders ADD CONSTRAINT u UNIQUE USING INDEX orders_uid_idx",
    "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk",
    "ALTER TABLE orders DROP CONSTRAINT orders_user_fk",
    "ALTER TABLE orders ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id)",
    "ALTER TABLE orders ADD CONSTRAINT fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
    "ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0)",
    "ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0) NOT VALID",
    "ALTER TABLE users ADD CONSTRAINT uq UNIQUE (email)",
    "ALTER TABLE orders ALTER CONSTRAINT orders_user_fk DEFERRABLE",
    # columns
    "ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS (age * 2) STORED",
    "ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS (age * 2) VIRTUAL",
    "ALTER TABLE users ADD COLUMN z int DEFAULT 0 NOT NULL",
    "ALTER TABLE users ADD COLUMN z uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE users ADD COLUMN z int CHECK (z > 0)",
    "ALTER TABLE orders ADD COLUMN buyer bigint REFERENCES users (id)",
    "ALTER TABLE orders ADD COLUMN buyer bigint DEFAULT 1 REFERENCES users (id)",
    "ALTER TABLE users ALTER COLUMN nick SET DEFAULT 'y'",
    "ALTER TABLE users DROP COLUMN email",
    "ALTER TABLE users ALTER COLUMN email SET STORAGE EXTERNAL",
    "ALTER TABLE users ALTER COLUMN email SET STATISTICS 100",
    "ALTER TABLE users RENAME COLUMN name TO full_name",
    # tables, indexes, views
    "ALTER TABLE users RENAME TO people",
    "ALTER TABLE users SET (fillfactor = 70)",
    "ALTER TABLE users REPLICA IDENTITY FULL",
    "ALTER TABLE users SET SCHEMA public",
    "DROP TABLE orders",
    "DROP TABLE users CASCADE",
    "REINDEX INDEX users_email_idx",
    "CREATE INDEX ON users (name)",
    "DROP INDEX users_email_idx",
    "ALTER INDEX users_email_idx RENAME TO users_email_idx2",
    "REFRESH MATERIALIZED VIEW mv",
    "CREATE OR REPLACE VIEW v AS SELECT id, name FROM users",
    "DROP VIEW v",
    "CLUSTER users USING users_pkey",
    "LOCK TABLE users IN SHARE MODE",
    "CREATE TABLE newt (id int REFERENCES users (id))",
    "CREATE TABLE newt (LIKE users)",
    "CREATE TABLE ch () INHERITS (users)",
    "UPDATE users SET name = 'x'",
    # found by the second fresh corpus (tests/data/lint_corpus_fresh2)
    "ALTER TABLE users ADD COLUMN z cposint",
    "ALTER TABLE users ADD COLUMN z posint",
    "CREATE INDEX ev_at_idx ON ONLY ev (at)",
    "CREATE SEQUENCE s2 OWNED BY users.id",
    "GRANT USAGE, SELECT ON SEQUENCE s1 TO PUBLIC",
    "SELECT count(*) FROM users",
    "INSERT INTO orders SELECT id + 100, NULL, 0 FROM users",
    "UPDATE users SET name = 'x' WHERE id = 1",
    "DROP TABLE ev_2024",
    "DO $$BEGIN ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0); END$$",
    "DO $$BEGIN IF true THEN EXECUTE 'CREATE INDEX ON users (name)'; END IF; END$$",
    "TRUNCATE dm2",
    # found by the third fresh corpus (tests/data/lint_corpus_fresh3)
    "ALTER TABLE logs ATTACH PARTITION logs_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')",
    "DO $$BEGIN CREATE TABLE newt (id bigint); ALTER TABLE newt ADD FOREIGN KEY (id) REFERENCES users (id); END$$",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY mvu",
    "INSERT INTO seqd (v) SELECT id FROM users",
    "INSERT INTO seqd (id, v) VALUES (1000, 1)",
    "INSERT INTO seqd VALUES (1000, 1, 1)",
    "INSERT INTO seqd DEFAULT VALUES",  # every default drawn: the serial's sequence and s1
    "SELECT setval('s1', (SELECT max(id) FROM users))",
    "ALTER TABLE users ALTER COLUMN age SET DEFAULT nextval('s1')",
    "ALTER TABLE users ADD COLUMN z bigint DEFAULT nextval('s1')",
    "CREATE TABLE newt (id bigint DEFAULT nextval('s1'))",
    "UPDATE orders SET total = 1 WHERE user_id IN (SELECT id FROM users WHERE age > 3)",
    "WITH moved AS (DELETE FROM dm WHERE id > 40 RETURNING id, v) INSERT INTO dm2 SELECT id, v FROM moved",
    "MERGE INTO dm USING dm2 ON dm.id = dm2.id WHEN MATCHED THEN UPDATE SET v = dm2.v",
    "CREATE PUBLICATION pub FOR TABLE users, orders",
    "CREATE STATISTICS st ON name, email FROM users",
    "ALTER TABLE users ADD COLUMN z timestamp DEFAULT (now() AT TIME ZONE 'utc')",
    "ALTER TABLE users ADD COLUMN z timestamp DEFAULT timezone('utc', now())",
    "DO $$BEGIN CREATE SEQUENCE s3; ALTER TABLE users ADD COLUMN z bigint DEFAULT nextval('s3'); END$$",
    "SELECT * INTO newt FROM users",
    "ALTER TABLE logs ATTACH PARTITION logs_2025 DEFAULT",
    # a partitioned table's column, constraint and trigger commands reach every partition (not under ONLY)
    "ALTER TABLE ev ALTER COLUMN id SET DEFAULT 1",
    "ALTER TABLE ONLY ev ALTER COLUMN id SET DEFAULT 1",
    "ALTER TABLE ev DROP COLUMN id",
    "ALTER TABLE ev ADD CONSTRAINT c CHECK (id > 0) NOT VALID",
    "ALTER TABLE ev ADD CONSTRAINT c CHECK (id > 0)",
    "ALTER TABLE ev ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES users (id)",
    "ALTER TABLE ev RENAME COLUMN id TO ident",
    "ALTER TABLE ev ALTER COLUMN id SET STATISTICS 100",
    "ALTER TABLE ev ALTER COLUMN id SET STORAGE PLAIN",
    "CREATE TRIGGER t3 BEFORE INSERT ON ev FOR EACH ROW EXECUTE FUNCTION trg()",
    "CREATE TRIGGER t3 AFTER INSERT ON ev FOR EACH STATEMENT EXECUTE FUNCTION trg()",
    # a key's new type rebuilds the foreign keys referencing it; a serial's sequence is read again
    "ALTER TABLE parents ALTER COLUMN id TYPE int",
    "ALTER TABLE kids ALTER COLUMN parent_id TYPE int",
    "ALTER TABLE seqd ALTER COLUMN id TYPE int",
    "CREATE TABLE newt (LIKE seqd INCLUDING ALL)",
    "CREATE TABLE newt (LIKE seqd)",
    "COPY users TO '/dev/null'",
    "COPY (SELECT id FROM users) TO '/dev/null'",
    "COPY orders (id, user_id, total) FROM '/dev/null'",
    # found by the fourth fresh corpus (tests/data/lint_corpus_fresh4) and the statement classes probed after it:
    # a serial's or identity's own sequence goes with its table, column or identity
    "DROP TABLE seqd",
    "DROP TABLE idt",
    "ALTER TABLE seqd DROP COLUMN id",
    "ALTER TABLE idt ALTER COLUMN id DROP IDENTITY",
    # a USING that only casts the column to its new type is the plain coercion (Knex writes it)
    "ALTER TABLE users ALTER COLUMN name TYPE varchar(60) USING name::varchar(60)",
    "ALTER TABLE users ALTER COLUMN name TYPE text USING name",
    "ALTER TABLE users ALTER COLUMN name TYPE varchar(10) USING name::varchar(10)",
    # NOT NULL dropped then set again is scanned again; DROP NOT NULL reaches the partitions
    "ALTER TABLE users ALTER COLUMN nick DROP NOT NULL, ALTER COLUMN nick SET NOT NULL",
    "ALTER TABLE ev ALTER COLUMN at DROP NOT NULL",
    # a materialized view's index holds back only its REFRESH; WITH NO DATA reads nothing
    "CREATE INDEX mv_id ON mv (id)",
    "REFRESH MATERIALIZED VIEW mv WITH NO DATA",
    "COMMENT ON CONSTRAINT users_pkey ON users IS 'key'",
    # CASCADE reaches the defaults drawing from a sequence, the columns of a type
    "DROP SEQUENCE s1 CASCADE",
    "DROP TYPE mood CASCADE",
    # timestamps: a precision of 6 or none keeps every value; timestamp <-> timestamptz with a lower one rounds
    "ALTER TABLE stamps ALTER COLUMN ts3 TYPE timestamptz(3)",
    "ALTER TABLE stamps ALTER COLUMN ts3 TYPE timestamptz(6)",
    "ALTER TABLE stamps ALTER COLUMN ts3 TYPE timestamp(6)",
    "ALTER TABLE stamps ALTER COLUMN ts3 TYPE timestamp(1)",
    "ALTER TABLE stamps ALTER COLUMN tz3 TYPE timestamptz",
    "ALTER TABLE stamps ALTER COLUMN ts TYPE timestamp(6)",
    # a unique key of a partitioned table is built on every partition; IF NOT EXISTS of a known index builds none
    "ALTER TABLE ev ADD CONSTRAINT ev_u UNIQUE (id, at)",
    "CREATE INDEX IF NOT EXISTS users_email_idx ON users (email)",
    "SET CONSTRAINTS ALL IMMEDIATE",
    # an identity's sequence is altered with it; pg_get_serial_sequence names the serial's
    "ALTER TABLE idt ALTER COLUMN id SET GENERATED BY DEFAULT",
    "ALTER TABLE idt ALTER COLUMN id RESTART WITH 100",
    "SELECT setval(pg_get_serial_sequence('seqd', 'id'), (SELECT max(id) FROM seqd))",
    # a new collation rebuilds the column's indexes (a scan under ACCESS EXCLUSIVE); without an index, nothing
    'ALTER TABLE users ALTER COLUMN email TYPE text COLLATE "C"',
    'ALTER TABLE users ALTER COLUMN nick TYPE text COLLATE "C"',
    # a DELETE of referenced rows: ROW SHARE where a key checks them, ROW EXCLUSIVE where CASCADE or SET NULL follows
    "DELETE FROM parents WHERE id = 2",
    # one ALTER TABLE's sub-commands run under its strongest lock: a VALIDATE next to an ADD scans under the ADD's
    "ALTER TABLE orders ADD CONSTRAINT pos CHECK (total >= 0) NOT VALID, VALIDATE CONSTRAINT orders_user_fk",
    "ALTER TABLE orders ALTER COLUMN total SET STATISTICS 100, VALIDATE CONSTRAINT orders_user_fk",
    # a foreign key's own referenced table, not every table its table references
    "ALTER TABLE t2fk DROP CONSTRAINT t2fk_a_fkey",
    "ALTER TABLE t2fk VALIDATE CONSTRAINT t2fk_b2",
    # a statement a DO block builds with format() or || is read with its run-time names and values unknown
    "DO $$BEGIN EXECUTE format('ALTER TABLE users ADD CONSTRAINT %I CHECK (age > %s)', 'c', 0); END$$",
    "DO $$BEGIN EXECUTE format('CREATE TABLE %I PARTITION OF logs FOR VALUES FROM (%L) TO (%L)', 'logs_2029', "
    "'2029-01-01', '2030-01-01'); END$$",
    "DO $$BEGIN EXECUTE 'CREATE INDEX ON users (' || quote_ident('name') || ')'; END$$",
    # an empty partition is locked all the same
    "ALTER TABLE ev ATTACH PARTITION ev_2028 FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')",
    # found by the fifth fresh corpus (tests/data/lint_corpus_fresh5): a table the file made is dropped with its
    # serial's sequence, which is the file's too (a goose or dbmate Down section); a cast to numeric converts
    # another type (Django writes USING only where the base type changes) or keeps a widening catalog-only
    "DO $$BEGIN CREATE TABLE newt (id bigserial, u bigint REFERENCES users (id)); DROP TABLE newt; END$$",
    "ALTER TABLE users ALTER COLUMN age TYPE numeric(12, 2) USING age::numeric(12, 2)",
    "ALTER TABLE users ALTER COLUMN amount TYPE numeric(12, 2) USING amount::numeric(12, 2)",
    # probed after it: a primary key dropped with CASCADE takes the foreign keys referencing it along
    "ALTER TABLE users DROP CONSTRAINT users_pkey CASCADE",
    # rows written with a foreign key are checked against the referenced table (FOR KEY SHARE: ROW SHARE there)
    "INSERT INTO kids (id, parent_id) SELECT g, 1 FROM generate_series(10, 20) g",
    "INSERT INTO kids VALUES (5, 1)",
    "INSERT INTO kids (id) VALUES (5)",
    "INSERT INTO kids DEFAULT VALUES",  # a NULL key: nothing checked
    "UPDATE kids SET parent_id = 2",
    "UPDATE kids SET id = 2",
    # a view's options take ACCESS EXCLUSIVE on it (a table's storage parameters SHARE UPDATE EXCLUSIVE)
    "ALTER VIEW v SET (security_barrier = true)",
    # found by the sixth fresh corpus: a domain's new constraint is checked on (and locks) the relations holding its
    # values, a partition and a materialized view, not a view or a partitioned table with a column of it
    "ALTER DOMAIN vposint ADD CONSTRAINT pos CHECK (VALUE > 0)",
    # a query locks the partitions plan-time pruning keeps (the sixth corpus's read of a partitioned table)
    "SELECT count(*) FROM pr",
    "SELECT count(*) FROM ONLY pr",
    "SELECT count(*) FROM pr WHERE at >= '2026-10-15'",
    "SELECT count(*) FROM pr WHERE at >= '2026-10-15'::date AND at < '2026-12-01'",
    "SELECT count(*) FROM pr WHERE at BETWEEN '2026-09-05' AND '2026-09-07'",
    "SELECT count(*) FROM pr p WHERE p.at < '2026-10-01' AND p.region = 'us'",
    "SELECT count(*) FROM pr WHERE at = '2026-10-05' AND region = 'us'",
    "SELECT count(*) FROM pr WHERE at = now()::date",
    "SELECT count(*) FROM pr WHERE '2026-11-20' < at",
    "UPDATE pr SET n = 2 WHERE at >= '2026-11-01'",
    "DELETE FROM pr WHERE at < '2026-10-01'",
    "INSERT INTO pr VALUES (5, '2026-09-03', 'de', 1)",
    "INSERT INTO pr (id, at) VALUES (5, '2026-11-03'), (6, '2030-01-01')",
    "SELECT count(*) FROM pl WHERE region IN ('de', 'fr')",
    "SELECT count(*) FROM pl WHERE region = 'jp'",
    "SELECT count(*) FROM ph",
    "UPDATE users SET name = 'x' WHERE id IN (SELECT id FROM pr WHERE at >= '2026-11-01')",
    "UPDATE users u SET name = 'x' FROM pl WHERE pl.id = u.id AND pl.region = 'us'",
    # found by the seventh: DROP … IF EXISTS of a trigger (policy, rule) that is not there locks nothing
    "DROP TRIGGER IF EXISTS nosuch ON orders",
    "DROP TRIGGER IF EXISTS t1 ON orders",
    "DROP POLICY IF EXISTS nosuch ON users",
    "DROP RULE IF EXISTS nosuch ON users",
    "INSERT INTO seqd (v) VALUES (1), (2)",
]
# COPY to or from a server file needs these roles (the test's own role may lack them)
FILE_ROLES = "SELECT pg_has_role('pg_read_server_files', 'member') AND pg_has_role('pg_write_server_files', 'member')"


@pytest.mark.parametrize("statement", STATEMENTS)
def test_lint_agrees_with_postgresql(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn, case_schema(conn, SETUP):
        if conn.info.server_version < 180000 and any(form in statement for form in SINCE_18):
            pytest.skip("PostgreSQL 18's syntax")
        if "/dev/null" in statement and not conn.execute(FILE_ROLES).fetchone()[0]:
            pytest.skip("COPY with a server file needs pg_read_server_files and pg_write_server_files")
        knowledge = load(dsn)
        truth = measure_statement(conn, statement)
    report = lint_text(f"SET lock_timeout = '1s';\n{statement};\n", "fact.sql", knowledge)[1]
    locks = {lock.relation: lock.mode for lock in report.locks if not lock.index}
    assert (report.lock, locks) == (truth.lock, truth.locks)
    assert report.rewrites == bool(truth.rewritten)
    assert lint_dangerous(report) == truth.dangerous, [f.code for f in report.findings]
