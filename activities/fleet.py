"""The fleet rollout's activity: its members, resolved on the worker (it alone holds the targets' DSNs and the
configured fleets, and runs a member query)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor

from temporalio import activity

from liveshift.activities.failures import as_final
from liveshift.activities.payloads import ResolveInput
from liveshift.errors import SpecError
from liveshift.fleet.members import Member, resolve_targets
from liveshift.worker.config import Settings


class FleetActivities:
    def __init__(self, settings: Settings, executor: Executor) -> None:
        self._settings = settings
        self._executor = executor

    def _resolve(self, request: ResolveInput) -> list[Member]:
        settings = self._settings
        if request.selector is not None:
            selector = request.selector
        elif request.fleet is not None:
            selector = settings.fleet(request.fleet)
        else:
            raise SpecError("name a fleet or give a selector", field="fleet")
        return resolve_targets(settings.dsn_for, sorted(settings.targets), selector)

    @activity.defn
    async def resolve_members(self, request: ResolveInput) -> list[Member]:
        try:  # a refusal (unknown fleet or target, a query that is not a read) fails for good; a lost server retries
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._resolve, request)
        except Exception as exc:
            final = as_final(exc)
            if final is exc:
                raise
            raise final from exc

    def all(self) -> list[Callable[..., object]]:
        return [self.resolve_members]
