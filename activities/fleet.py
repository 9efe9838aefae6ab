"""The fleet's activity: resolving a member selector on the worker (only it holds the DSNs and runs the query)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor

import psycopg
from temporalio import activity

from liveshift.activities.failures import as_final
from liveshift.activities.payloads import ResolveInput
from liveshift.connections import open_session
from liveshift.fleet.members import Member, resolve


class FleetActivities:
    def __init__(self, targets: Callable[[], list[str]], resolve_dsn: Callable[[str], str], executor: Executor) -> None:
        self._targets = targets
        self._resolve_dsn = resolve_dsn
        self._executor = executor

    def _conn_for(self, target: str) -> psycopg.Connection:
        return open_session(self._resolve_dsn(target))

    def _resolve(self, request: ResolveInput) -> list[Member]:
        try:
            return resolve(self._conn_for, self._targets(), request.selector)
        except Exception as exc:  # a wrong query fails for good (SpecError, a SQL error), a lost server retries
            final = as_final(exc)
            if final is exc:
                raise
            raise final from exc

    @activity.defn
    async def resolve_members(self, request: ResolveInput) -> list[Member]:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._resolve, request)

    def all(self) -> list[Callable[..., object]]:
        return [self.resolve_members]
