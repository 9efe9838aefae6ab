"""The drift report across a fleet's members (liveshift.fleet.drift), as one activity on the worker's pool.

The worker alone holds the targets' connection strings and the configured fleets: the CLI names a fleet (or
gives a selector) and reads the report. A SpecError (unknown fleet or target, a member query that is not a read
or returns no names) is not retryable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor

import psycopg
from temporalio import activity

from liveshift.activities.failures import as_final
from liveshift.activities.payloads import FleetDriftInput
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.fleet.drift import DriftReport, drift_report
from liveshift.fleet.members import Member, member_dsn, resolve_targets
from liveshift.worker.config import Settings


class FleetDriftActivities:
    def __init__(self, settings: Settings, executor: Executor) -> None:
        self._settings = settings
        self._executor = executor

    def _report(self, request: FleetDriftInput) -> DriftReport:
        settings = self._settings
        if request.selector is not None:
            selector = request.selector
        elif request.fleet is not None:
            selector = settings.fleet(request.fleet)
        else:
            raise SpecError("name a fleet or give a selector", field="fleet")
        members = resolve_targets(settings.dsn_for, sorted(settings.targets), selector)

        def connect(member: Member) -> psycopg.Connection:
            return open_session(member_dsn(settings.dsn_for(member.target), member))

        return drift_report(members, connect, request.schema_name)

    @activity.defn
    async def fleet_drift(self, request: FleetDriftInput) -> DriftReport:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._report, request)
        except Exception as exc:
            final = as_final(exc)
            if final is exc:
                raise
            raise final from exc

    def all(self) -> list[Callable[..., object]]:
        return [self.fleet_drift]
