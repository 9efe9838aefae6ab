"""Verify reports every disagreement (count and sample keys) between the new representation and
up(old), and a migration whose data disagree cannot be cut over."""

from __future__ import annotations

import psycopg
import pytest

from liveshift import phases
from liveshift.connections import open_session
from liveshift.errors import MigrationStateError
from liveshift.store.record import load_record
from tests.harness.db import backfill_all, client, migration, through_verify

pytestmark = pytest.mark.integration

MIGRATION = """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false, check: "email_lower <> ''"}
    up: lower(email)
"""
GREEN = "public_users_email_lower"


@pytest.fixture
def backfilled(dsn: str, conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
    conn.execute("INSERT INTO users SELECT g, 'User' || g || '@Example.com' FROM generate_series(1, 1000) g")
    m = migration(MIGRATION)
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    backfill_all(dsn, m.name)
    with open_session(dsn) as c:
        phases.validate_constraints(c, m.name)
    return conn


def behind_the_trigger(conn: psycopg.Connection, statement: str) -> None:
    """Write without firing the dual-write trigger, as a buggy tool or a manual fix would."""
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(statement)


def status(conn: psycopg.Connection) -> str:
    return load_record(conn, "users_email_lower").status


def test_clean_data_verifies(dsn: str, backfilled: psycopg.Connection) -> None:
    with open_session(dsn) as c:
        report = phases.verify(c, "users_email_lower", chunk=64)
    assert report.ok, report.summary()
    assert [(t.table, t.rows_checked, t.mismatches) for t in report.tables] == [("users", 1000, 0)]
    assert report.summary() == "verified: users 1000 rows"
    assert status(backfilled) == "verified"


def test_corrupted_rows_are_counted_and_sampled_and_block_cutover(dsn: str, backfilled: psycopg.Connection) -> None:
    corrupt = [3, 64, 65, 200, 201, 202, 500, 640, 641, 777, 900, 999]
    behind_the_trigger(
        backfilled, f"UPDATE users SET _ls_new_email_lower = 'wrong' WHERE id IN ({', '.join(map(str, corrupt))})"
    )
    # a row the backfill never reached (still pending) is a mismatch too
    behind_the_trigger(backfilled, "UPDATE users SET _ls_written_by = 'p' WHERE id = 420")
    # a row whose new column is stale: the old column changed behind the trigger's back
    behind_the_trigger(backfilled, "UPDATE users SET email = 'Changed@X.org' WHERE id = 1000")
    with open_session(dsn) as c:
        report = phases.verify(c, "users_email_lower", chunk=64)  # several chunks: the sample spans them
        assert not report.ok
        (table,) = report.tables
        assert (table.rows_checked, table.mismatches) == (1000, len(corrupt) + 2)
        assert table.sample_keys == sorted([*corrupt, 420, 1000])[:10]
        assert report.summary() == (
            f"verification failed: users: 14 of 1000 rows disagree (sample keys {table.sample_keys})"
        )
        assert status(c) == "backfilled"
        with pytest.raises(
            MigrationStateError, match="cannot cut over migration 'users_email_lower': it is backfilled"
        ):
            phases.cutover(c, "users_email_lower")
        assert c.execute("SELECT liveshift.version_for('public')").fetchone() == ("public_base",)

        # repairing through a blue write (the trigger recomputes up) makes it verify
        with client(dsn, "public_base") as blue:
            blue.execute("UPDATE users SET email = email WHERE id IN (SELECT id FROM users)")
        report = phases.verify(c, "users_email_lower", chunk=64)
        assert report.ok, report.summary()
        assert status(c) == "verified"
        phases.cutover(c, "users_email_lower")
        assert c.execute("SELECT liveshift.version_for('public')").fetchone() == (GREEN,)


def test_green_writes_violating_a_new_check_fail_verify(dsn: str, backfilled: psycopg.Connection) -> None:
    # the CHECK is only enforced after contract; until then verify is what stops such data
    with client(dsn, GREEN) as green:
        green.execute("INSERT INTO users (id, email, email_lower) VALUES (2001, 'x', ''), (2002, 'y', 'y')")
        green.execute("UPDATE users SET email_lower = '' WHERE id = 17")
    with open_session(dsn) as c:
        report = phases.verify(c, "users_email_lower")
        assert (report.tables[0].rows_checked, report.mismatches, report.tables[0].sample_keys) == (1002, 2, [17, 2001])
        assert status(c) == "backfilled"
        with pytest.raises(MigrationStateError):
            phases.cutover(c, "users_email_lower")


def test_a_failed_verify_after_a_successful_one_keeps_its_report_honest(
    dsn: str, backfilled: psycopg.Connection
) -> None:
    with open_session(dsn) as c:
        assert phases.verify(c, "users_email_lower").ok
        behind_the_trigger(backfilled, "UPDATE users SET _ls_new_email_lower = 'late' WHERE id = 5")
        report = phases.verify(c, "users_email_lower")
        assert (report.mismatches, report.tables[0].sample_keys) == (1, [5])


def test_composite_key_samples_whole_keys(dsn: str, conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE users (tenant text, n int, email text NOT NULL, PRIMARY KEY (tenant, n))")
    conn.execute("INSERT INTO users SELECT 't' || g % 3, g, 'E' || g FROM generate_series(1, 300) g")
    m = migration(MIGRATION.replace(", check: \"email_lower <> ''\"", ""))
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    backfill_all(dsn, m.name)
    behind_the_trigger(conn, "UPDATE users SET _ls_new_email_lower = 'x' WHERE n IN (4, 5, 299)")
    with open_session(dsn) as c:
        report = phases.verify(c, m.name, chunk=50)
    assert report.mismatches == 3
    assert report.tables[0].sample_keys == [["t1", 4], ["t2", 5], ["t2", 299]]


def test_an_up_of_another_type_is_compared_as_the_column_stores_it(dsn: str, conn: psycopg.Connection) -> None:
    """`up` yields text for an integer column: the write casts it, so verify compares the cast value
    (there is no integer = text operator), and reports a real disagreement as a mismatch, not an error."""
    conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, code text NOT NULL)")
    conn.execute("INSERT INTO items SELECT g, (g % 97)::text FROM generate_series(1, 500) g")
    m = migration(
        """
name: items_code_number
operations:
  - op: add_column
    table: items
    column: {name: code_number, type: integer}
    up: code
"""
    )
    with open_session(dsn) as c:
        phases.prepare(c, m)
        phases.expand(c, m.name)
    client(dsn, None).execute("INSERT INTO items VALUES (1000, '42')")
    backfill_all(dsn, m.name)
    with open_session(dsn) as c:
        report = phases.verify(c, m.name)
        assert report.ok, report.summary()
        assert report.tables[0].rows_checked == 501
        behind_the_trigger(conn, "UPDATE items SET _ls_new_code_number = 7 WHERE id = 5")
        report = phases.verify(c, m.name)
    assert (report.mismatches, report.tables[0].sample_keys) == (1, [5])


def physical_blocks(conn: psycopg.Connection, ids: list[int]) -> set[int]:
    rows = conn.execute("SELECT (ctid::text::point)[0]::int FROM users WHERE id = ANY(%s)", [ids]).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("chunk", [1, 64, 1_000_000])
def test_every_row_is_checked_once_in_block_chunks_of_any_size(
    dsn: str, backfilled: psycopg.Connection, chunk: int
) -> None:
    """Chunks are ranges of heap blocks: with holes (deleted rows), rows moved by updates to other blocks, and
    bad rows in the first block, the last one and one a write moved to the table's end, every row is checked
    exactly once and every bad one is found, whether a chunk is one block or the whole table."""
    with client(dsn, "public_base") as blue:
        blue.execute("DELETE FROM users WHERE id % 7 = 0")
        blue.execute("UPDATE users SET email = email || 'x' WHERE id % 5 = 0")  # new versions, new blocks
    behind_the_trigger(backfilled, "UPDATE users SET _ls_new_email_lower = 'wrong' WHERE id IN (1, 2, 999)")
    behind_the_trigger(backfilled, "UPDATE users SET _ls_written_by = 'p' WHERE id = 500")
    blocks = backfilled.execute("SELECT pg_relation_size('users') / current_setting('block_size')::int").fetchone()
    assert blocks is not None and blocks[0] > 5 and len(physical_blocks(backfilled, [1, 2, 500, 999])) > 1
    alive = backfilled.execute("SELECT count(*) FROM users").fetchone()
    with open_session(dsn) as c:
        report = phases.verify(c, "users_email_lower", chunk=chunk)
    (table,) = report.tables
    assert (table.rows_checked, table.mismatches, table.sample_keys) == (alive[0] if alive else -1, 4, [1, 2, 500, 999])


def test_the_sample_is_the_smallest_bad_keys_whatever_their_blocks(dsn: str, backfilled: psycopg.Connection) -> None:
    # bad rows rewritten in descending key order, each about 1.8 kB (not toasted): their new versions fill the
    # table's last blocks a few per block, the highest keys first
    padding = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 56) g)"
    for key in range(1000, 980, -1):
        behind_the_trigger(backfilled, f"UPDATE users SET email = {padding} WHERE id = {key}")
    assert len(physical_blocks(backfilled, list(range(981, 1001)))) >= 4
    with open_session(dsn) as c:
        report = phases.verify(c, "users_email_lower", chunk=1)  # one block per chunk
    assert (report.mismatches, report.tables[0].sample_keys) == (20, list(range(981, 991)))


def test_an_empty_table_verifies(dsn: str, conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
    report = through_verify(dsn, migration(MIGRATION))
    assert report.ok and report.tables[0].rows_checked == 0
