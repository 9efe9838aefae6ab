"""`liveshift dev` keeps its state in the data directory: after a restart the workflows, the databases and the
ports are the ones from before; `--no-worker` leaves the worker to `liveshift worker`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from liveshift.cli.stack.postgres import free_port
from tests.harness.cli import DevStack, cli_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_state_survives_a_restart_and_a_separate_worker_serves_it(tmp_path: Path) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="liveshift-test-dev-restart-"))
    try:
        first = DevStack(data_dir, free_port(), free_port()).start()
        try:
            first.sql(
                "CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL);"
                "INSERT INTO notes (body) SELECT 'Note ' || g FROM generate_series(1, 200) g"
            )
            file = tmp_path / "notes.yaml"
            file.write_text(
                "name: notes_body_lower\noperations:\n  - op: add_column\n    table: notes\n"
                "    column: {name: body_lower, type: text}\n    up: lower(body)\n"
            )
            started = first.cli("start", str(file), "--target", "app", "--wait")
            assert started.returncode == 0, started.stderr
            wid = first.cli_json("status")["workflow_id"]
        finally:
            assert first.stop() == 0

        # again, without a worker in the stack: the workflow waits at its gate in the persisted Temporal state
        second = DevStack(data_dir, first.port, first.ui_port)
        second.start(extra_args=("--no-worker",))
        worker = None
        try:
            assert second.info["postgres_dsn"] == first.info["postgres_dsn"]
            listed = {row["workflow_id"]: row for row in second.cli_json("list")}
            assert listed[wid]["phase"] == "awaiting_cutover" and listed[wid]["execution"] == "RUNNING"
            with psycopg.connect(second.info["postgres_dsn"]) as conn:
                assert conn.execute("SELECT count(*) FROM notes").fetchone() == (200,)

            worker = subprocess.Popen(
                [sys.executable, "-m", "liveshift.cli.main", "worker", "--metrics-port", "0"],
                env=cli_env(Path(second.info["config"])),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            assert second.cli("approve", "cutover", wid).returncode == 0
            deadline = time.monotonic() + 90
            while second.cli_json("status", wid)["waiting_for"] != "contract":
                assert time.monotonic() < deadline
                time.sleep(0.5)
            assert second.cli("approve", "contract", wid).returncode == 0
            final = second.wait_for(wid, lambda s: s["execution"] != "RUNNING")
            assert final["phase"] == "complete"
            with psycopg.connect(second.info["postgres_dsn"]) as conn:
                assert conn.execute("SELECT count(*) FROM notes WHERE body_lower = lower(body)").fetchone() == (200,)
        finally:
            if worker is not None:
                worker.terminate()
                assert worker.wait(60) == 0
            assert second.stop() == 0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
