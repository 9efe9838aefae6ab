"""FleetDriftWorkflow: one activity, the drift report across a fleet's members, for `liveshift fleet drift`.

The CLI talks to Temporal only and the worker alone reaches the databases, so the report is read by an activity
and returned as the workflow's result (as HistoryWorkflow does for `liveshift history`). A refusal (unknown fleet
or target, a member query that is not a read) fails the workflow with the core's message, which the CLI prints.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from liveshift.activities.fleet import FleetActivities
    from liveshift.activities.payloads import FleetDriftInput
    from liveshift.fleet.drift import DriftReport

FLEET_DRIFT_WORKFLOW = "liveshift-fleet-drift"
# someone waits at a terminal: a few tries, then the failure is theirs to read
RETRY = RetryPolicy(maximum_attempts=3, non_retryable_error_types=["SpecError"])
# one catalog read per member, one after the other: a fleet of a thousand databases takes minutes
TIMEOUT = timedelta(minutes=15)


@workflow.defn(name=FLEET_DRIFT_WORKFLOW)
class FleetDriftWorkflow:
    @workflow.run
    async def run(self, request: FleetDriftInput) -> DriftReport:
        return await workflow.execute_activity_method(
            FleetActivities.fleet_drift, request, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )
