"""Backfill: keyset batches committed with their checkpoint; interrupted anywhere and resumed, it
finishes with every row correct and none skipped, also while blue and green clients write."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from liveshift import phases
from liveshift.backfill.partitions import pending_rows, plan_partitions
from liveshift.backfill.walk import Progress, Throttle, run_partition
from liveshift.connections import open_session
from liveshift.plan import BackfillTarget
from liveshift.store.checkpoints import init_checkpoints
from liveshift.store.record import load_record
from tests.harness.db import client, migration, partition_hooks
from tests.harness.postgres import PostgresServer

pytestmark = pytest.mark.integration

GREEN = "public_users_email_lower"
BLUE = "public_base"
MIGRATION = """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false}
    up: lower(email)
"""


def fixed(batch: int) -> Throttle:
    """A throttle that keeps the batch size constant and walks consecutive keys, so batch boundaries are
    predictable (the key runs spread over a window: test_backfill_spread.py)."""
    return Throttle(initial_batch=batch, min_batch=batch, max_batch=batch, lock_wait_backoff_s=0.05, spread=1)


def stop_after(batches: int) -> Callable[[], bool]:
    """`should_stop` that lets exactly `batches` batches run (it is asked once before each batch)."""
    asked = 0

    def should_stop() -> bool:
        nonlocal asked
        asked += 1
        return asked > batches

    return should_stop


def expanded(dsn: str, text: str = MIGRATION) -> tuple[str, BackfillTarget]:
    m = migration(text)
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
        phases.expand(conn, m.name)
        (target,) = phases.plan_of(load_record(conn, m.name)).backfill_targets()
    return m.name, target


def start(dsn: str, name: str, target: BackfillTarget, parallelism: int = 1) -> int:
    with open_session(dsn) as conn:
        partitions = plan_partitions(conn, "public", target, parallelism)
        init_checkpoints(conn, name, target.table, partitions)
        return len(partitions)


def run(
    dsn: str,
    name: str,
    target: BackfillTarget,
    partition: int = 0,
    *,
    throttle: Throttle | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Progress:
    with open_session(dsn) as conn:
        hooks = partition_hooks(on_progress, should_stop)
        return run_partition(
            conn, migration=name, schema="public", target=target, partition=partition, throttle=throttle, hooks=hooks
        )


def checkpoint(conn: psycopg.Connection, name: str, partition: int = 0) -> tuple:
    row = conn.execute(
        "SELECT last_key, rows_done, batches, done FROM liveshift.checkpoints WHERE migration = %s AND partition = %s",
        (name, partition),
    ).fetchone()
    assert row is not None
    return row


def assert_all_correct(dsn: str, name: str, table: str = "users") -> None:
    with open_session(dsn) as conn:
        assert pending_rows(conn, "public", table) == 0
        wrong = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE _ls_new_email_lower IS DISTINCT FROM lower(email)").format(
                sql.Identifier(table)
            )
        ).fetchone()
        assert wrong == (0,)
        phases.validate_constraints(conn, name)
        report = phases.verify(conn, name, chunk=700)
        assert report.ok, report.summary()
        assert load_record(conn, name).status == "verified"


@pytest.fixture
def users(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
    # gaps in the key, so batches are defined by rows, not by key arithmetic
    conn.execute("INSERT INTO users SELECT g * 3, 'User' || g || '@Example.COM' FROM generate_series(1, 2000) g")
    return conn


@pytest.mark.parametrize("k", [0, 1, 4, 19, 20])
def test_interrupted_after_k_batches_resumes_without_skipping(dsn: str, users: psycopg.Connection, k: int) -> None:
    name, target = expanded(dsn)
    start(dsn, name, target)
    progress = run(dsn, name, target, throttle=fixed(100), should_stop=stop_after(k))
    # exactly k batches committed, each with its checkpoint, and nothing beyond the checkpoint
    last_key, rows_done, batches, done = checkpoint(users, name)
    assert (rows_done, batches) == (100 * k, k)
    # done at k = 20: the batch ending at the last row knows it is the last (its window reads one key beyond)
    assert done is (k == 20)
    assert progress.rows_done == 100 * k
    if k:
        assert last_key == [300 * k]
    done_rows = users.execute("SELECT count(*), max(id) FROM users WHERE _ls_written_by = 'b'").fetchone()
    assert done_rows == (100 * k, 300 * k if k else None)
    assert users.execute(
        "SELECT count(*) FROM users WHERE _ls_written_by = 'p' AND id <= %s", (300 * k,)
    ).fetchone() == (0,)

    final = run(dsn, name, target, throttle=fixed(100))
    assert final.done
    assert final.rows_done == 2000
    assert_all_correct(dsn, name)
    # resuming a finished partition is a no-op
    assert run(dsn, name, target, throttle=fixed(100)).batches == final.batches


@pytest.mark.parametrize("k", [1, 17, 18, 19])
@pytest.mark.parametrize("turns", [18, 36])
def test_spread_runs_move_the_checkpoint_past_whole_windows(
    dsn: str, users: psycopg.Connection, k: int, turns: int
) -> None:
    """Key runs spread over a window (18 or 36 turns of 100-row batches here; 36 in two interleaved leaf-sized
    parts, as several partitions walk): the checkpoint moves only when a window's last turn commits, so a restart
    redoes the window it was in, skipping the rows done, and counts each row once."""
    name, target = expanded(dsn)
    start(dsn, name, target)
    spread = fixed(100).model_copy(update={"spread": turns})
    progress = run(dsn, name, target, throttle=spread, should_stop=stop_after(k))
    last_key, rows_done, batches, done = checkpoint(users, name)
    assert batches == k and done is False
    bound = last_key[0] if last_key else 0
    below = users.execute(
        "SELECT count(*), count(*) FILTER (WHERE _ls_written_by = 'p') FROM users WHERE id <= %s", (bound,)
    ).fetchone()
    assert below == (rows_done, 0)  # every row up to the checkpoint done, and counted there exactly
    beyond = users.execute("SELECT count(*), max(id) FROM users WHERE _ls_written_by = 'b' AND id > %s", (bound,))
    count, highest = beyond.fetchone()  # type: ignore[misc]
    assert count == progress.rows_done - rows_done
    if k == 1:  # the first turn took runs far apart (ids step by 3), not the next consecutive keys
        assert highest > bound + 3 * 10 * count
    final = run(dsn, name, target, throttle=spread)
    assert final.done and final.rows_done == 2000
    assert_all_correct(dsn, name)


TOUCHED = """
ALTER TABLE users ADD COLUMN touched integer NOT NULL DEFAULT 0;
CREATE FUNCTION count_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.touched := OLD.touched + 1; RETURN NEW; END $$;
CREATE TRIGGER count_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION count_touch();
"""


def test_a_direct_backfill_fires_no_user_trigger_where_the_role_may(dsn: str, users: psycopg.Connection) -> None:
    """A role that may set session_replication_role (here a superuser) backfills firing no trigger: the user's
    `updated_at`-like trigger does not see the backfill as an application write, and the rows are right."""
    users.execute(TOUCHED)
    name, target = expanded(dsn)
    assert target.direct
    start(dsn, name, target)
    run(dsn, name, target)
    assert users.execute("SELECT sum(touched) FROM users").fetchone() == (0,)
    assert_all_correct(dsn, name)


def traced_walk(dsn: str, name: str, target: BackfillTarget, trace: Path, throttle: Throttle | None = None) -> str:
    """The statements the walk's session sent (libpq's protocol trace of the real connection)."""
    with open_session(dsn) as conn, trace.open("w") as out:
        conn.pgconn.trace(out.fileno())
        run_partition(
            conn, migration=name, schema="public", target=target, partition=0, throttle=throttle or fixed(300)
        )
        conn.pgconn.untrace()
    return trace.read_text()


VOLATILE = MIGRATION.replace("up: lower(email)", "up: lower(email) || md5(random()::text)")


@pytest.mark.parametrize("spec", [MIGRATION, VOLATILE], ids=["deterministic", "volatile"])
def test_batches_commit_without_waiting_for_the_flush_unless_an_up_is_volatile(
    dsn: str, users: psycopg.Connection, tmp_path: Path, spec: str
) -> None:
    """A lost batch is redone with the same values, so batches commit asynchronously, but the partition's last
    commit waits; a volatile `up` would give another value on the redo than the one a client may have read."""
    name, target = expanded(dsn, spec)
    assert any(up.volatile for up in target.ups) == (spec is VOLATILE)
    start(dsn, name, target)
    sent = traced_walk(dsn, name, target, tmp_path / "trace")
    batches = checkpoint(users, name)[2]
    assert batches >= 7  # 2,000 rows in batches of 300
    asynchronous = sent.count("SET LOCAL synchronous_commit = off")
    assert asynchronous == (0 if spec is VOLATILE else batches - 1)


def test_flush_each_batch_commits_every_batch_synchronously(
    dsn: str, users: psycopg.Connection, tmp_path: Path
) -> None:
    """`flush_each_batch`: no batch leaves its WAL flush to the application's next commits; the rows are right."""
    name, target = expanded(dsn)
    start(dsn, name, target)
    throttle = fixed(300).model_copy(update={"flush_each_batch": True})
    sent = traced_walk(dsn, name, target, tmp_path / "trace", throttle)
    assert checkpoint(users, name)[2] >= 7
    assert "synchronous_commit" not in sent
    assert_all_correct(dsn, name)


def test_a_role_that_may_not_set_replication_role_backfills_through_the_when_clause(
    dsn: str, users: psycopg.Connection
) -> None:
    """Without the privilege the walk keeps the default role: every trigger fires, the dual-write one skipped by
    its WHEN clause, and the backfill completes as before."""
    users.execute(TOUCHED)
    role = f"walker_{uuid.uuid4().hex[:8]}"
    users.execute(sql.SQL("CREATE ROLE {} NOSUPERUSER").format(sql.Identifier(role)))
    users.execute(sql.SQL("ALTER TABLE users OWNER TO {}").format(sql.Identifier(role)))
    name, target = expanded(dsn)
    users.execute(sql.SQL("GRANT USAGE ON SCHEMA liveshift TO {}").format(sql.Identifier(role)))
    users.execute(sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA liveshift TO {}").format(sql.Identifier(role)))
    start(dsn, name, target)
    with open_session(dsn) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        progress = run_partition(conn, migration=name, schema="public", target=target, partition=0)
        assert conn.execute("SHOW session_replication_role").fetchone() == ("origin",)
    assert progress.done
    assert users.execute("SELECT min(touched), max(touched) FROM users").fetchone() == (1, 1)
    assert_all_correct(dsn, name)


def test_backend_killed_mid_batch_loses_only_that_batch(dsn: str, users: psycopg.Connection) -> None:
    name, target = expanded(dsn)
    start(dsn, name, target)
    # an application transaction holds row 750 (in batch 3 of 100-row batches), so batch 3 stops halfway
    holder = psycopg.connect(dsn)
    holder.execute("SELECT * FROM users WHERE id = 750 FOR UPDATE")
    backfill = open_session(dsn)
    pid = backfill.info.backend_pid
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run_partition(backfill, migration=name, schema="public", target=target, partition=0, throttle=fixed(100))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    deadline = time.monotonic() + 10
    while users.execute(
        "SELECT wait_event_type IS DISTINCT FROM 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone() != (False,):
        assert time.monotonic() < deadline, "the backfill never reached the locked row"
        time.sleep(0.01)
    # mid-batch: rows 603..747 of batch 3 are updated but not committed
    users.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(10)
    assert not thread.is_alive()
    assert failure and isinstance(failure[0], psycopg.OperationalError)
    holder.rollback()
    holder.close()
    backfill.close()

    last_key, rows_done, batches, done = checkpoint(users, name)
    assert (last_key, rows_done, batches, done) == ([600], 200, 2, False)
    assert users.execute("SELECT count(*), max(id) FROM users WHERE _ls_written_by = 'b'").fetchone() == (200, 600)

    assert run(dsn, name, target, throttle=fixed(100)).done
    assert_all_correct(dsn, name)


class Writers:
    """Blue and green application clients inserting, updating and deleting while the backfill runs."""

    def __init__(self, dsn: str, seed: int) -> None:
        self.dsn = dsn
        self.seed = seed
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.writes = 0
        self.threads = [threading.Thread(target=self._loop, args=(side,)) for side in (BLUE, GREEN)]

    def _loop(self, side: str) -> None:
        rng = random.Random(f"{self.seed}-{side}")
        try:
            with client(self.dsn, side) as app:
                while not self.stop.is_set():
                    self._one(app, side, rng)
                    self.writes += 1
        except BaseException as exc:
            self.errors.append(exc)

    @staticmethod
    def _one(app: psycopg.Connection, side: str, rng: random.Random) -> None:
        email = f"{side[-5:]}{uuid.uuid4().hex[:8]}@MiXeD.org"
        key = rng.randrange(1, 6100)
        action = rng.choice(["insert", "update", "update", "delete"])
        green = side == GREEN
        if action == "insert":
            new_id = rng.randrange(10_000_000)
            if green:
                app.execute(
                    "INSERT INTO users (id, email, email_lower) VALUES (%s, %s, lower(%s)) ON CONFLICT DO NOTHING",
                    (new_id, email, email),
                )
            else:
                app.execute("INSERT INTO users (id, email) VALUES (%s, %s) ON CONFLICT DO NOTHING", (new_id, email))
        elif action == "update":
            if green:
                app.execute("UPDATE users SET email = %s, email_lower = lower(%s) WHERE id = %s", (email, email, key))
            else:
                app.execute("UPDATE users SET email = %s WHERE id = %s", (email, key))
        else:
            app.execute("DELETE FROM users WHERE id = %s", (key,))

    @contextmanager
    def running(self) -> Iterator[Writers]:
        for t in self.threads:
            t.start()
        try:
            yield self
        finally:
            self.stop.set()
            for t in self.threads:
                t.join(10)
        assert not self.errors, self.errors


@pytest.mark.parametrize("seed", [1, 2])
def test_interruptions_while_blue_and_green_write(dsn: str, users: psycopg.Connection, seed: int) -> None:
    name, target = expanded(dsn)
    start(dsn, name, target)
    rng = random.Random(seed)
    with Writers(dsn, seed).running() as writers:
        progress = None
        for _ in range(6):
            progress = run(dsn, name, target, throttle=fixed(97), should_stop=stop_after(rng.randrange(0, 5)))
            time.sleep(0.05)
            if progress.done:
                break
        while not (progress and progress.done):
            progress = run(dsn, name, target, throttle=fixed(97))
        time.sleep(0.2)  # writes after the backfill ended go through the trigger alone
    assert writers.writes > 50
    assert_all_correct(dsn, name)
    by_side = dict(users.execute("SELECT _ls_written_by, count(*) FROM users GROUP BY 1").fetchall())
    assert set(by_side) <= {"b", "g"}
    assert by_side.get("g", 0) > 0


KEY_SETUPS = [
    (
        # composite key; tenants interleave so keyset order is (tenant, seq), not insertion order
        "CREATE TABLE users (tenant int, seq int, email text NOT NULL, PRIMARY KEY (tenant, seq));"
        "INSERT INTO users SELECT g % 7, g, 'T' || g || '@X.Org' FROM generate_series(1, 1500) g",
        ("tenant", "seq"),
        "SELECT tenant, seq FROM users",
    ),
    (
        # text key with case, spaces, quotes, unicode and digits that sort differently as numbers
        "CREATE TABLE users (code text PRIMARY KEY, email text NOT NULL);"
        "INSERT INTO users SELECT (ARRAY['a', 'B', 'é', 'z z', 'x''y', '10', '9'])[1 + g % 7] || g, "
        "'Code' || g || '@X.Org' FROM generate_series(1, 1500) g",
        ("code",),
        "SELECT code FROM users",
    ),
    (
        # no primary key: a unique index over NOT NULL columns serves as the key
        "CREATE TABLE users (ext text NOT NULL, n int NOT NULL, email text NOT NULL);"
        "CREATE UNIQUE INDEX users_ext_n ON users (ext, n);"
        "INSERT INTO users SELECT md5(g::text), g % 3, 'U' || g || '@X.Org' FROM generate_series(1, 1500) g",
        ("ext", "n"),
        "SELECT ext, n FROM users",
    ),
]
KEY_IDS = ["composite", "text", "unique-not-null"]


@pytest.mark.parametrize(
    ("setup", "key", "keys"),
    KEY_SETUPS,
    ids=KEY_IDS,
)
def test_non_integer_keys_resume_exactly(dsn: str, conn: psycopg.Connection, setup: str, key: tuple, keys: str) -> None:
    conn.execute(setup)
    name, target = expanded(dsn)
    assert target.key == key
    assert start(dsn, name, target, parallelism=4) == 1  # only a single integer key is split
    for k in (1, 3, 2):
        run(dsn, name, target, throttle=fixed(128), should_stop=stop_after(k))
        # every committed row is at or before the checkpoint in key order, every pending one after it
        last_key = checkpoint(conn, name)[0]
        assert last_key is not None and len(last_key) == len(key)
        params = last_key
        row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in key))
        casts = sql.SQL("({})").format(
            sql.SQL(", ").join(sql.SQL("CAST(%s AS {})").format(sql.SQL(t)) for t in target.key_types)
        )
        misplaced = conn.execute(
            sql.SQL(
                "SELECT count(*) FILTER (WHERE _ls_written_by = 'b' AND {row} > {casts}), "
                "count(*) FILTER (WHERE _ls_written_by = 'p' AND {row} <= {casts2}) FROM users"
            ).format(row=row, casts=casts, casts2=casts),
            [str(v) for v in params] * 2,
        ).fetchone()
        assert misplaced == (0, 0)
    assert run(dsn, name, target, throttle=fixed(128)).rows_done == 1500
    assert_all_correct(dsn, name)
    assert conn.execute(f"SELECT count(*) FROM ({keys}) k").fetchone() == (1500,)


@pytest.mark.parametrize(("setup", "key", "keys"), KEY_SETUPS, ids=KEY_IDS)
def test_non_integer_keys_in_spread_runs_resume_exactly(
    dsn: str, conn: psycopg.Connection, setup: str, key: tuple, keys: str
) -> None:
    """The same keys walked in runs spread over windows (32-row turns, 18 a window): stopped mid-window and after
    one, every pending row is past the checkpoint, and the resumed walk counts each row once."""
    conn.execute(setup)
    name, target = expanded(dsn)
    start(dsn, name, target)
    spread = fixed(32).model_copy(update={"spread": 18})
    for k in (5, 20):
        run(dsn, name, target, throttle=spread, should_stop=stop_after(k))
        last_key = checkpoint(conn, name)[0]
        if last_key is None:
            continue
        row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in key))
        casts = sql.SQL("({})").format(
            sql.SQL(", ").join(sql.SQL("CAST(%s AS {})").format(sql.SQL(t)) for t in target.key_types)
        )
        behind = conn.execute(
            sql.SQL("SELECT count(*) FROM users WHERE _ls_written_by = 'p' AND {} <= {}").format(row, casts),
            [str(v) for v in last_key],
        ).fetchone()
        assert behind == (0,)
    final = run(dsn, name, target, throttle=spread)
    assert final.done and final.rows_done == 1500
    assert_all_correct(dsn, name)


def test_parallel_partitions_cover_every_row_once(dsn: str, users: psycopg.Connection) -> None:
    users.execute("DELETE FROM users WHERE id BETWEEN 1500 AND 3600")  # a hole in the middle of the key range
    total = users.execute("SELECT count(*) FROM users").fetchone()[0]
    name, target = expanded(dsn)
    assert start(dsn, name, target, parallelism=3) == 3
    bounds = users.execute(
        "SELECT partition, lower_key, upper_key FROM liveshift.checkpoints WHERE migration = %s ORDER BY 1", (name,)
    ).fetchall()
    assert bounds[0][1] is None and bounds[-1][2] is None
    assert [b[2] for b in bounds[:-1]] == [b[1] for b in bounds[1:]]  # contiguous, no overlap, no gap

    # partition 1 is interrupted once; all run at the same time on their own connections
    outcomes: dict[int, Progress] = {}
    errors: list[BaseException] = []

    def work(p: int) -> None:
        try:
            if p == 1:
                run(dsn, name, target, p, throttle=fixed(50), should_stop=stop_after(2))
            outcomes[p] = run(dsn, name, target, p, throttle=fixed(50))
        except BaseException as exc:
            errors.append(exc)

    with Writers(dsn, 3).running():
        threads = [threading.Thread(target=work, args=(p,)) for p in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors, errors
    assert all(outcomes[p].done for p in range(3))
    # rows the writers inserted meanwhile land in the open-ended last partition or are written by the trigger
    assert all(outcomes[p].rows_done > 0 for p in range(3))
    assert sum(outcomes[p].rows_done for p in range(2)) <= total
    assert_all_correct(dsn, name)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch=st.integers(min_value=1, max_value=250),
    stops=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=4),
    rows=st.integers(min_value=0, max_value=600),
)
def test_property_any_interruption_points_and_batch_sizes(
    pg_server: PostgresServer, batch: int, stops: list[int], rows: int
) -> None:
    name_db = f"t_prop_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name_db)))
    dsn = pg_server.dsn(name_db)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)")
            conn.execute("INSERT INTO users SELECT g * 2, 'P' || g || '@Q.R' FROM generate_series(1, %s) g", (rows,))
        name, target = expanded(dsn)
        start(dsn, name, target)
        committed = 0
        for k in stops:
            progress = run(dsn, name, target, throttle=fixed(batch), should_stop=stop_after(k))
            committed = min(rows, committed + k * batch) if not progress.done else rows
            assert progress.rows_done == committed
        assert run(dsn, name, target, throttle=fixed(batch)).rows_done == rows
        assert_all_correct(dsn, name)
    finally:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name_db)))


def test_rows_per_second_cap_paces_small_batches(dsn: str, users: psycopg.Connection) -> None:
    """Under a cap, no batch holds more than a target batch time's worth of rows, and the walk takes
    at least rows / cap seconds (a lower bound only: the machine may be slower, never faster)."""
    name, target = expanded(dsn)
    start(dsn, name, target)
    throttle = Throttle(max_rows_per_second=4000, target_batch_ms=100)
    batches: list[int] = []
    began = time.monotonic()
    run(dsn, name, target, throttle=throttle, on_progress=lambda p: batches.append(p.rows_in_batch))
    assert time.monotonic() - began >= 2000 / 4000 * 0.9
    assert max(batches) <= 4000 * 0.1
    assert len([b for b in batches if b]) >= 2000 // 400
    assert_all_correct(dsn, name)


@contextmanager
def scratch_database(pg_server: PostgresServer) -> Iterator[str]:
    name = f"t_scratch_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_server.dsn(name)
    finally:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


PEOPLE = (
    "CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, n integer);"
    "INSERT INTO people SELECT g * 5, 'P' || g || '@Mixed.Case', nullif(g % 7, 0) * g FROM generate_series(1, 1200) g"
)
PATHS = {
    # the up reads columns stored under their own names: inlined into the UPDATE's SET
    "inline": """
name: paths
operations:
  - {op: add_column, table: people, column: {name: email_lower, type: text, nullable: false}, up: lower(email)}
""",
    # the up reads the renamed column through its logical name: bound through a sub-select
    "bound": """
name: paths
operations:
  - {op: rename_column, table: people, column: n, to: amount}
  - op: alter_column
    table: people
    column: amount
    type: bigint
    up: amount::bigint * 1000 + id
    down: (amount / 1000)::integer
""",
    # the second up reads the first one's column: only the trigger, running them in order, chains them
    "chained": """
name: paths
operations:
  - {op: add_column, table: people, column: {name: email_lower, type: text, nullable: false}, up: lower(email)}
  - {op: add_column, table: people, column: {name: tag, type: text}, up: "email_lower || '#' || coalesce(n, -1)"}
""",
}


def backfilled_rows(dsn: str, text: str, path: str | None = None) -> tuple[BackfillTarget, int, list[tuple]]:
    """Expand and backfill `people` (on `path` when given, else the plan's); the dual-write function's calls
    during the backfill, and the table's rows (hidden columns and marker included) in key order."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(PEOPLE)
    name, target = expanded(dsn, text)
    if path is not None:
        target = dataclasses.replace(target, direct=path == "direct")
    start(dsn, name, target)
    with open_session(dsn) as conn:
        conn.execute("SET track_functions = 'pl'")
        assert run_partition(
            conn, migration=name, schema="public", target=target, partition=0, throttle=fixed(250)
        ).done
        conn.execute("SELECT pg_stat_force_next_flush()")  # flushed before the backend reports idle
        (calls,) = conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE schemaname = 'liveshift'"
        ).fetchone()  # type: ignore[misc]
        rows = conn.execute("SELECT * FROM people ORDER BY id").fetchall()
    return target, int(calls), rows


@pytest.mark.parametrize("case", ["inline", "bound"])
def test_direct_and_trigger_paths_write_identical_rows(pg_server: PostgresServer, dsn: str, case: str) -> None:
    target, direct_calls, direct_rows = backfilled_rows(dsn, PATHS[case])
    assert target.path == "direct"
    assert direct_calls == 0  # the trigger's WHEN clause skipped it for every backfilled row
    with open_session(dsn) as conn:
        assert phases.verify(conn, "paths", chunk=500).ok
    with scratch_database(pg_server) as other:
        _, touch_calls, touch_rows = backfilled_rows(other, PATHS[case], path="trigger")
    assert touch_calls == 1200
    assert direct_rows == touch_rows
    assert len(direct_rows) == 1200 and {r[-1] for r in direct_rows} == {"b"}


def test_chained_ups_take_the_trigger_path(pg_server: PostgresServer, dsn: str) -> None:
    target, calls, _ = backfilled_rows(dsn, PATHS["chained"])
    assert target.path == "trigger" and calls == 1200
    with open_session(dsn) as conn:
        assert phases.verify(conn, "paths", chunk=500).ok
        wrong = conn.execute(
            "SELECT count(*) FROM people WHERE _ls_new_tag IS DISTINCT FROM lower(email) || '#' || coalesce(n, -1)"
        ).fetchone()
        assert wrong == (0,)
    # why: one UPDATE's SET would read email_lower as stored before it (NULL), and verify would say so
    with scratch_database(pg_server) as other:
        backfilled_rows(other, PATHS["chained"], path="direct")
        with open_session(other) as conn:
            report = phases.verify(conn, "paths", chunk=500)
    assert report.mismatches == 1200


@pytest.mark.parametrize(
    ("column", "up", "expected"),
    [
        # PL/pgSQL assigns text to an integer column through I/O conversion; an UPDATE's SET refuses it
        ("{name: email_length, type: integer}", "length(email)::text", "length(email)"),
        # an aggregate over the row's own values is an expression in PL/pgSQL, refused in an UPDATE's SET
        ("{name: email_length, type: integer}", "max(length(email))", "length(email)"),
    ],
    ids=["io-conversion", "aggregate"],
)
def test_direct_update_refused_falls_back_to_the_trigger(dsn: str, column: str, up: str, expected: str) -> None:
    text = f"""
name: paths
operations:
  - {{op: add_column, table: people, column: {column}, up: "{up}"}}
"""
    target, calls, _ = backfilled_rows(dsn, text)
    assert target.path == "direct" and calls == 1200
    with open_session(dsn) as conn:
        assert pending_rows(conn, "public", "people") == 0
        wrong = conn.execute(
            sql.SQL("SELECT count(*) FROM people WHERE _ls_new_email_length IS DISTINCT FROM {}").format(
                sql.SQL(expected)
            )
        ).fetchone()
        assert wrong == (0,)


def test_a_batch_gives_way_to_an_application_row_lock(dsn: str, users: psycopg.Connection) -> None:
    """A batch that meets a row an application transaction holds waits only `lock_timeout`, then rolls back,
    releasing every row it had locked, and tries the same rows again; it never moves past the held row, and
    finishes every row correctly once the application commits."""
    name, target = expanded(dsn)
    start(dsn, name, target)
    app = psycopg.connect(dsn)
    app.execute("UPDATE users SET email = email WHERE id = 900")  # row 300 of 2000, held (idle in transaction)
    app_xid = app.execute("SELECT pg_current_xact_id()::text").fetchone()[0]
    reports: list[Progress] = []
    outcome: list[object] = []
    walker = threading.Thread(
        target=lambda: outcome.append(run(dsn, name, target, throttle=fixed(100), on_progress=reports.append))
    )
    walker.start()
    waits: set[object] = set()  # each wait of the backfill on the application's transaction, by its start
    deadline = time.monotonic() + 60
    while len(waits) < 3 or not any((r.throttled or "").startswith("row locks held by others") for r in reports):
        assert time.monotonic() < deadline, f"the batch did not give way repeatedly: {waits}, {reports[-1:]}"
        waits |= {
            row[0]
            for row in users.execute(
                "SELECT l.waitstart FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.application_name = 'liveshift' AND l.locktype = 'transactionid' "
                "AND l.transactionid::text = %s",
                (app_xid,),
            ).fetchall()
        }
        time.sleep(0.005)
    last_key, rows_done, _, done = checkpoint(users, name)
    assert not done and last_key is not None and last_key[0] < 900 and rows_done < 300  # never past the held row
    app.commit()
    app.close()
    walker.join(60)
    assert outcome and isinstance(outcome[0], Progress) and outcome[0].done and outcome[0].rows_done == 2000
    assert_all_correct(dsn, name)
