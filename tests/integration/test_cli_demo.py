"""`liveshift demo` end to end on the embedded stack: the migration completes under blue and green traffic with
no application error and no lost write, and the summary says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cli.stack.postgres import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


def test_demo_completes_with_no_errors_and_no_lost_writes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
    with tempfile.TemporaryDirectory(prefix="liveshift-test-demo-") as data_dir:
        ports = ["--port", str(free_port()), "--ui-port", str(free_port())]
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "demo", "--rows", "20000", "--json", "--data-dir", data_dir, *ports],
            capture_output=True,
            text=True,
            timeout=400,
            env=env,
        )
        assert (Path(data_dir) / "liveshift.toml").exists()
    assert result.stdout.strip(), result.stderr[-3000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    assert result.returncode == 0, (summary, result.stderr[-3000:])
    assert summary["ok"] and summary["phase"] == "complete"
    assert summary["errors"] == 0 and summary["lost_writes"] == 0
    assert summary["rows"] >= 20000 and summary["rows_per_second"] > 0
    assert summary["requests"] > 0 and summary["writes_checked"] > 0
    phases = [p["phase"] for p in summary["phases"]]
    assert phases.index("expand") < phases.index("backfill") < phases.index("verify") < phases.index("contract")
    assert summary["ui"].startswith("http://127.0.0.1:") and "/workflows/liveshift%2Fdemo%2F" in summary["ui"]
    assert "accounts_v2 started" in result.stderr  # live progress went to stderr with --json
