"""The CLI as an operator drives it, in subprocesses, against `liveshift dev` (embedded PostgreSQL, Temporal dev
server with its UI, a worker): start/status/pause/resume/approve/shift/rollback/list, exit codes, one-line refusals,
and the Temporal UI in headless Chromium showing the running migration and its phase."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from liveshift.cli.stack.postgres import free_port
from tests.harness.cli import COMMAND_TIMEOUT, DevStack, cli_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    data_dir = Path(tempfile.mkdtemp(prefix="liveshift-test-dev-"))
    dev = DevStack(data_dir, free_port(), free_port()).start()
    try:
        yield dev
    finally:
        dev.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {stderr!r}"
    return lines[0]


def test_dev_json_reports_a_stack_that_answers(stack: DevStack) -> None:
    info = stack.info
    assert info["temporal_address"] == f"127.0.0.1:{stack.port}"
    assert info["ui_url"] == f"http://127.0.0.1:{stack.ui_port}"
    assert Path(info["data_dir"]) == stack.data_dir.resolve()
    with psycopg.connect(info["postgres_dsn"]) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with urllib.request.urlopen(info["ui_url"], timeout=10) as response:
        assert response.status == 200
    listed = stack.cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)


def test_start_refuses_a_bad_file_before_talking_to_temporal(stack: DevStack, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", "name: bad_one\noperations:\n  - op: add_column\n    table: users\n")
    result = subprocess.run(
        [sys.executable, "-m", "liveshift.cli.main", "start", bad, "--target", "app", "--address", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        env=cli_env(Path(stack.info["config"])),
    )
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "operations[0] (add_column)" in line and "column" in line


def test_gates_refusals_approvals_and_rollback(stack: DevStack, tmp_path: Path) -> None:
    stack.sql(
        "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);"
        "INSERT INTO users (email) SELECT 'User' || g || '@Example.com' FROM generate_series(1, 500) g"
    )
    file = write(
        tmp_path,
        "m.yaml",
        "name: users_email_lower\noperations:\n  - op: add_column\n    table: users\n"
        "    column: {name: email_lower, type: text, nullable: false, unique: true}\n    up: lower(email)\n",
    )
    started = stack.cli("start", file, "--target", "app", "--wait")
    assert started.returncode == 0, started.stderr
    assert "waiting for approval of cutover" in started.stdout
    status = stack.cli_json("status", "--migration", "users_email_lower")
    wid = status["workflow_id"]
    assert status["phase"] == "awaiting_cutover" and status["waiting_for"] == "cutover"
    assert status["progress"][0]["rows_done"] == 500

    again = stack.cli("start", file, "--target", "app")
    assert again.returncode == 2
    assert wid in one_line(again.stderr) and "users_email_lower" in again.stderr

    early = stack.cli("approve", "contract", wid)
    assert early.returncode == 2
    assert one_line(early.stderr).startswith("liveshift approve: refused: the contract gate is not waiting")

    listed = {row["workflow_id"]: row for row in stack.cli_json("list")}
    assert listed[wid]["phase"] == "awaiting_cutover" and listed[wid]["migration"] == "users_email_lower"

    before_cutover = stack.cli("shift", "10", wid)
    assert before_cutover.returncode == 2
    assert one_line(before_cutover.stderr) == (
        "liveshift shift: refused: cannot shift: the migration has not cut over yet (phase awaiting_cutover)"
    )
    approved = stack.cli("approve", "cutover", "--migration", "users_email_lower")
    assert approved.returncode == 0, approved.stderr
    stack.wait_for(wid, lambda s: s["waiting_for"] == "contract")

    shifted = stack.cli_json("shift", "25", wid)
    assert shifted["answer"] == "green has 25% of clients (was 100%)" and shifted["green_percent"] == 25
    assert [c["percent"] for c in shifted["shifts"]] == [100, 25]
    below = stack.cli("approve", "contract", wid)
    assert below.returncode == 2
    assert one_line(below.stderr) == (
        "liveshift approve: refused: contract needs 100% of clients on green; green has 25% (liveshift shift 100)"
    )
    assert "green 25%" in stack.cli("status", wid).stdout
    out_of_range = stack.cli("shift", "101", wid)
    assert out_of_range.returncode == 2 and "PERCENT 101: the share is 0..100" in out_of_range.stderr

    rolled = stack.cli("rollback", wid, "--reason", "test says no")
    assert rolled.returncode == 0, rolled.stderr
    final = stack.wait_for(wid, lambda s: s["execution"] != "RUNNING")
    assert final["phase"] == "rolled_back" and "test says no" in (final["rollback_reason"] or "")
    assert stack.cli("status", wid).returncode == 1  # a rolled-back migration

    late = stack.cli("rollback", wid)
    assert late.returncode == 2
    assert one_line(late.stderr).startswith("liveshift rollback: refused:")
    after = stack.cli("shift", "0", wid)
    assert after.returncode == 2 and one_line(after.stderr).startswith("liveshift shift: refused:")
    unknown = stack.cli("status", "--migration", "no_such_migration")
    assert unknown.returncode == 2 and "no migration named 'no_such_migration'" in one_line(unknown.stderr)


def test_pause_resume_during_backfill_then_complete(stack: DevStack, tmp_path: Path) -> None:
    stack.sql(
        "CREATE TABLE items (id bigserial PRIMARY KEY, price integer NOT NULL);"
        "INSERT INTO items (price) SELECT g FROM generate_series(1, 6000) g"
    )
    file = write(
        tmp_path,
        "items.yaml",
        "name: items_price_cents\noperations:\n  - op: add_column\n    table: items\n"
        "    column: {name: price_cents, type: bigint, nullable: false}\n    up: price * 100\n",
    )
    started = stack.cli_json(
        "start",
        file,
        "--target",
        "app",
        "--max-rows-per-second",
        "300",
        "--batch-size",
        "50",
        "--max-batch",
        "100",
        "--soak",
        "0",
        "--drain",
        "0",
    )
    wid = started["workflow_id"]
    stack.wait_for(wid, lambda s: s["phase"] == "backfill" and sum(p["rows_done"] for p in s["progress"]) > 0)

    paused = stack.cli("pause", wid)
    assert paused.returncode == 0, paused.stderr
    assert "PAUSED" in paused.stdout
    again = stack.cli("pause", wid)
    assert again.returncode == 2 and one_line(again.stderr).startswith("liveshift pause: refused:")
    time.sleep(6)  # pause takes effect at a batch boundary; the partition's heartbeat report follows within seconds
    before = sum(p["rows_done"] for p in stack.cli_json("status", wid)["progress"])
    time.sleep(4)
    status = stack.cli_json("status", wid)
    assert status["paused"] and sum(p["rows_done"] for p in status["progress"]) == before < 6000

    resumed = stack.cli("resume", wid)
    assert resumed.returncode == 0, resumed.stderr
    not_paused = stack.cli("resume", wid)
    assert not_paused.returncode == 2 and one_line(not_paused.stderr).startswith("liveshift resume: refused:")

    stack.wait_for(wid, lambda s: s["waiting_for"] == "cutover", timeout=120)
    assert stack.cli("approve", "cutover", wid).returncode == 0
    done = stack.wait_for(wid, lambda s: s["execution"] != "RUNNING")  # soak 0: contract follows cutover
    assert done["phase"] == "complete"
    assert stack.cli("status", wid).returncode == 0
    with psycopg.connect(stack.info["postgres_dsn"]) as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE price_cents = price * 100").fetchone() == (6000,)


def chromium_dom(url: str) -> str:
    binary = shutil.which("chromium")
    assert binary, "chromium is not installed: run .ci/system-deps"
    with tempfile.TemporaryDirectory(prefix="liveshift-chromium-") as profile:
        result = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_temporal_ui_shows_the_running_migration_and_its_phase(stack: DevStack, tmp_path: Path) -> None:
    stack.sql(
        "CREATE TABLE orders (id bigserial PRIMARY KEY, total_cents integer NOT NULL);"
        "INSERT INTO orders (total_cents) SELECT g FROM generate_series(1, 300) g"
    )
    file = write(
        tmp_path,
        "orders.yaml",
        "name: orders_total_eur\noperations:\n  - op: add_column\n    table: orders\n"
        "    column: {name: total_eur, type: 'numeric(12,2)'}\n    up: total_cents / 100.0\n",
    )
    started = stack.cli("start", file, "--target", "app", "--wait")
    assert started.returncode == 0, started.stderr
    wid = stack.cli_json("status", "--migration", "orders_total_eur")["workflow_id"]
    ui = stack.info["ui_url"]

    def workflows_page(phase: str) -> str:
        query = urllib.parse.quote(f'LiveshiftPhase="{phase}"')
        return chromium_dom(f"{ui}/namespaces/default/workflows?query={query}")

    # the operator's view: the workflow list filtered by the phase search attribute the workflow keeps current
    # (a running workflow's own page long-polls its history, which never lets headless virtual time run out)
    at_gate = workflows_page("awaiting_cutover")
    assert wid in at_gate, "the UI does not list the running migration under its phase"
    assert "Running" in at_gate
    assert wid not in workflows_page("backfill")
    assert stack.cli("rollback", wid).returncode == 0
