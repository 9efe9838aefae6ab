"""The rehearsal as an activity: `start --rehearse` runs it on the worker before prepare, since only the worker
resolves a target to its connection string (the CLI talks to Temporal only), and the scratch target configured
for it ([scratch] in the worker's configuration) is the worker's too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor

from temporalio import activity

from liveshift.activities.failures import as_final
from liveshift.activities.payloads import RehearseInput
from liveshift.rehearsal.report import RehearsalReport
from liveshift.rehearsal.run import rehearse

HEARTBEAT_EVERY_S = 2.0


class RehearsalActivities:
    def __init__(
        self, resolve_dsn: Callable[[str], str], resolve_scratch: Callable[[str], str | None], executor: Executor
    ) -> None:
        self._resolve = resolve_dsn
        self._scratch = resolve_scratch
        self._executor = executor

    def _call(self, request: RehearseInput) -> RehearsalReport:
        try:
            return rehearse(
                self._resolve(request.target),
                request.migration,
                file=request.file,
                scratch_dsn=self._scratch(request.target),
            )
        except Exception as exc:  # a refusal (no scratch database) or a deterministic error ends at once
            final = as_final(exc)
            if final is exc:
                raise
            raise final from exc

    @activity.defn
    async def rehearse(self, request: RehearseInput) -> RehearsalReport:
        """The whole migration on a scratch clone of the target; the report says what happened in each phase.
        The scratch database is dropped when the call ends; a cancelled activity waits for that (a thread cannot
        be interrupted), heartbeating meanwhile."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._call, request)
        try:
            while not (await asyncio.wait({future}, timeout=HEARTBEAT_EVERY_S))[0]:
                activity.heartbeat()
        except asyncio.CancelledError:
            await asyncio.wait({future})  # the scratch database is dropped as the call ends
            raise
        return future.result()

    def all(self) -> list[Callable[..., object]]:
        return [self.rehearse]
