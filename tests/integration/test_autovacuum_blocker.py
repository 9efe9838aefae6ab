"""An autovacuum worker in a step's way is cancelled, as PostgreSQL cancels one a lock request waits on.

PostgreSQL cancels an autovacuum worker once a conflicting lock request has waited deadlock_timeout on it,
but a step that waits outside the lock queue never makes that request, so without help it would wait for
the whole VACUUM (hours, on a large table). The tests make autovacuum run for real, slowly, on a table of
their own (a 1 s naptime for the server while they run, the slowest cost settings for the table) and
check that the step cancels it and completes without ever queueing, and that a role which may not cancel
it keeps waiting outside the queue with the worker named in its reports.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from liveshift.connections import open_session
from liveshift.ddl.executor import StepRunner
from liveshift.ddl.locks import ACCESS_EXCLUSIVE, Lock
from liveshift.ddl.steps import Step
from liveshift.values import LockWait
from tests.harness.db import LockEvents
from tests.harness.postgres import PostgresServer
from tests.harness.zero_stall import POLICY, WAIT_S, App, Watch, in_thread, running, wait_for, wait_until_older

pytestmark = pytest.mark.integration

# every page costs at least 1, so the worker sleeps 100 ms after each: a few hundred pages take minutes
SLOW_VACUUM = """
CREATE TABLE vac (id int PRIMARY KEY, pad text NOT NULL) WITH (
    autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_insert_threshold = 0,
    autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1
);
INSERT INTO vac SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
DELETE FROM vac WHERE id % 2 = 0;
"""
STEP = Step(
    "add column extra",
    sql.SQL("ALTER TABLE public.vac ADD COLUMN extra int"),
    Lock(ACCESS_EXCLUSIVE, (("public", "vac"),)),
)


@pytest.fixture
def admin_dsn(pg_server: PostgresServer, dsn: str) -> str:
    """The superuser's DSN for the test's database (ALTER SYSTEM, and an executor that may cancel autovacuum)."""
    return pg_server.dsn(psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


@contextmanager
def quick_autovacuum(admin_dsn: str) -> Iterator[None]:
    """autovacuum_naptime 1 s on the server while the test runs (the default minute would make it wait)."""
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET autovacuum_naptime = '1s'")
        admin.execute("SELECT pg_reload_conf()")
        try:
            yield
        finally:
            admin.execute("ALTER SYSTEM RESET autovacuum_naptime")
            admin.execute("SELECT pg_reload_conf()")


def autovacuum_on_vac(admin_dsn: str) -> int:
    """The pid of the autovacuum worker vacuuming `vac`, once it is older than the executor's threshold."""
    query = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND query LIKE '%public.vac%'"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        wait_for(lambda: admin.execute(query).fetchone() is not None, "autovacuum starts on vac")
        pid = int(admin.execute(query).fetchone()[0])
    wait_until_older(admin_dsn, pid, POLICY.blocker_min_age_ms)
    return pid


def test_an_autovacuum_worker_in_the_way_is_cancelled(dsn: str, conn: psycopg.Connection, admin_dsn: str) -> None:
    conn.execute(SLOW_VACUUM)
    watch = Watch(dsn)
    app = App(dsn, None, ["UPDATE vac SET pad = 'y' WHERE id = 1", "SELECT count(*) FROM vac WHERE id < 10"])
    reports: list[LockWait] = []
    with quick_autovacuum(admin_dsn), running(app, watch):
        pid = autovacuum_on_vac(admin_dsn)
        watch.active.set()
        with open_session(admin_dsn) as executor:
            outcome = StepRunner(POLICY, LockEvents(reports)).run_step(executor, STEP)
        watch.pause()
    assert not outcome.skipped
    cancelled = reports[-1].terminated
    assert [(b.pid, b.backend_type, b.ended_as) for b in cancelled] == [
        (pid, "autovacuum worker", "cancelled autovacuum")
    ]
    assert cancelled[0].mode == "ShareUpdateExclusiveLock"
    assert not watch.liveshift_waiting, watch.liveshift_waiting  # it never queued behind the VACUUM
    assert not watch.waiting_on_liveshift, watch.waiting_on_liveshift
    assert conn.execute("SELECT count(*) FROM vac").fetchone() == (10000,)


def test_without_the_privilege_the_step_waits_and_names_the_worker(
    dsn: str, conn: psycopg.Connection, admin_dsn: str
) -> None:
    """A role that sees the worker (pg_read_all_stats, as a worker's role must) but may not signal it (no
    superuser; pg_signal_backend does not cover autovacuum) keeps waiting
    outside the queue, the worker named in its reports; it completes once the worker is gone (an admin cancels
    it here)."""
    conn.execute(SLOW_VACUUM)
    name = f"ls_novac_{os.getpid()}"
    role = sql.Identifier(name)
    admin = psycopg.connect(admin_dsn, autocommit=True)
    admin.execute(sql.SQL("CREATE ROLE {0} LOGIN; GRANT pg_signal_backend, pg_read_all_stats TO {0}").format(role))
    admin.execute(sql.SQL("ALTER TABLE vac OWNER TO {}").format(role))
    reports: list[LockWait] = []
    try:
        with quick_autovacuum(admin_dsn):
            pid = autovacuum_on_vac(admin_dsn)
            with open_session(psycopg.conninfo.make_conninfo(admin_dsn, user=name)) as executor:
                thread, outcome = in_thread(lambda: StepRunner(POLICY, LockEvents(reports)).run_step(executor, STEP))
                wait_for(lambda: len(reports) >= 5, "the step reports its wait")
                assert thread.is_alive() and not outcome, "the step ran although autovacuum held the table"
                assert [(b.pid, b.backend_type) for b in reports[-1].blockers] == [(pid, "autovacuum worker")]
                assert not reports[-1].terminated
                admin.execute("SELECT pg_cancel_backend(%s)", (pid,))
                thread.join(WAIT_S)
    finally:
        admin.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(role))
        admin.close()
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    assert not reports[-1].blockers and not reports[-1].terminated
