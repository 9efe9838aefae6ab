"""A fleet rollout on real databases: 24 member databases on two servers (the session's PostgreSQL and a
PostgreSQL 15), under application writes, with one member made to fail, a worker SIGKILLed mid-wave, a retry of
the failed member, and one flip for all. test_fleet_logic.py covers the rollout's logic on fake members."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from temporalio.client import WorkflowHandle

from liveshift.cli.stack.postgres import free_port
from liveshift.fleet.members import Member
from liveshift.workflows.fleet_client import fleet_request, start_fleet
from liveshift.workflows.fleet_models import RETRY, FleetApprove, FleetInput, FleetStatus, Waves
from liveshift.workflows.models import APPROVE, MigrationOptions
from tests.harness.apps import ADD_COLUMN, GREEN, Writers
from tests.harness.db import migration
from tests.harness.fake_fleet import child_events, wait_for_state
from tests.harness.fleet_dbs import FleetDatabases, fleet_databases, pg15_server
from tests.harness.postgres import PostgresServer
from tests.harness.temporal import TemporalServer, record_history, worker_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

ROWS = 200


def one(dsn: str, query: str) -> object:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    return None if row is None else row[0]


def wrong_rows(dbs: FleetDatabases) -> dict[str, object]:
    wrong = {m.key: one(dbs.dsn(m), "SELECT count(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)")
             for m in dbs.members}  # fmt: skip
    return {key: n for key, n in wrong.items() if n != 0}


def assert_wave_halted(status: FleetStatus, dbs: FleetDatabases, failing: Member) -> None:
    """The failed member failed for its reason; the members its wave had started finished (to their cutover gate),
    no other member started, and the databases of those not started are untouched."""
    assert status.member(failing.key).state == "failed" and "email_lower" in (status.member(failing.key).reason or "")
    others = [status.member(m.key) for m in dbs.members[2:] if m.key != failing.key]
    started = [m for m in others if m.state == "running"]
    assert started and {m.phase for m in started} == {"awaiting_cutover"}
    assert all(m.state == "pending" for m in others if m not in started)
    untouched = [m.member for m in others if m.state == "pending"]
    assert all(one(dbs.dsn(m), "SELECT to_regnamespace('liveshift')") is None for m in untouched)
    assert all(status.member(m.key).state == "pending" for m in dbs.members[13:])


async def assert_nothing_repeated(
    handle: WorkflowHandle, result: FleetStatus, dbs: FleetDatabases, failing: Member
) -> None:
    """Each member's migration started once (the failed one twice), and each database recorded one migration."""
    starts = Counter(wid for kind, wid in await child_events(handle) if kind == "started")
    assert sorted(starts.values()) == [1] * (len(dbs.members) - 1) + [2]
    assert starts[result.member(failing.key).workflow_id] == 2
    assert all(one(dbs.dsn(m), "SELECT count(*) FROM liveshift.migrations") == 1 for m in dbs.members)


async def test_fleet_on_two_servers_halts_survives_a_kill_retries_and_flips(
    pg_server: PostgresServer, temporal: TemporalServer, tmp_path: Path
) -> None:
    with (
        pg15_server() as pg15,
        fleet_databases({"pg18": pg_server.admin_dsn, "pg15": pg15}, 12, ROWS, disposable=frozenset({"pg15"})) as dbs,
    ):
        members = dbs.members
        failing = members[6]  # in the second wave: its column exists already, which prepare refuses for good
        with psycopg.connect(dbs.dsn(failing), autocommit=True) as conn:
            conn.execute("ALTER TABLE users ADD COLUMN email_lower text")
        writing = [members[0], members[3], members[13]]  # the canary, the second wave, the third (both servers)
        writers = [Writers(dbs.dsn(m)) for m in writing]
        for w in writers:
            w.start()
        task_queue = f"liveshift-fleet-{uuid.uuid4().hex[:8]}"
        log = tmp_path / "worker.log"
        first = worker_process(temporal, task_queue, pg_server.admin_dsn, log, targets=dbs.targets)
        second = None
        try:
            request = FleetInput(
                name=f"it-{uuid.uuid4().hex[:8]}",
                migration=migration(ADD_COLUMN),
                options=MigrationOptions(progress_interval_s=1.0, drain_seconds=1),
                members=members,
                waves=Waves(canary=2, batch_size=11, max_concurrency=11),
                one_flip=True,
            )
            handle = await start_fleet(temporal.client, request, task_queue)
            # mid-wave: the canary waits at its cutover gate, members of the second wave are in flight
            await wait_for_state(
                handle, "running", timeout=120, until=lambda s: s.wave == 1 and s.summary()["running"] >= 4
            )
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            ports = (free_port(), free_port())
            second = worker_process(temporal, task_queue, pg_server.admin_dsn, log, ports, targets=dbs.targets)

            status = await wait_for_state(handle, "halted", timeout=180)
            assert_wave_halted(status, dbs, failing)

            with psycopg.connect(dbs.dsn(failing), autocommit=True) as conn:  # the cause fixed
                conn.execute("ALTER TABLE users DROP COLUMN email_lower")
            await fleet_request(handle, RETRY)
            status = await wait_for_state(handle, "awaiting_flip", timeout=240)
            assert {m.phase for m in status.members} == {"awaiting_cutover"}
            for w in writers:  # blue applications leave at cutover; green ones go on writing
                w.blue.halt()
            await fleet_request(handle, APPROVE, FleetApprove(gate="flip"))
            result = await asyncio.wait_for(handle.result(), 180)
            for w in writers:
                w.halt()
        finally:
            for w in writers:
                w.halt()
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)

        assert result.state == "complete" and result.summary()["done"] == 24
        assert [e for w in writers for e in w.errors] == []
        assert wrong_rows(dbs) == {}
        for m, w in zip(writing, writers, strict=True):
            assert one(dbs.dsn(m), "SELECT count(*) FROM users") == ROWS + len(w.written)
            assert one(dbs.dsn(m), f"SELECT count(*) FROM {GREEN}.users") == ROWS + len(w.written)
        await assert_nothing_repeated(handle, result, dbs, failing)
        record_history("fleet_worker_killed", (await handle.fetch_history()).to_json())
