"""The fleet's activities: a rollout's members resolved, and the drift report across them
(liveshift.fleet.drift). Both run on the worker, which alone holds the targets' connection strings and the
configured fleets, and runs a member query. A SpecError (unknown fleet or target, a member query that is not a
read or returns no names) fails for good; a lost server retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

import psycopg
from temporalio import activity

from liveshift.activities.failures import as_final
from liveshift.activities.payloads import FleetDriftInput, ResolveInput
from liveshift.connections import open_session
from liveshift.errors import SpecError
from liveshift.fleet.drift import DriftReport, drift_report
from liveshift.fleet.members import Member, member_dsn, resolve_targets
from liveshift.worker.config import Settings

Request = TypeVar("Request")
Answer = TypeVar("Answer")


class FleetActivities:
    def __init__(self, settings: Settings, executor: Executor) -> None:
        self._settings = settings
        self._executor = executor

    def _members(self, request: ResolveInput | FleetDriftInput) -> list[Member]:
        settings = self._settings
        if request.selector is not None:
            selector = request.selector
        elif request.fleet is not None:
            selector = settings.fleet(request.fleet)
        else:
            raise SpecError("name a fleet or give a selector", field="fleet")
        return resolve_targets(settings.dsn_for, sorted(settings.targets), selector)

    def _report(self, request: FleetDriftInput) -> DriftReport:
        def connect(member: Member) -> psycopg.Connection:
            return open_session(member_dsn(self._settings.dsn_for(member.target), member))

        return drift_report(self._members(request), connect, request.schema_name)

    async def _run(self, call: Callable[[Request], Answer], request: Request) -> Answer:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call, request)
        except Exception as exc:
            final = as_final(exc)
            if final is exc:
                raise
            raise final from exc

    @activity.defn
    async def resolve_members(self, request: ResolveInput) -> list[Member]:
        return await self._run(self._members, request)

    @activity.defn
    async def fleet_drift(self, request: FleetDriftInput) -> DriftReport:
        return await self._run(self._report, request)

    def all(self) -> list[Callable[..., object]]:
        return [self.resolve_members, self.fleet_drift]
