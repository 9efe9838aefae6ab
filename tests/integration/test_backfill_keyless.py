"""Tables with neither a primary key nor a unique NOT NULL key: backfilled by ctid block ranges.

Every phase and a rollback from each one with blue and green writing, on both backfill paths; a backfill
interrupted after some batches (cleanly, and by its connection dying mid-batch) resumes with no row
skipped and at most the lost batch redone; integer -> bigint of a key a keyless table references.
The phases run on tests/harness/scenario.py: a keyless table is a `Table` whose columns declare no key.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from psycopg import sql

from liveshift import phases, preflight
from liveshift.backfill.batches import marking_update
from liveshift.backfill.blocks import block_range
from liveshift.backfill.partitions import plan_partitions
from liveshift.backfill.walk import Throttle, run_partition
from liveshift.cli.commands.plan import plan_json, render_text
from liveshift.connections import open_session
from liveshift.errors import MigrationStateError
from liveshift.store.checkpoints import init_checkpoints, load_partitions
from liveshift.store.record import load_record
from liveshift.versions.triggers import BACKFILL_DIRECT, BACKFILL_TOUCH
from tests.harness.db import backfill_all, complete, migration, partition_hooks
from tests.harness.scenario import (
    PHASES_BEFORE_CONTRACT,
    Run,
    Scenario,
    Side,
    Table,
    count,
    each_step_twice_equals_once,
    expand,
    load_tables,
    rollback_from,
)

pytestmark = pytest.mark.integration

SEEDED = 3000
# an append-only log as they come: no key at all; `seq` only lets the tests name rows
HISTORY = Table(
    "history",
    "seq integer NOT NULL, delta integer NOT NULL, what text",
    rows=SEEDED,
    values={"seq": "g", "delta": "g % 7", "what": "'Event ' || g"},
)


def _sees(c: psycopg.Connection, tags: list[int]) -> None:
    """The row each tag inserted, once, and no row besides the seeded ones and those."""
    for tag in tags:
        assert count(c, "SELECT count(*) FROM history WHERE seq = %s", 100_000 + tag) == 1
    assert count(c, "SELECT count(*) FROM history") == SEEDED + len(tags)


def _seeded_row(n: int, step: int) -> int:
    """A seeded row for tag n to update (tags run past SEEDED / step: wrap around)."""
    return 1 + n * step % SEEDED


def _update_one(c: psycopg.Connection, query: str, seq: int) -> None:
    assert c.execute(query, (seq,)).rowcount == 1  # the update reached its seeded row


def _blue(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO history (seq, delta, what) VALUES (%s, 1, 'Blue')", (100_000 + n,))
    _update_one(c, "UPDATE history SET what = 'Blue update' WHERE seq = %s", _seeded_row(n, 401))


def _green_lower(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO history (seq, delta, what, what_lower) VALUES (%s, 1, 'Green', 'green')", (100_000 + n,))
    query = "UPDATE history SET what = 'Green Update', what_lower = 'green update' WHERE seq = %s"
    _update_one(c, query, _seeded_row(n, 503))


def _green_chained(c: psycopg.Connection, n: int) -> None:
    c.execute(
        "INSERT INTO history (seq, delta, what, what_lower, what_tag) VALUES (%s, 1, 'Green', 'green', 'green!')",
        (100_000 + n,),
    )


def _green_bigint(c: psycopg.Connection, n: int) -> None:
    c.execute("INSERT INTO history (seq, delta, what) VALUES (%s, 10, 'Green')", (100_000 + n,))


ADD_COLUMN = Scenario(
    tables=(HISTORY,),
    migration="""
name: history_what_lower
operations:
  - op: add_column
    table: history
    column: {name: what_lower, type: text}
    up: lower(what)
""",
    plain="ALTER TABLE history ADD COLUMN what_lower text",
    blue=Side(_blue, _sees),
    green=Side(_green_lower, _sees),
)

# the second `up` reads what the first assigns: the touch path (the trigger computes both)
CHAINED = Scenario(
    tables=(HISTORY,),
    migration="""
name: history_chained
operations:
  - op: add_column
    table: history
    column: {name: what_lower, type: text}
    up: lower(what)
  - op: add_column
    table: history
    column: {name: what_tag, type: text}
    up: what_lower || '!'
""",
    plain="ALTER TABLE history ADD COLUMN what_lower text, ADD COLUMN what_tag text",
    blue=Side(_blue, _sees),
    green=Side(_green_chained, _sees),
)

ALTER_TYPE = Scenario(
    tables=(HISTORY,),
    migration="""
name: history_delta_bigint
operations:
  - op: alter_column
    table: history
    column: delta
    type: bigint
    up: delta::bigint * 10
    down: (delta / 10)::integer
""",
    plain="ALTER TABLE history ALTER COLUMN delta TYPE bigint USING delta::bigint * 10",
    blue=Side(_blue, _sees),
    green=Side(_green_bigint, _sees),
)

SCENARIOS = {"add_column": ADD_COLUMN, "chained_trigger_path": CHAINED, "alter_type": ALTER_TYPE}


def _target(dsn: str, name: str):  # type: ignore[no-untyped-def]
    with open_session(dsn) as c:
        (target,) = phases.plan_of(load_record(c, name)).backfill_targets()
    return target


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_every_phase_with_blue_and_green_writing(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    s = SCENARIOS[scenario]
    with Run(dsn, conn, s) as run:
        run.expand()
        target = _target(dsn, s.m.name)
        assert (target.key, target.batches) == ((), "ctid block ranges")
        assert target.path == ("trigger" if s is CHAINED else "direct")
        run.exchange()
        run.through("cutover")  # verify (in block chunks) passed: every row is right in both shapes
        with open_session(dsn) as c:
            assert phases.verify(c, s.m.name).tables[0].rows_checked == SEEDED + len(run.acked)
        run.contract()  # the plain statements' schema, nothing left, every acknowledged write kept
    if s is ALTER_TYPE:
        assert count(conn, "SELECT count(*) FROM history WHERE delta % 10 <> 0") == 0
    else:
        wrong = "SELECT count(*) FROM history WHERE what_lower IS DISTINCT FROM lower(what) AND what NOT LIKE 'Green%'"
        assert count(conn, wrong) == 0
    if s is CHAINED:
        assert count(conn, "SELECT count(*) FROM history WHERE what_tag <> what_lower || '!'") == 0


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, scenario: str, stop_after: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[scenario], stop_after)


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection, scenario: str) -> None:
    each_step_twice_equals_once(dsn, conn, SCENARIOS[scenario])


def test_plan_shows_block_ranges(conn: psycopg.Connection) -> None:
    load_tables(conn, ADD_COLUMN.tables)
    plan = preflight.validate(conn, ADD_COLUMN.m)
    data = plan_json(plan, conn)
    assert [(t["table"], t["key"], t["rows_estimate"]) for t in data["backfill"]] == [("history", [], SEEDED)]
    assert f"history: no key: ctid block ranges, about {SEEDED} rows" in render_text(data)


def test_the_batch_is_a_tid_range_scan(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, ADD_COLUMN.tables)
    expand(dsn, ADD_COLUMN.m)
    target = _target(dsn, ADD_COLUMN.m.name)
    for direct in (True, False):
        statement = sql.SQL("EXPLAIN ") + marking_update("public", target, block_range(3, 7), direct)
        plan = "\n".join(r[0] for r in conn.execute(statement, prepare=False))
        assert "Tid Range Scan on history" in plan, plan
        assert "TID Cond: ((ctid >= '(3,0)'::tid) AND (ctid < '(7,0)'::tid))" in plan, plan


# Every row the backfill rewrites, in committed batches (the log is transactional), and every batch
# statement as it starts, committed or not (a sequence is not).
LOG_BACKFILL = sql.SQL(
    """
CREATE TABLE backfill_log (seq integer NOT NULL);
CREATE SEQUENCE backfill_statements;
CREATE FUNCTION log_backfill_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('liveshift.version', true) IN ({touch}, {direct}) THEN
        INSERT INTO backfill_log VALUES (NEW.seq);
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION count_backfill_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('liveshift.version', true) IN ({touch}, {direct}) THEN
        PERFORM nextval('backfill_statements');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER log_backfill_row AFTER UPDATE ON history FOR EACH ROW EXECUTE FUNCTION log_backfill_row();
CREATE TRIGGER count_backfill_statement BEFORE UPDATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION count_backfill_statement();
-- ALWAYS: the direct backfill runs with session_replication_role = replica, which fires no ordinary trigger
ALTER TABLE history ENABLE ALWAYS TRIGGER log_backfill_row, ENABLE ALWAYS TRIGGER count_backfill_statement;
"""
).format(touch=sql.Literal(BACKFILL_TOUCH), direct=sql.Literal(BACKFILL_DIRECT))
# small fixed batches: 100 rows, at this table's density one or two blocks
SMALL = Throttle(initial_batch=100, min_batch=100, max_batch=100, lock_timeout_ms=60_000)


def _prepared(dsn: str, conn: psycopg.Connection) -> None:
    """ADD_COLUMN expanded on its loaded table, the backfill logged, its one partition's checkpoint at block 0."""
    conn.execute(LOG_BACKFILL)
    conn.execute("ANALYZE history")
    expand(dsn, ADD_COLUMN.m)
    with open_session(dsn) as c:
        target = _target(dsn, ADD_COLUMN.m.name)
        init_checkpoints(c, ADD_COLUMN.m.name, target.table, plan_partitions(c, "public", target, 1))


def _checkpoint(conn: psycopg.Connection) -> tuple[list[int], int, bool]:
    row = conn.execute("SELECT last_key, batches, done FROM liveshift.checkpoints").fetchone()
    assert row is not None
    return row  # type: ignore[return-value]


def _statements(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT last_value FROM backfill_statements").fetchone()[0])  # type: ignore[index]


def _run(dsn: str, stop_after_batches: int | None = None) -> None:
    batches: list[int] = []
    with open_session(dsn) as c:
        run_partition(
            c,
            migration=ADD_COLUMN.m.name,
            schema="public",
            target=_target(dsn, ADD_COLUMN.m.name),
            partition=0,
            throttle=SMALL,
            hooks=partition_hooks(
                on_progress=lambda p: batches.append(p.batches),
                should_stop=(lambda: len(batches) >= stop_after_batches) if stop_after_batches else None,
            ),
        )


def _backfilled_once_each(conn: psycopg.Connection, rewritten_by_apps: int = 0) -> None:
    logged, distinct = conn.execute("SELECT count(*), count(DISTINCT seq) FROM backfill_log").fetchone()  # type: ignore[misc]
    assert logged == distinct, "a row was backfilled twice"
    assert logged == SEEDED - rewritten_by_apps, "a row was skipped"
    assert conn.execute("SELECT count(*) FROM history WHERE _ls_written_by = 'p'").fetchone() == (0,)
    with open_session(conn.info.dsn) as c:
        assert phases.verify(c, ADD_COLUMN.m.name).ok


def test_interrupted_after_some_batches_resumes_where_it_stopped(dsn: str, conn: psycopg.Connection) -> None:
    with Run(dsn, conn, ADD_COLUMN) as run:  # the run's blue and green clients write mid-backfill
        _prepared(dsn, conn)
        _stopped_after_five_batches(dsn, conn)
        # blue and green write meanwhile, ahead of the checkpoint: those rows are theirs, the backfill skips them
        assert run.blue.execute("UPDATE history SET what = 'Blue' WHERE seq IN (2990, 2991)").rowcount == 2
        green_update = "UPDATE history SET what = 'Green', what_lower = 'green' WHERE seq = 2992"
        assert run.green.execute(green_update).rowcount == 1
    _run(dsn)
    _, total_batches, done = _checkpoint(conn)
    assert done
    assert _statements(conn) == total_batches, "a clean stop redoes nothing"
    _backfilled_once_each(conn, rewritten_by_apps=3)


def _stopped_after_five_batches(dsn: str, conn: psycopg.Connection) -> None:
    _run(dsn, stop_after_batches=5)
    next_block, batches, done = _checkpoint(conn)
    assert (batches, done) == (5, False) and next_block[0] > 0
    # the blocks before the checkpoint hold no pending row any more; every other row is still pending
    behind = conn.execute(
        "SELECT count(*) FROM history WHERE ctid < CAST(%s AS tid) AND _ls_written_by = 'p'", (f"({next_block[0]},0)",)
    ).fetchone()
    assert behind == (0,)
    logged = conn.execute("SELECT count(*) FROM backfill_log").fetchone()[0]  # type: ignore[index]
    pending = conn.execute("SELECT count(*) FROM history WHERE _ls_written_by = 'p'").fetchone()[0]  # type: ignore[index]
    assert logged > 0 and logged + pending == SEEDED


def test_a_batch_lost_with_its_connection_is_redone_once(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, ADD_COLUMN.tables)
    _prepared(dsn, conn)
    _run(dsn, stop_after_batches=3)
    next_block = _checkpoint(conn)[0][0]
    # an application holds a row of the next batch: the batch waits for it, and its connection dies then
    holder = psycopg.connect(dsn)
    holder.execute("SELECT 1 FROM history WHERE ctid = CAST(%s AS tid) FOR UPDATE", (f"({next_block},1)",))
    failure: list[BaseException] = []

    def backfill() -> None:
        try:
            _run(dsn)
        except psycopg.OperationalError as exc:
            failure.append(exc)

    thread = threading.Thread(target=backfill)
    thread.start()
    deadline = time.monotonic() + 30
    while True:
        waiting = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'liveshift' AND wait_event_type = 'Lock'"
        ).fetchone()
        if waiting:
            break
        assert time.monotonic() < deadline, "the batch never waited for the row lock"
        time.sleep(0.05)
    conn.execute("SELECT pg_terminate_backend(%s)", (waiting[0],))
    thread.join(timeout=30)
    holder.rollback()
    holder.close()
    assert len(failure) == 1
    assert _checkpoint(conn)[:2] == ([next_block], 3)
    _run(dsn)
    _, batches, done = _checkpoint(conn)
    assert done
    assert _statements(conn) == batches + 1, "exactly the batch lost with the connection is redone"
    _backfilled_once_each(conn)


def test_a_table_rewritten_mid_backfill_is_refused(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, ADD_COLUMN.tables)
    _prepared(dsn, conn)
    _run(dsn, stop_after_batches=2)
    conn.execute("VACUUM FULL history")  # rows move: the block checkpoint means nothing any more
    with pytest.raises(MigrationStateError, match="table 'history' was rewritten"):
        _run(dsn)
    assert _checkpoint(conn)[1] == 2


def test_parallel_block_partitions(dsn: str, conn: psycopg.Connection) -> None:
    load_tables(conn, ADD_COLUMN.tables)
    expand(dsn, ADD_COLUMN.m)
    # the backfill's own row versions extend the table: the partitions cover the blocks it had before
    blocks = conn.execute("SELECT pg_relation_size('history') / current_setting('block_size')::int").fetchone()
    backfill_all(dsn, ADD_COLUMN.m.name, parallelism=3)
    with open_session(dsn) as c:
        partitions = load_partitions(c, ADD_COLUMN.m.name, "history")
    assert len(partitions) == 3
    assert [p.lower for p in partitions] == [[0], partitions[0].upper[:1], partitions[1].upper[:1]]  # type: ignore[index]
    assert partitions[-1].upper[0] == blocks[0]  # type: ignore[index]
    assert conn.execute("SELECT count(*) FROM history WHERE _ls_written_by = 'p'").fetchone() == (0,)
    rows = conn.execute("SELECT sum(rows_done) FROM liveshift.checkpoints").fetchone()
    assert rows == (SEEDED,)


def test_partitioned_table_without_a_key_is_walked_partition_by_partition(dsn: str, conn: psycopg.Connection) -> None:
    """Each leaf partition is a heap table of its own: backfilled and verified by its block ranges."""
    conn.execute("CREATE TABLE log (at date NOT NULL, what text) PARTITION BY RANGE (at)")
    conn.execute("CREATE TABLE log_2026 PARTITION OF log FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    conn.execute("CREATE TABLE log_rest PARTITION OF log DEFAULT")
    conn.execute("INSERT INTO log SELECT date '2026-06-01' + g, 'W' || g FROM generate_series(1, 400) g")
    m = migration(
        "name: log_lower\noperations:\n  - {op: add_column, table: log, column: {name: w, type: text}, up: lower(what)}"
    )
    complete(dsn, m)
    with open_session(dsn) as c:
        assert c.execute("SELECT count(*) FROM log WHERE w IS DISTINCT FROM lower(what)").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM log_rest").fetchone() == (187,)


ACCOUNTS = 200
REFERENCING = 600
PK_TABLES = (
    Table("accounts", "aid serial PRIMARY KEY, name text NOT NULL", rows=ACCOUNTS, values={"name": "'a' || g"}),
    Table(  # references the key and has none of its own
        "history",
        "aid integer NOT NULL REFERENCES accounts (aid), delta integer NOT NULL, what text",
        rows=REFERENCING,
        values={"aid": f"1 + g % {ACCOUNTS}", "delta": "g", "what": "'h' || g"},
    ),
)


def _accounts_sees(c: psycopg.Connection, tags: list[int]) -> None:
    for tag in tags:
        assert count(c, "SELECT count(*) FROM history WHERE what = %s", f"w{tag}") == 1
    assert count(c, "SELECT count(*) FROM history") == REFERENCING + len(tags)


def _no_orphans(c: psycopg.Connection) -> None:
    assert count(c, "SELECT count(*) FROM history h LEFT JOIN accounts a USING (aid) WHERE a.aid IS NULL") == 0


def _blue_accounts_sees(c: psycopg.Connection, tags: list[int]) -> None:
    """Blue's columns are whole in every phase (green's bigint copies are NULL until the backfill reaches them)."""
    _accounts_sees(c, tags)
    _no_orphans(c)


def _account_write(c: psycopg.Connection, n: int) -> None:
    aid = c.execute("INSERT INTO accounts (name) VALUES (%s) RETURNING aid", (f"a{n}",)).fetchone()[0]  # type: ignore[index]
    c.execute("INSERT INTO history (aid, delta, what) VALUES (%s, 1, %s)", (aid, f"w{n}"))
    c.execute("UPDATE history SET delta = delta + 1 WHERE aid = %s", (1 + n,))


PK_BIGINT = Scenario(
    tables=PK_TABLES,
    migration="""
name: accounts_aid_bigint
operations:
  - {op: alter_column, table: accounts, column: aid, type: bigint}
""",
    plain="ALTER TABLE accounts ALTER COLUMN aid TYPE bigint; ALTER TABLE history ALTER COLUMN aid TYPE bigint",
    blue=Side(_account_write, _blue_accounts_sees),
    green=Side(_account_write, _accounts_sees),
)


def test_key_to_bigint_with_a_referencing_table_without_a_key(dsn: str, conn: psycopg.Connection) -> None:
    s = PK_BIGINT
    with Run(dsn, conn, s) as run:
        run.expand()
        with open_session(dsn) as c:
            targets = {t.table: t.batches for t in phases.plan_of(load_record(c, s.m.name)).backfill_targets()}
        assert targets == {"accounts": "key ranges", "history": "ctid block ranges"}
        run.exchange()
        run.through("cutover")
        run.contract()  # the plain statements' schema, nothing left, every acknowledged write kept
    _no_orphans(conn)
    conn.execute("INSERT INTO accounts (aid, name) VALUES (3000000000, 'big')")
    conn.execute("INSERT INTO history (aid, delta) VALUES (3000000000, 1)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO history (aid, delta) VALUES (3000000001, 1)")


@pytest.mark.parametrize("stop_after", PHASES_BEFORE_CONTRACT)
def test_key_to_bigint_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, stop_after: str) -> None:
    rollback_from(dsn, conn, PK_BIGINT, stop_after)


def test_key_to_bigint_each_step_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    each_step_twice_equals_once(dsn, conn, PK_BIGINT)
