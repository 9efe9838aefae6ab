"""Zero-stall DDL: while an old transaction holds a conflicting lock, liveshift never enters the lock queue.

For every lock-taking step of expand, validate, contract and rollback (an added column; the primary-key
swap with its two-table foreign-key steps), a test transaction holds a lock conflicting with the step's
on one of its tables and has been open longer than the executor's threshold. A watcher polls pg_locks
every 10 ms meanwhile: no liveshift backend may appear among the waiters, and no application statement
(issued all along) may wait on a liveshift backend. The step reports what it waits for and completes once
the blocker ends. A control run that lets the step queue shows the watcher sees what it looks for.
"""

from __future__ import annotations

import psycopg
import pytest
from prometheus_client import REGISTRY

from liveshift import phases
from liveshift.activities.reporter import LockReporter
from liveshift.connections import open_session
from liveshift.ddl.blockers import can_terminate
from liveshift.ddl.executor import StepRunner, already_applied, check_policy, lock_of, wait_scope
from liveshift.ddl.grouping import group_steps
from liveshift.ddl.locks import ACCESS_EXCLUSIVE, MODES, SHARE_ROW, Lock, read_lock, stalls_applications, strongest
from liveshift.ddl.steps import Step
from liveshift.errors import SpecError
from liveshift.store.record import load_record
from liveshift.values import LockDetails, LockWait
from tests.harness.db import LockEvents, backfill_all, migration
from tests.harness.zero_stall import POLICY, WAIT_S, App, Watch, in_thread, old_transaction, running, wait_for

pytestmark = pytest.mark.integration

RUNNER = StepRunner(POLICY)
WATCH_POLLS = 15  # polls of the watcher while a step waits, before the blocker ends

ADD_COLUMN = """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false}
    up: lower(email)
"""
PK_SETUP = """
CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL);
CREATE TABLE order_items (
    id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    qty integer NOT NULL CHECK (qty > 0)
);
INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, 200) g;
INSERT INTO order_items (order_id, qty) SELECT 1 + g % 200, 1 + g % 5 FROM generate_series(1, 400) g;
"""
PK_BIGINT = """
name: orders_id_bigint
operations:
  - {op: alter_column, table: orders, column: id, type: bigint, up: "id::bigint", down: "id::integer"}
"""


def holder_for(mode: str) -> str:
    """A long transaction's lock that conflicts with `mode`: a reader's, or an idle writer's."""
    return "ACCESS SHARE" if mode == ACCESS_EXCLUSIVE else "ROW EXCLUSIVE"


def blocked_step(dsn: str, step: Step, table: str, mode: str, watch: Watch) -> list[LockWait]:
    """Run `step` while an old transaction holds a lock conflicting with `mode` on `table`; its reports."""
    reports: list[LockWait] = []
    with old_transaction(dsn, table, holder_for(mode), POLICY.blocker_min_age_ms) as holder:
        pid = holder.info.backend_pid
        with open_session(dsn) as conn:
            watch.active.set()
            thread, outcome = in_thread(lambda: StepRunner(POLICY, LockEvents(reports)).run_step(conn, step))
            wait_for(lambda: any(b.pid == pid for r in reports for b in r.blockers), f"{step.description} waits")
            watch.polled(WATCH_POLLS)
            assert thread.is_alive() and not outcome, f"{step.description} ran although {table} was locked"
            watch.pause()
            holder.rollback()
            thread.join(WAIT_S)
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    assert not reports[-1].blockers  # the last report: the wait is over
    return reports


def run_phase_blocked(dsn: str, steps: list[Step], watch: Watch) -> list[str]:
    """Every step of a phase in order; each that would stall applications runs behind an old transaction."""
    blocked = []
    with open_session(dsn) as conn:
        for step in steps:
            lock = lock_of(step)
            existing = [t for t in lock.tables if conn.execute("SELECT to_regclass(%s)", (".".join(t),)).fetchone()[0]]
            if already_applied(conn, step) or not existing or not lock.stalls_applications:
                RUNNER.run_step(conn, step)
                continue
            # the last table: for a foreign key, the one the statement names second (or not at all)
            assert lock.mode is not None
            blocked_step(dsn, step, ".".join(existing[-1]), lock.mode, watch)
            blocked.append(step.description)
    assert not watch.liveshift_waiting, watch.liveshift_waiting
    assert not watch.waiting_on_liveshift, watch.waiting_on_liveshift
    return blocked


def plan_of(dsn: str, name: str) -> phases.MigrationPlan:
    with open_session(dsn) as conn:
        return phases.plan_of(load_record(conn, name))


def cutover_blocked(dsn: str, name: str, table: str, watch: Watch) -> None:
    """Cutover takes no table lock: it completes while an old transaction holds the table exclusively."""
    with old_transaction(dsn, table, "ACCESS EXCLUSIVE", POLICY.blocker_min_age_ms), open_session(dsn) as conn:
        watch.active.set()
        phases.cutover(conn, name)
        watch.polled(3)
        watch.pause()
    assert not watch.liveshift_waiting, watch.liveshift_waiting


@pytest.fixture
def users(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)")
    conn.execute("INSERT INTO users (email) SELECT 'User' || g || '@Example.com' FROM generate_series(1, 500) g")
    return conn


def test_add_column_expand_cutover_contract(dsn: str, users: psycopg.Connection) -> None:
    m = migration(ADD_COLUMN)
    blue = App(dsn, None, ["SELECT email FROM users WHERE id = 7", "INSERT INTO users (email) VALUES ('B@x')"])
    green = App(dsn, "public_users_email_lower", ["INSERT INTO users (email, email_lower) VALUES ('G@x', 'g@x')"])
    watch = Watch(dsn)
    with running(blue, watch):
        with open_session(dsn) as conn:
            phases.prepare(conn, m)
        blocked = run_phase_blocked(dsn, plan_of(dsn, m.name).expand_steps(), watch)
        with open_session(dsn) as conn:
            phases.expand(conn, m.name)
    assert "add row marker _ls_written_by to users (constant default: no rewrite)" in blocked
    assert "create dual-write triggers on users" in blocked
    backfill_all(dsn, m.name)
    with open_session(dsn) as conn:
        phases.validate_constraints(conn, m.name)
        assert phases.verify(conn, m.name).ok
    watch = Watch(dsn)
    with running(green, watch):
        cutover_blocked(dsn, m.name, "users", watch)
        blocked = run_phase_blocked(dsn, plan_of(dsn, m.name).contract_steps(), watch)
        with open_session(dsn) as conn:
            phases.contract(conn, m.name)
    # contract's statements on users run under one lock (ddl/grouping.py): each is named in its group's step
    assert any("drop dual-write triggers on users" in d for d in blocked), blocked
    assert any("set users.email_lower NOT NULL" in d for d in blocked), blocked
    assert users.execute("SELECT count(*) FROM users WHERE email_lower IS NULL").fetchone() == (0,)
    assert blue.count > 0 and green.count > 0


def _pk_apps(dsn: str, version: str | None) -> App:
    return App(
        dsn,
        version,
        [
            "SELECT note FROM orders WHERE id = 3",
            "INSERT INTO order_items (order_id, qty) VALUES (5, 1)",
            "UPDATE orders SET note = note WHERE id = 9",
        ],
    )


def _pk_through_validate(dsn: str, watch: Watch) -> list[str]:
    m = migration(PK_BIGINT)
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
    blocked = run_phase_blocked(dsn, plan_of(dsn, m.name).expand_steps(), watch)
    with open_session(dsn) as conn:
        phases.expand(conn, m.name)
    backfill_all(dsn, m.name)
    blocked += run_phase_blocked(dsn, plan_of(dsn, m.name).validate_steps(), watch)
    with open_session(dsn) as conn:
        phases.validate_constraints(conn, m.name)
    return blocked


def test_primary_key_swap_every_phase(dsn: str, conn: psycopg.Connection) -> None:
    conn.execute(PK_SETUP)
    watch = Watch(dsn)
    with running(_pk_apps(dsn, None), watch):
        blocked = _pk_through_validate(dsn, watch)
    # the two-table step: blocked by a transaction on the referenced table, which the SQL names second
    assert any(d.startswith("add foreign key") for d in blocked), blocked
    with open_session(dsn) as c:
        assert phases.verify(c, "orders_id_bigint").ok
    watch = Watch(dsn)
    with running(_pk_apps(dsn, "public_orders_id_bigint"), watch):
        cutover_blocked(dsn, "orders_id_bigint", "orders", watch)
        blocked = run_phase_blocked(dsn, plan_of(dsn, "orders_id_bigint").contract_steps(), watch)
        with open_session(dsn) as c:
            phases.contract(c, "orders_id_bigint")
    assert any(d.startswith("swap primary key") for d in blocked), blocked
    assert any(d.startswith("drop constraint order_items_order_id_fkey") for d in blocked), blocked
    assert conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass "
        "AND attname = 'id'"
    ).fetchone() == ("bigint",)


def test_primary_key_swap_rollback(dsn: str, conn: psycopg.Connection) -> None:
    conn.execute(PK_SETUP)
    watch = Watch(dsn)
    with running(_pk_apps(dsn, None), watch):
        _pk_through_validate(dsn, watch)
        blocked = run_phase_blocked(dsn, plan_of(dsn, "orders_id_bigint").rollback_steps(), watch)
        with open_session(dsn) as c:
            phases.rollback(c, "orders_id_bigint", runner=RUNNER)
    assert any(d.startswith("drop constraint") for d in blocked), blocked
    assert any(d.startswith("drop column") for d in blocked), blocked
    assert load_record(conn, "orders_id_bigint").status == "rolled_back"


def ad_hoc(description: str, text: str, **kwargs: object) -> Step:
    """A step of the test's own, whose declared lock is what pglast reads from its SQL (the oracle every
    builder's lock is checked against)."""
    return Step(description, psycopg.sql.SQL(text), read_lock(text), **kwargs)  # type: ignore[arg-type]


def test_control_a_queued_step_is_seen(dsn: str, users: psycopg.Connection) -> None:
    """Without waiting outside (the blocker counted as young), the step queues and the app waits on it."""
    step = ad_hoc("add column x", "ALTER TABLE users ADD COLUMN x int")
    queueing = POLICY.model_copy(update={"blocker_min_age_ms": 3_600_000, "max_attempts": 10_000})
    watch = Watch(dsn)
    app = App(dsn, None, ["INSERT INTO users (email) VALUES ('B@x')"])
    with running(app, watch), old_transaction(dsn, "users", "ACCESS SHARE", 0) as holder:
        watch.active.set()
        with open_session(dsn) as conn:
            thread, outcome = in_thread(lambda: StepRunner(queueing).run_step(conn, step))
            wait_for(lambda: bool(watch.liveshift_waiting and watch.waiting_on_liveshift), "the watcher sees it")
            watch.pause()
            holder.rollback()
            thread.join(WAIT_S)
    assert outcome and not isinstance(outcome[0], BaseException), outcome


def test_starving_step_keeps_waiting_and_resumes(dsn: str, users: psycopg.Connection) -> None:
    """A blocker that never ends: the step waits (reported as starving), also after its worker died."""
    step = ad_hoc("add column x", "ALTER TABLE users ADD COLUMN x int")
    starving = POLICY.model_copy(update={"starving_after_s": 0.0})
    with old_transaction(dsn, "users", "ACCESS SHARE", POLICY.blocker_min_age_ms) as holder:
        reports: list[LockWait] = []
        conn = open_session(dsn)
        thread, outcome = in_thread(lambda: StepRunner(starving, LockEvents(reports)).run_step(conn, step))
        wait_for(lambda: len(reports) >= 3, "the step reports its wait")
        assert all(r.starving and r.blockers[0].pid == holder.info.backend_pid for r in reports)
        conn.close()  # the worker dies mid-wait
        thread.join(WAIT_S)
        assert outcome and isinstance(outcome[0], psycopg.Error), outcome
        again: list[LockWait] = []
        with open_session(dsn) as conn2:
            thread, outcome = in_thread(lambda: StepRunner(starving, LockEvents(again)).run_step(conn2, step))
            wait_for(lambda: bool(again), "the restarted step waits again")
            holder.rollback()
            thread.join(WAIT_S)
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    assert users.execute(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'x'"
    ).fetchone() == (1,)


def test_terminate_blockers(dsn: str, users: psycopg.Connection) -> None:
    """Only the backends that block the step and are older than terminate_blockers_after_s are ended."""
    users.execute("CREATE TABLE other (id int)")
    step = ad_hoc(
        "create trigger",
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; "
        "CREATE TRIGGER t BEFORE INSERT ON public.users FOR EACH ROW EXECUTE FUNCTION f()",
    )
    assert step.lock == Lock(SHARE_ROW, (("public", "users"),))
    policy = POLICY.model_copy(update={"terminate_blockers_after_s": 1.0})
    reports: list[LockWait] = []
    with (
        old_transaction(dsn, "users", "ROW EXCLUSIVE", 1000) as writer,
        old_transaction(dsn, "users", "ACCESS SHARE", 1000) as reader,
        old_transaction(dsn, "other", "ACCESS EXCLUSIVE", 1000) as elsewhere,
        open_session(dsn) as conn,
    ):
        check_policy(conn, policy)
        writer_pid = writer.info.backend_pid
        outcome = StepRunner(policy, LockEvents(reports)).run_step(conn, step)
        with pytest.raises(psycopg.OperationalError):
            writer.execute("SELECT 1")
        # a reader does not conflict with SHARE ROW EXCLUSIVE, the other table is not the step's
        assert reader.execute("SELECT 1").fetchone() == (1,)
        assert elsewhere.execute("SELECT 1").fetchone() == (1,)
    assert not outcome.skipped
    assert [b.pid for b in reports[-1].terminated] == [writer_pid]
    assert reports[-1].terminated[0].mode == "RowExclusiveLock"


def test_termination_needs_the_privilege(dsn: str, users: psycopg.Connection) -> None:
    policy = POLICY.model_copy(update={"terminate_blockers_after_s": 5.0})
    assert can_terminate(users)
    role = f"ls_plain_{users.info.backend_pid}"
    users.execute(f"DROP ROLE IF EXISTS {role}; CREATE ROLE {role}")
    users.execute(f"SET ROLE {role}")
    try:
        assert not can_terminate(users)
        with pytest.raises(SpecError, match="pg_signal_backend"):
            check_policy(users, policy)
        check_policy(users, POLICY)  # off by default: nothing to refuse
    finally:
        users.execute("RESET ROLE")
    users.execute(f"GRANT pg_signal_backend TO {role}; SET ROLE {role}")
    try:
        assert can_terminate(users)
    finally:
        users.execute(f"RESET ROLE; DROP ROLE {role}")


def test_grouped_steps_take_one_lock_and_stay_idempotent(dsn: str, users: psycopg.Connection) -> None:
    """Consecutive catalog-only steps on users run as one transaction, behind one wait; re-runs are no-ops,
    and a group of which some parts already ran (an older executor stopped midway) runs the rest."""
    m = migration(
        "name: two_columns\noperations:\n"
        "  - {op: add_column, table: users, column: {name: a, type: text}, up: lower(email)}\n"
        "  - {op: add_column, table: users, column: {name: b, type: text}, up: upper(email)}\n"
    )
    with open_session(dsn) as conn:
        phases.prepare(conn, m)
    steps = plan_of(dsn, m.name).expand_steps()
    grouped = group_steps(steps)
    [group] = [s for s in grouped if len(s.parts) == 3]  # two hidden columns and the row marker
    with open_session(dsn) as conn:
        for step in grouped[: grouped.index(group)]:
            RUNNER.run_step(conn, step)
        RUNNER.run_step(conn, group.parts[0])  # the first part alone, as before grouping
    watch = Watch(dsn)
    with running(watch):
        reports = blocked_step(dsn, group, "public.users", ACCESS_EXCLUSIVE, watch)
    assert not watch.liveshift_waiting and not watch.waiting_on_liveshift
    assert {b.pid for r in reports for b in r.blockers} and len({r.step for r in reports}) == 1
    with open_session(dsn) as conn:
        assert RUNNER.run_step(conn, group).skipped  # every part's guard holds now
        for step in grouped[grouped.index(group) + 1 :]:
            RUNNER.run_step(conn, step)
        phases.expand(conn, m.name)
    columns = users.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum"
    ).fetchall()
    assert [c[0] for c in columns] == ["id", "email", "_ls_new_a", "_ls_new_b", "_ls_written_by"]


def test_dropping_a_foreign_key_column_waits_for_the_referenced_table(dsn: str, conn: psycopg.Connection) -> None:
    """DROP COLUMN of a column with a foreign key locks the referenced table too, though the SQL names only
    the first: an old reader of the referenced table is waited for outside the queue."""
    conn.execute(PK_SETUP)
    step = ad_hoc(
        "drop column order_items.order_id",
        "ALTER TABLE public.order_items DROP COLUMN order_id",
        skip_if=psycopg.sql.SQL(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'order_items'::regclass "
            "AND attname = 'order_id' AND NOT attisdropped)"
        ),
    )
    # the SQL names only order_items; the lock says it drops something, so orders is waited for too
    assert step.lock == Lock(ACCESS_EXCLUSIVE, (("public", "order_items"),), linked=True)
    app = App(dsn, None, ["SELECT note FROM orders WHERE id = 3", "UPDATE orders SET note = note WHERE id = 9"])
    watch = Watch(dsn)
    with running(app, watch):
        reports = blocked_step(dsn, step, "public.orders", ACCESS_EXCLUSIVE, watch)
    assert not watch.liveshift_waiting and not watch.waiting_on_liveshift
    assert {b.table for r in reports for b in r.blockers} == {"orders"}


def test_the_wait_shows_in_heartbeat_details_and_gauges(dsn: str, users: psycopg.Connection) -> None:
    """While a step waits, the activity's heartbeat details and the gauges name the blocker; after, nothing."""
    reporter = LockReporter("m_gauges")
    step = ad_hoc("add column x", "ALTER TABLE public.users ADD COLUMN x int")
    with old_transaction(dsn, "users", "ACCESS SHARE", POLICY.blocker_min_age_ms) as holder:
        pid = holder.info.backend_pid
        labels = {"migration": "m_gauges", "pid": str(pid), "state": "idle in transaction"}
        labels |= {"mode": "AccessShareLock", "table": "users"}
        with open_session(dsn) as conn:
            thread, outcome = in_thread(lambda: StepRunner(POLICY, reporter).run_step(conn, step))
            wait_for(lambda: reporter.details() != [], "the step reports its wait")
            [details] = reporter.details()
            wait = LockDetails.model_validate(details).lock_wait
            assert wait is not None
            [blocker] = wait.blockers
            assert (blocker.pid, blocker.state, blocker.mode) == (pid, "idle in transaction", labels["mode"])
            assert blocker.query == "LOCK TABLE users IN ACCESS SHARE MODE"
            assert REGISTRY.get_sample_value("liveshift_lock_blocker_transaction_seconds", labels) > 0
            holder.rollback()
            thread.join(WAIT_S)
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    assert reporter.details() == []
    assert REGISTRY.get_sample_value("liveshift_lock_wait_seconds", {"migration": "m_gauges"}) == 0
    assert REGISTRY.get_sample_value("liveshift_lock_blocker_transaction_seconds", labels) is None


# what the executor waits for is what the statements lock

_TAKEN = """
SELECT l.relation::oid, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relkind IN ('r', 'p')
  AND c.relnamespace = 'public'::regnamespace
"""


def _declared_locks_cover_taken(conn: psycopg.Connection, steps: list[Step]) -> int:
    """Run `steps` in order; each transactional one inside a transaction that, before it commits, compares
    the application-stalling locks it holds on existing tables with what the executor waits for. Returns
    how many steps were checked."""
    checked = 0
    for step in steps:
        if not step.transactional or already_applied(conn, step):
            RUNNER.run_step(conn, step)
            continue
        scope = wait_scope(conn, step)
        tables, mode = scope if scope else ((), None)
        regclasses = [conn.execute("SELECT to_regclass(%s)::oid", (".".join(t),)).fetchone()[0] for t in tables]
        existing = {r[0] for r in conn.execute("SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace")}
        with conn.transaction():
            for part in step.parts or (step,):
                if part is step or not already_applied(conn, part):
                    conn.execute(part.statement)
            taken = [(oid, m) for oid, m in conn.execute(_TAKEN).fetchall() if oid in existing]
        for oid, taken_mode in taken:
            if not stalls_applications(taken_mode):
                continue
            assert oid in regclasses, f"{step.description}: locks {oid} ({taken_mode}) unannounced, waits for {tables}"
            assert mode is not None and MODES.index(taken_mode) <= MODES.index(mode), (step.description, taken_mode)
        # what `liveshift plan` prints (the declared lock's mode) never understates what the step took
        label, held = step.lock and step.lock.mode, strongest([m for _, m in taken if stalls_applications(m)])
        if label is not None and held is not None:
            assert MODES.index(held) <= MODES.index(label), (step.description, step.label, held)
        checked += 1
    return checked


def _every_phase_covered(dsn: str, spec: str, finish: str) -> int:
    """Prepare, then each phase through `finish` (contract, after cutover, or rollback), every step checked by
    `_declared_locks_cover_taken`; how many steps were checked."""
    m = migration(spec)
    with open_session(dsn) as ls:
        phases.prepare(ls, m)
        plan = phases.plan_of(load_record(ls, m.name))
        checked = _declared_locks_cover_taken(ls, plan.phases()["expand"])
        phases.expand(ls, m.name)
        backfill_all(dsn, m.name)
        checked += _declared_locks_cover_taken(ls, plan.phases()["validate"])
        phases.validate_constraints(ls, m.name)
        assert phases.verify(ls, m.name).ok
        if finish == "contract":
            phases.cutover(ls, m.name)
        checked += _declared_locks_cover_taken(ls, plan.phases()[finish])
        getattr(phases, finish)(ls, m.name)
    return checked


def test_the_executor_waits_for_every_lock_a_step_takes(dsn: str, conn: psycopg.Connection) -> None:
    conn.execute(PK_SETUP)
    checked = _every_phase_covered(dsn, PK_BIGINT, "contract")
    assert checked > 10, checked


def test_the_executor_waits_for_every_lock_a_rollback_step_takes(dsn: str, conn: psycopg.Connection) -> None:
    conn.execute(PK_SETUP)
    m = migration(PK_BIGINT)
    with open_session(dsn) as ls:
        phases.prepare(ls, m)
        phases.expand(ls, m.name)
        backfill_all(dsn, m.name)
        phases.validate_constraints(ls, m.name)
        plan = phases.plan_of(load_record(ls, m.name))
        assert _declared_locks_cover_taken(ls, plan.phases()["rollback"]) > 3
        phases.rollback(ls, m.name)


MANY_OPS = """
name: many
operations:
  - {op: add_column, table: users, column: {name: email_lower, type: text, nullable: false, unique: true},
     up: lower(email)}
  - {op: rename_column, table: users, column: name, to: full_name}
  - {op: drop_column, table: users, column: legacy, down: "'n/a'"}
  - op: create_table
    table: orders
    columns:
      - {name: id, type: bigserial, primary_key: true}
      - {name: user_id, type: bigint, nullable: false, references: {table: users, column: id}}
  - {op: add_constraint, table: users, name: users_age_nonneg, type: check, check: "age >= 0"}
  - {op: drop_table, table: audit_log}
"""


@pytest.mark.parametrize("finish", ["contract", "rollback"])
def test_the_executor_waits_for_every_lock_of_many_operations(dsn: str, conn: psycopg.Connection, finish: str) -> None:
    conn.execute(
        "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, name text, legacy text, age int);"
        "INSERT INTO users (email, name, age) SELECT 'U' || g || '@x', 'n' || g, g FROM generate_series(1, 100) g;"
        "CREATE TABLE audit_log (id int PRIMARY KEY, user_id bigint REFERENCES users (id))"
    )
    checked = _every_phase_covered(dsn, MANY_OPS, finish)
    assert checked > 8, checked
