"""`liveshift migrate DIR`, `history` and `baseline` as an operator runs them (CLI subprocesses), against a real
Temporal dev server, a real PostgreSQL and a real worker: files apply in order, the history shows them, a re-run
is a no-op, an edited applied file and a gap are refused, gates hold each file, a rollback stops the run, and a
worker SIGKILLed during the second file resumes and completes."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import CancelledError

from liveshift.workflows.directory_models import DIRECTORY_STATUS, DirectoryStatus, directory_workflow_id
from tests.harness.apps import seed
from tests.harness.db import rows_done, until_rows_done
from tests.harness.temporal import TemporalServer, WorkerHandle, record_history, worker_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "001_orders.yaml": """
name: orders
operations:
  - op: create_table
    table: orders
    columns:
      - {name: id, type: bigserial, primary_key: true}
      - {name: user_id, type: bigint, nullable: false, references: {table: users, column: id}}
""",
    "002_users_email_lower.yaml": """
name: users_email_lower
operations:
  - op: add_column
    table: users
    column: {name: email_lower, type: text, nullable: false}
    up: lower(email)
""",
    # needs the column the second file adds: it can only prepare once that one has completed
    "003_users_email_lower_idx.yaml": """
name: users_email_lower_idx
operations:
  - op: create_index
    name: users_email_lower_idx
    table: users
    columns: [email_lower]
""",
}
QUICK = ("--auto-cutover", "--soak", "0", "--drain", "0")  # no client follows the flag here


def write_directory(root: Path) -> Path:
    directory = root / "migrations"
    directory.mkdir()
    for name, text in FILES.items():
        (directory / name).write_text(text)
    return directory


def cli(temporal: TemporalServer, task_queue: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
    env |= {
        "LIVESHIFT_TEMPORAL_ADDRESS": temporal.address,
        "LIVESHIFT_TEMPORAL_NAMESPACE": temporal.namespace,
        "LIVESHIFT_TASK_QUEUE": task_queue,
    }
    return subprocess.run(
        [sys.executable, "-m", "liveshift.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=ROOT,
    )


async def run_cli(temporal: TemporalServer, task_queue: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, off the event loop (an in-process worker keeps serving on it)."""
    return await asyncio.to_thread(cli, temporal, task_queue, *args)


async def history_json(temporal: TemporalServer, task_queue: str) -> list[dict[str, Any]]:
    result = await run_cli(temporal, task_queue, "history", "--target", "test", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {stderr!r}"
    return lines[0]


async def directory_runs(temporal: TemporalServer, target: str = "test") -> int:
    query = f"WorkflowId = '{directory_workflow_id(target)}'"
    return len([e async for e in temporal.client.list_workflows(query)])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_directory_applies_in_order_records_history_and_refuses_edits(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    seed(conn, rows=500)
    directory = write_directory(tmp_path)
    queue = liveshift_worker.task_queue
    applied = await run_cli(
        temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--wait", "--started-by", "alice"
    )
    assert applied.returncode == 0, applied.stderr
    assert "all 3 files applied on test" in applied.stdout

    entries = await history_json(temporal, queue)
    assert [e["file"] for e in entries] == list(FILES)
    assert [e["outcome"] for e in entries] == ["complete"] * 3
    assert [e["checksum"] for e in entries] == [sha256(directory / name) for name in FILES]
    assert {e["started_by"] for e in entries} == {"alice"}
    for before, after in itertools.pairwise(entries):  # each file started once the previous ended
        assert datetime.fromisoformat(before["ended_at"]) <= datetime.fromisoformat(after["started_at"])
    assert all(e["duration_s"] > 0 for e in entries)
    assert entries[1]["workflow_id"] == entries[2]["workflow_id"]  # both migrate users: the id of `start`
    assert conn.execute("SELECT count(*) FROM users WHERE email_lower = lower(email)").fetchone() == (500,)
    assert conn.execute("SELECT to_regclass('users_email_lower_idx') IS NOT NULL").fetchone() == (True,)
    assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)

    table = await run_cli(temporal, queue, "history", "--target", "test")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["FILE", "CHECKSUM", "STARTED"]
    assert [line.split()[0] for line in lines[1:]] == list(FILES)
    assert all(" complete " in line and " alice" in line for line in lines[1:])

    again = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--wait")
    assert again.returncode == 0, again.stderr
    assert "nothing to apply" in again.stdout
    assert await directory_runs(temporal) == 1, "a re-run starts nothing"

    edited = directory / "002_users_email_lower.yaml"
    edited.write_text(FILES["002_users_email_lower.yaml"] + "# tweaked after it ran\n")
    refused = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK)
    assert refused.returncode == 2
    line = one_line(refused.stderr)
    assert "002_users_email_lower.yaml: was applied" in line and "has since been edited" in line

    edited.write_text(FILES["002_users_email_lower.yaml"])
    (directory / "002a_late.yaml").write_text(FILES["001_orders.yaml"].replace("orders", "late_orders"))
    gap = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--json")
    assert gap.returncode == 2
    assert "002a_late.yaml: sorts before 003_users_email_lower_idx.yaml" in one_line(gap.stderr)
    assert json.loads(gap.stdout.splitlines()[-1])["ok"] is False
    assert await directory_runs(temporal) == 1 and len(await history_json(temporal, queue)) == 3


async def test_bad_files_are_refused_before_anything_starts(temporal: TemporalServer, tmp_path: Path) -> None:
    directory = write_directory(tmp_path)
    (directory / "002b_bad.yaml").write_text("name: bad_one\noperations:\n  - op: add_column\n    table: users\n")
    nowhere = ("--address", "127.0.0.1:1")  # Temporal is never reached
    bad = await run_cli(temporal, "unused", "migrate", str(directory), "--target", "test", *nowhere)
    assert bad.returncode == 2
    line = one_line(bad.stderr)
    assert "002b_bad.yaml: operations[0] (add_column)" in line and "column" in line

    (directory / "002b_bad.yaml").write_text(FILES["001_orders.yaml"])
    same_name = await run_cli(temporal, "unused", "migrate", str(directory), "--target", "test", *nowhere)
    assert same_name.returncode == 2
    assert "002b_bad.yaml: field 'name': the name 'orders' is also 001_orders.yaml's" in one_line(same_name.stderr)

    (directory / "002b_bad.yaml").unlink()
    empty = tmp_path / "empty"
    empty.mkdir()
    none = await run_cli(temporal, "unused", "migrate", str(empty), "--target", "test", *nowhere)
    assert none.returncode == 2 and "no migration files" in one_line(none.stderr)
    upto = await run_cli(temporal, "unused", "baseline", str(directory), "--target", "test", "--upto", "9.yaml")
    assert upto.returncode == 2 and "no file '9.yaml'" in one_line(upto.stderr)


async def test_each_file_waits_at_its_gates_and_a_rollback_stops_the_run(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    seed(conn, rows=200)
    directory = write_directory(tmp_path)
    queue = liveshift_worker.task_queue
    at_gate = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", "--wait")
    assert at_gate.returncode == 0, at_gate.stderr
    assert "orders waits for approval of cutover" in at_gate.stdout
    child = at_gate.stdout.splitlines()[-1].removeprefix("next: liveshift approve cutover ")
    assert child.startswith("liveshift/test/")

    busy = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test")
    assert busy.returncode == 2 and "is still running" in one_line(busy.stderr)

    rolled = await run_cli(temporal, queue, "rollback", child, "--reason", "test says no")
    assert rolled.returncode == 0, rolled.stderr
    handle = temporal.client.get_workflow_handle(directory_workflow_id("test"))
    with pytest.raises(WorkflowFailureError) as stopped:
        await handle.result()
    assert str(stopped.value.cause.message) == "001_orders.yaml: rolled back: test says no"  # type: ignore[union-attr]
    status = await handle.query(DIRECTORY_STATUS, result_type=DirectoryStatus)
    assert [f.state for f in status.files] == ["rolled_back", "pending", "pending"]
    [entry] = await history_json(temporal, queue)
    assert (entry["file"], entry["outcome"], entry["reason"]) == ("001_orders.yaml", "rolled_back", "test says no")
    record_history("migrate_directory_rollback_stops", (await handle.fetch_history()).to_json())

    # the rolled-back file is pending again: the next run takes it up, then the rest
    applied = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--wait")
    assert applied.returncode == 0, applied.stderr
    entries = await history_json(temporal, queue)
    assert [(e["file"], e["outcome"]) for e in entries] == [("001_orders.yaml", "rolled_back")] + [
        (name, "complete") for name in FILES
    ]


async def first_file_at_cutover_gate(
    conn: psycopg.Connection, temporal: TemporalServer, queue: str, directory: Path
) -> subprocess.CompletedProcess[str]:
    """A seeded table and `directory` run with --wait: its first file (orders) stops at the cutover gate."""
    seed(conn, rows=20)
    at_gate = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", "--wait")
    assert at_gate.returncode == 0 and "orders waits for approval of cutover" in at_gate.stdout, at_gate.stderr
    return at_gate


async def test_cancelling_the_run_rolls_back_the_file_in_flight_and_records_it(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    queue = liveshift_worker.task_queue
    await first_file_at_cutover_gate(conn, temporal, queue, write_directory(tmp_path))
    assert conn.execute("SELECT to_regclass('orders') IS NOT NULL").fetchone() == (True,)  # expanded
    handle = temporal.client.get_workflow_handle(directory_workflow_id("test"))
    await handle.cancel(reason="change of plan")
    with pytest.raises(WorkflowFailureError) as ended:
        await handle.result()
    assert isinstance(ended.value.cause, CancelledError)
    [entry] = await history_json(temporal, queue)
    assert entry["outcome"] == "rolled_back"
    assert "directory run cancelled: change of plan" in entry["reason"]
    assert conn.execute("SELECT to_regclass('orders') IS NULL").fetchone() == (True,)  # rolled back
    status = await handle.query(DIRECTORY_STATUS, result_type=DirectoryStatus)
    assert [f.state for f in status.files] == ["rolled_back", "pending", "pending"]
    record_history("migrate_directory_cancelled", (await handle.fetch_history()).to_json())


async def test_a_terminated_run_rolls_back_its_file_and_the_next_run_closes_its_record(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    directory = write_directory(tmp_path)
    queue = liveshift_worker.task_queue
    at_gate = await first_file_at_cutover_gate(conn, temporal, queue, directory)
    child = temporal.client.get_workflow_handle(at_gate.stdout.splitlines()[-1].split()[-1])
    await temporal.client.get_workflow_handle(directory_workflow_id("test")).terminate("operator")
    with pytest.raises(WorkflowFailureError) as ended:  # the parent close policy asked the child to cancel
        await child.result()
    assert isinstance(ended.value.cause, CancelledError)
    assert conn.execute("SELECT to_regclass('orders') IS NULL").fetchone() == (True,)  # rolled back
    [entry] = await history_json(temporal, queue)
    assert entry["outcome"] == "running"  # nobody was left to record how it ended

    applied = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--wait")
    assert applied.returncode == 0, applied.stderr
    entries = await history_json(temporal, queue)
    assert [(e["file"], e["outcome"]) for e in entries] == [("001_orders.yaml", "failed")] + [
        (name, "complete") for name in FILES
    ]
    assert entries[0]["reason"].startswith("its directory run ended without recording an outcome")


async def test_a_failing_file_stops_the_run_with_its_reason(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    seed(conn, rows=10)
    directory = write_directory(tmp_path)
    (directory / "002_users_email_lower.yaml").unlink()  # the index's column never comes
    queue = liveshift_worker.task_queue
    failed = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--wait", "--json")
    assert failed.returncode == 1, failed.stderr
    result = json.loads(failed.stdout.splitlines()[-1])
    assert result["ok"] is False and result["state"] == "stopped"
    assert [f["state"] for f in result["files"]] == ["complete", "failed"]
    entries = await history_json(temporal, queue)
    assert [e["outcome"] for e in entries] == ["complete", "failed"]
    assert "003_users_email_lower_idx.yaml" in entries[1]["reason"] and "email_lower" in entries[1]["reason"]


async def test_a_file_whose_tables_have_a_migration_in_flight_stops_the_run(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    seed(conn, rows=10)
    directory = write_directory(tmp_path)
    (directory / "001_orders.yaml").unlink()  # the first file now migrates users alone, as `other` does
    queue = liveshift_worker.task_queue
    other = tmp_path / "other.yaml"
    other.write_text(FILES["002_users_email_lower.yaml"].replace("users_email_lower", "users_other"))
    started = await run_cli(temporal, queue, "start", str(other), "--target", "test", "--json")
    assert started.returncode == 0, started.stderr
    running = json.loads(started.stdout)["workflow_id"]

    stopped = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--wait")
    assert stopped.returncode == 1, stopped.stderr
    assert f"002_users_email_lower.yaml: failed: a migration of users is already running (workflow {running})" in (
        stopped.stdout
    )
    [entry] = await history_json(temporal, queue)
    assert (entry["file"], entry["outcome"]) == ("002_users_email_lower.yaml", "failed")
    assert (await run_cli(temporal, queue, "rollback", running)).returncode == 0
    # workflow ids are the same in every test (target `test`): let it end before the next test
    assert (await temporal.client.get_workflow_handle(running).result())["phase"] == "rolled_back"


async def test_baseline_records_existing_files_and_migrate_starts_after_them(
    conn: psycopg.Connection, temporal: TemporalServer, liveshift_worker: WorkerHandle, tmp_path: Path
) -> None:
    seed(conn, rows=50)
    conn.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id))")
    directory = write_directory(tmp_path)
    queue = liveshift_worker.task_queue
    args = ("baseline", str(directory), "--target", "test", "--upto", "001_orders.yaml", "--started-by", "ops")
    recorded = await run_cli(temporal, queue, *args)
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.strip() == "recorded as applied (baseline) on test: 001_orders.yaml"
    again = await run_cli(temporal, queue, *args, "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == {"ok": True, "recorded": []}
    [entry] = await history_json(temporal, queue)
    assert (entry["file"], entry["outcome"], entry["started_by"]) == ("001_orders.yaml", "baseline", "ops")
    assert entry["checksum"] == sha256(directory / "001_orders.yaml")

    applied = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, "--wait")
    assert applied.returncode == 0, applied.stderr
    assert [e["outcome"] for e in await history_json(temporal, queue)] == ["baseline", "complete", "complete"]

    unknown = await run_cli(temporal, queue, "history", "--target", "nosuch")
    assert unknown.returncode == 2 and "unknown target 'nosuch'" in one_line(unknown.stderr)


async def test_worker_killed_during_the_second_file_resumes_and_completes(
    dsn: str, conn: psycopg.Connection, temporal: TemporalServer, tmp_path: Path
) -> None:
    seed(conn, rows=3000)
    directory = write_directory(tmp_path)
    queue = f"liveshift-dir-crash-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    first = worker_process(temporal, queue, dsn, log)
    second = None
    try:
        slow = ("--batch-size", "50", "--max-batch", "50", "--max-rows-per-second", "300")
        started = await run_cli(temporal, queue, "migrate", str(directory), "--target", "test", *QUICK, *slow, "--json")
        assert started.returncode == 0, started.stderr
        handle = temporal.client.get_workflow_handle(
            json.loads(started.stdout)["workflow_id"], result_type=DirectoryStatus
        )
        await until_rows_done(dsn, 300)  # the second file's backfill (the first has none) is under way
        status = await handle.query(DIRECTORY_STATUS, result_type=DirectoryStatus)
        assert [f.state for f in status.files] == ["complete", "running", "pending"]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = await asyncio.to_thread(rows_done, dsn)
        assert killed_at < 3000, "the backfill finished before the kill: slow it down"
        await asyncio.sleep(2)
        assert await asyncio.to_thread(rows_done, dsn) == killed_at, "nothing runs without a worker"

        second = worker_process(temporal, queue, dsn, log)
        result = await handle.result()
        assert result.state == "complete"
        assert [f.state for f in result.files] == ["complete"] * 3
        entries = await history_json(temporal, queue)
        assert [(e["file"], e["outcome"]) for e in entries] == [(name, "complete") for name in FILES]
        assert conn.execute("SELECT count(*) FROM users WHERE email_lower = lower(email)").fetchone() == (3000,)
        assert conn.execute("SELECT to_regclass('users_email_lower_idx') IS NOT NULL").fetchone() == (True,)
        record_history("migrate_directory_worker_killed", (await handle.fetch_history()).to_json())
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
