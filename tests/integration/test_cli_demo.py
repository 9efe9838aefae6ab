"""`liveshift demo` end to end on the embedded stack: the migration completes under blue and green traffic with
no application error and no lost write, and the summary says so."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from liveshift.cli.commands.demo import Outcome
from liveshift.cli.loadgen import Report, summarize
from liveshift.cli.render import console
from liveshift.cli.stack.postgres import free_port
from liveshift.workflows.models import MigrationStatus, PhaseTransition

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


def test_demo_completes_with_no_errors_and_no_lost_writes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
    with tempfile.TemporaryDirectory(prefix="liveshift-test-demo-") as data_dir:
        ports = ["--port", str(free_port()), "--ui-port", str(free_port())]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "liveshift.cli.main",
                "demo",
                "--rows",
                "20000",
                "--json",
                "--data-dir",
                data_dir,
                "--step-every",
                "2",
                *ports,
            ],
            capture_output=True,
            text=True,
            timeout=400,
            env=env,
        )
        config = tomllib.loads((Path(data_dir) / "liveshift.toml").read_text())
    # a queue of its own: no worker of another stack on the same address can take the demo's activities
    assert config["temporal"]["task_queue"].startswith("liveshift-demo-")
    assert result.stdout.strip(), result.stderr[-3000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    assert result.returncode == 0, (summary, result.stderr[-3000:])
    assert summary["ok"] and summary["phase"] == "complete" and summary["reason"] is None
    assert summary["errors"] == 0 and summary["lost_writes"] == 0
    assert summary["rows"] >= 20000 and summary["rows_per_second"] > 0
    assert summary["requests"] > 0 and summary["writes_checked"] > 0
    phases = [p["phase"] for p in summary["phases"]]
    assert phases.index("expand") < phases.index("backfill") < phases.index("verify") < phases.index("contract")
    assert summary["ui"].startswith("http://127.0.0.1:") and "/workflows/liveshift%2Fdemo%2F" in summary["ui"]
    # cut over at 0%, then the health-gated steps; the flag-following application was served by both versions
    assert [(s["percent"], s["by"]) for s in summary["shifts"]] == [
        (0, "cutover"), (10, "schedule"), (50, "schedule"), (100, "schedule"),
    ]  # fmt: skip
    shifting = summary["shifting_requests_by_version"]
    assert shifting["blue"] > 0 and shifting["green"] > shifting["blue"]  # 10%, 50%, then 100% of users on green
    assert sum(summary["requests_by_version"].values()) == summary["requests"]
    assert "accounts_v2 started" in result.stderr  # live progress went to stderr with --json


def test_a_failed_demo_says_why_in_text_and_json() -> None:
    now = datetime.now(UTC)
    status = MigrationStatus(
        workflow_id="liveshift/demo/public.accounts/0",
        migration="accounts_v2",
        target="demo",
        schema_name="public",
        tables=["accounts"],
        phase="failed",
        transitions=[PhaseTransition(phase="starting", at=now), PhaseTransition(phase="failed", at=now)],
        last_error="field 'target': unknown target 'demo': this worker knows app",
    )
    traffic = summarize("all", [])
    outcome = Outcome(status, Report({}, traffic, 0.0), 0, 0, "http://ui", 0.1, {"blue": 0, "green": 0})
    assert not outcome.ok
    summary = outcome.as_json()
    assert summary["ok"] is False and "unknown target 'demo'" in summary["reason"]
    text = io.StringIO()
    console(text).print(outcome.view())
    assert "result: FAILED: the migration ended failed: field 'target': unknown target 'demo'" in text.getvalue()
