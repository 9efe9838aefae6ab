"""What every part of MigrationWorkflow shares: its state, how it publishes that state (search attributes,
memo, UI details, this worker's phase gauge), and how it runs one phase activity to completion."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from liveshift import metrics
    from liveshift.activities.payloads import PhaseInput, ProgressReport
    from liveshift.lifecycle import Phase, can_enter
    from liveshift.values import LockDetails
    from liveshift.workflows import details, progress
    from liveshift.workflows.models import (
        SA_MIGRATION,
        SA_PHASE,
        SA_TABLES,
        SA_TARGET,
        MigrationInput,
        MigrationStatus,
        PhaseTransition,
        TablePlan,
    )
    from liveshift.workflows.policies import (
        HEARTBEAT_TIMEOUT,
        PHASE_TIMEOUT,
        RETRY,
        RETRY_AGAIN_AFTER,
        is_non_retryable,
        message,
    )


class RollbackRequested(Exception):
    """Raised where the forward path honours a rollback request (between phases, in backfill, at gates)."""


class MigrationWorkflowBase:
    """The state MigrationWorkflow sets up in its init, and the plumbing its phases and handlers share."""

    _input: MigrationInput
    _status: MigrationStatus  # the status query's answer and the workflow's result
    _prepared: bool  # the migration record exists: rollback and the pause flag apply to the database
    _rollback_reason: str | None  # a rollback was requested (by an operator, or a cancellation): why
    _cancelled: bool  # the workflow was cancelled through Temporal and rolls back for it
    _approved: set[str]  # gates approved
    _partitions: dict[tuple[str, int], ProgressReport]  # each backfill partition's latest report
    _totals: dict[str, TablePlan]  # each backfilled table's partitions and estimated rows
    _flag_lock: asyncio.Lock  # pause and resume apply the database flag in order

    async def _activity(self, fn: Any, arg: Any, interruptible: bool = False) -> Any:
        """Run one activity to completion; transient failures are retried forever, visibly.

        `interruptible`: a forward phase, which a rollback request ends while it waits to retry.
        """
        while True:
            try:
                result = await workflow.execute_activity_method(
                    fn,
                    arg,
                    start_to_close_timeout=PHASE_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RETRY,
                )
                if isinstance(result, LockDetails) and result.terminated:  # a lock-taking phase ended blockers
                    self._status.terminated_blockers += result.terminated
                    self._publish_details()
                return result
            except ActivityError as err:
                if is_non_retryable(err):
                    raise
                self._status.last_error = f"{fn.__name__}: {message(err)} (retrying)"
                self._publish_details()
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: interruptible and self._rollback_reason is not None, timeout=RETRY_AGAIN_AFTER
                    )
                if interruptible and self._rollback_reason is not None:
                    raise RollbackRequested() from None

    def _phase_input(self, **kwargs: Any) -> PhaseInput:
        return PhaseInput(
            target=self._input.target, migration=self._input.migration.name, lock=self._input.options.lock, **kwargs
        )

    # status, search attributes, memo, UI details, phase gauge

    def _enter(self, phase: Phase) -> None:
        if not can_enter(self._status.phase, phase):
            raise RuntimeError(f"no transition from phase {self._status.phase} to {phase}")  # a bug: retry the task
        self._status.phase = phase
        self._status.transitions.append(PhaseTransition(phase=phase, at=workflow.now()))
        self._publish()

    def _publish(self) -> None:
        """Phase, tables and target where the Temporal UI shows them (one event per phase change)."""
        s = self._status
        workflow.upsert_search_attributes(
            TypedSearchAttributes(
                [
                    SearchAttributePair(SA_PHASE, s.phase.value),
                    SearchAttributePair(SA_TABLES, s.tables),
                    SearchAttributePair(SA_TARGET, s.target),
                    SearchAttributePair(SA_MIGRATION, s.migration),
                ]
            )
        )
        memo = {"migration": s.migration, "target": s.target, "tables": s.tables, "phase": s.phase.value}
        workflow.upsert_memo(memo | {"rollback_reason": s.rollback_reason})
        if not workflow.unsafe.is_replaying():  # this worker's view, once: a replay has reported it before
            metrics.set_phase(s.migration, s.phase)
        self._publish_details()

    def _publish_details(self) -> None:
        """The workflow's current details (no history event)."""
        workflow.set_current_details(details.render(self._status))

    def _refresh_progress(self) -> None:
        self._status.progress, self._status.throttled = progress.aggregate(self._totals, self._partitions)
        self._status.partitions = sorted(self._partitions.values(), key=lambda r: (r.table, r.partition))
        self._publish_details()
