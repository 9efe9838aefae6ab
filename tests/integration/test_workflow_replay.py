"""Recorded histories replay deterministically against the current workflow code.

Record new ones as the workflow evolves (LIVESHIFT_RECORD_HISTORIES=1 python -m pytest
tests/integration/test_workflow_*.py), keep the old ones, and guard changes with workflow.patched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from liveshift.workflows.directory import MigrateDirectoryWorkflow
from liveshift.workflows.fleet import FleetWorkflow
from liveshift.workflows.fleet_drift import FleetDriftWorkflow
from liveshift.workflows.migration import MigrationWorkflow
from liveshift.workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def test_histories_were_recorded() -> None:
    assert len(HISTORIES) >= 3, "tests/histories/ should hold the representative runs"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[MigrationWorkflow, MigrateDirectoryWorkflow, FleetWorkflow, FleetDriftWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure!r}"


def test_histories_cover_progressive_shifting() -> None:
    """Recorded by test_workflow_shift.py: operator shifts, health-gated steps (healthy, unhealthy: wait, roll back)."""
    shifting = {p.stem for p in HISTORIES if '"shift"' in p.read_text()}
    checking = {p.stem for p in HISTORIES if '"check_health"' in p.read_text()}
    assert {"add_column_operator_shifts", "add_column_canary_steps_healthy"} <= shifting
    gated = {"add_column_canary_steps_healthy", "add_column_canary_unhealthy_wait", "add_column_canary_sql_rollback"}
    assert gated <= checking


def test_histories_from_before_the_full_share_rule() -> None:
    """Recorded with the workflow before progressive shifting (commit 06249a7, the fake activities of
    test_workflow_logic.py): a canary share of 10% contracted after its soak, and on an approval signal. They replay
    only through the `full-share-before-contract` patch (workflows/patches.py)."""
    legacy = {"add_column_canary_soak_before_full_share", "add_column_canary_approved_before_full_share"}
    assert legacy <= {p.stem for p in HISTORIES}
    for path in HISTORIES:
        if path.stem in legacy:
            assert '"shift"' not in path.read_text() and "full-share-before-contract" not in path.read_text()
