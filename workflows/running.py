"""Running MigrationWorkflow's phases: one phase activity to completion, the holds between phases and at gates,
and publishing the state (search attributes, memo, UI details, this worker's phase gauge).

A helper the workflow and its share control call, over the one MigrationState (workflows/state.py)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from liveshift import metrics
    from liveshift.activities.payloads import PhaseInput
    from liveshift.lifecycle import Phase, can_enter
    from liveshift.values import LockDetails
    from liveshift.workflows import details, progress
    from liveshift.workflows.models import (
        MEMBER_PHASE,
        SA_MIGRATION,
        SA_PHASE,
        SA_TABLES,
        SA_TARGET,
        MemberPhase,
        PhaseTransition,
        activity_target,
    )
    from liveshift.workflows.policies import (
        HEARTBEAT_TIMEOUT,
        PHASE_TIMEOUT,
        RETRY,
        RETRY_AGAIN_AFTER,
        is_non_retryable,
        message,
    )

from liveshift.workflows.patches import MEMBER_PHASES
from liveshift.workflows.state import MigrationState


class RollbackRequested(Exception):
    """Raised where the forward path honours a rollback request (between phases, in backfill, at gates)."""


class PhaseRunner:
    def __init__(self, state: MigrationState) -> None:
        self._state = state
        self._reports: set[asyncio.Task[None]] = set()  # phase reports to the fleet still being sent

    async def activity(self, fn: Any, arg: Any, interruptible: bool = False) -> Any:
        """Run one activity to completion; transient failures are retried forever, visibly.

        `interruptible`: a forward phase, which a rollback request ends while it waits to retry.
        """
        state = self._state
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
                    state.status.terminated_blockers += result.terminated
                    self.publish_details()
                return result
            except ActivityError as err:
                if is_non_retryable(err):
                    raise
                state.status.last_error = f"{fn.__name__}: {message(err)} (retrying)"
                self.publish_details()
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: interruptible and state.rollback_reason is not None, timeout=RETRY_AGAIN_AFTER
                    )
                if interruptible and state.rollback_reason is not None:
                    raise RollbackRequested() from None

    def phase_input(self, **kwargs: Any) -> PhaseInput:
        input = self._state.input
        return PhaseInput(
            target=activity_target(input), migration=input.migration.name, lock=input.options.lock, **kwargs
        )

    # holds: between phases and at gates

    async def gate(self, gate: str, soak_seconds: float | None = None) -> None:
        """Wait for approval of `gate` (or the soak timer, durable across worker restarts)."""
        state = self._state
        state.status.waiting_for = gate  # type: ignore[assignment]
        if soak_seconds is not None:
            state.status.contract_at = workflow.now() + timedelta(seconds=soak_seconds)
        self.publish()
        ready = lambda: gate in state.approved or state.rollback_reason is not None  # noqa: E731
        if soak_seconds is None:
            await workflow.wait_condition(ready)
        elif soak_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(ready, timeout=soak_seconds, timeout_summary=f"{gate} soak")
        state.status.waiting_for = None

    async def between_phases(self) -> None:
        """Hold while paused; a rollback request (also while paused) ends the forward path here."""
        state = self._state
        await workflow.wait_condition(lambda: not state.status.paused or state.rollback_reason is not None)
        if state.rollback_reason is not None:
            raise RollbackRequested()

    # status, search attributes, memo, UI details, phase gauge

    def enter(self, phase: Phase) -> None:
        status = self._state.status
        if not can_enter(status.phase, phase):
            raise RuntimeError(f"no transition from phase {status.phase} to {phase}")  # a bug: retry the task
        status.phase = phase
        status.transitions.append(PhaseTransition(phase=phase, at=workflow.now()))
        self.publish()
        self._report_to_fleet(phase)

    def _report_to_fleet(self, phase: Phase) -> None:
        """A fleet member's migration tells its fleet (the parent) each phase it enters: the fleet's status shows
        it, and a one-flip fleet approves its members' gates once all of them wait there. Only fleet members (a
        field no workflow before fleets set) ask the patch."""
        parent = workflow.info().parent
        member = self._state.input.member
        if member is None or parent is None or not workflow.patched(MEMBER_PHASES):
            return
        task = asyncio.create_task(self._send_report(parent.workflow_id, MemberPhase(member=member, phase=phase)))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _send_report(self, fleet_id: str, report: MemberPhase) -> None:
        # no run id: the fleet's current run, after a continue-as-new too; a fleet that has ended ignores it
        with contextlib.suppress(FailureError):
            await workflow.get_external_workflow_handle(fleet_id).signal(MEMBER_PHASE, report)

    def publish(self) -> None:
        """Phase, tables and target where the Temporal UI shows them (one event per phase change)."""
        s = self._state.status
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
        self.publish_details()

    def publish_details(self) -> None:
        """The workflow's current details (no history event)."""
        workflow.set_current_details(details.render(self._state.status))

    def refresh_progress(self) -> None:
        state = self._state
        state.status.progress, state.status.throttled = progress.aggregate(state.totals, state.partitions)
        state.status.partitions = sorted(state.partitions.values(), key=lambda r: (r.table, r.partition))
        self.publish_details()
