"""Everything MigrationWorkflow holds, declared and initialised here: one instance per run, shared by the workflow,
its phase runner (workflows/running.py) and its share control (workflows/shifting.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.payloads import ProgressReport
    from liveshift.lifecycle import Phase
    from liveshift.workflows.models import MigrationInput, MigrationStatus, PhaseTransition, TablePlan, activity_target


@dataclass
class MigrationState:
    input: MigrationInput
    status: MigrationStatus  # the status query's answer and the workflow's result
    prepared: bool = False  # the migration record exists: rollback and the pause flag apply to the database
    rollback_reason: str | None = None  # a rollback was requested (by an operator, or a cancellation): why
    cancelled: bool = False  # the workflow was cancelled through Temporal and rolls back for it
    approved: set[str] = field(default_factory=set)  # gates approved
    partitions: dict[tuple[str, int], ProgressReport] = field(default_factory=dict)  # each partition's latest report
    totals: dict[str, TablePlan] = field(default_factory=dict)  # each backfilled table's partitions and rows
    flag_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # pause and resume apply the database flag in order
    shift_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # shifts apply in the order they were asked for
    taken_over: bool = False  # an operator shifted: the scheduled steps stop
    walking: bool = False  # the scheduled steps are under way
    # a history from before the FULL_SHARE_BEFORE_CONTRACT patch (workflows/patches.py): contract at the canary share
    legacy_contract: bool = False


def initial_state(input: MigrationInput) -> MigrationState:
    """The state a run starts with (in the workflow's init: the status query answers from the first task)."""
    status = MigrationStatus(
        workflow_id=workflow.info().workflow_id,
        migration=input.migration.name,
        target=activity_target(input),  # a fleet member's database: target@database
        schema_name=input.migration.schema_name,
        tables=input.migration.tables(),
        phase=Phase.STARTING,
        transitions=[PhaseTransition(phase=Phase.STARTING, at=workflow.now())],
    )
    return MigrationState(input=input, status=status)
