"""Thin activities over liveshift.history: resolve the target, run one call on the worker's thread pool.

A SpecError (an edited applied file, a gap in the order, an unknown baseline file) is not retryable: the
workflows list it among their non-retryable error types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

import psycopg
from temporalio import activity

from liveshift.activities.failures import call_core
from liveshift.activities.payloads import (
    BaselineInput,
    CloseStaleInput,
    EntriesInput,
    InitInput,
    InitResult,
    PendingInput,
    RecordEndInput,
    RecordStartInput,
)
from liveshift.store import history
from liveshift.store.history import HistoryEntry, MigrationFileRef
from liveshift.versions.base import init_schema

T = TypeVar("T")


class HistoryActivities:
    def __init__(self, resolve_dsn: Callable[[str], str], executor: Executor) -> None:
        self._resolve = resolve_dsn
        self._executor = executor

    async def _on(self, target: str, call: Callable[[psycopg.Connection], T]) -> T:
        """`call` with a connection to `target`, on the pool (these calls are short: no heartbeat needed)."""
        dsn = self._resolve(target)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call_core, dsn, call)

    @activity.defn
    async def history_pending(self, request: PendingInput) -> list[MigrationFileRef]:
        return await self._on(request.target, lambda conn: history.pending(request.files, history.entries(conn)))

    @activity.defn
    async def history_record_start(self, request: RecordStartInput) -> int:
        return await self._on(
            request.target,
            lambda conn: history.record_start(conn, request.ref, request.started_by, request.workflow_id),
        )

    @activity.defn
    async def history_record_end(self, request: RecordEndInput) -> None:
        await self._on(
            request.target, lambda conn: history.record_end(conn, request.entry_id, request.outcome, request.reason)
        )

    @activity.defn
    async def history_close_stale(self, request: CloseStaleInput) -> list[str]:
        return await self._on(request.target, lambda conn: history.close_stale(conn, request.reason))

    @activity.defn
    async def history_entries(self, request: EntriesInput) -> list[HistoryEntry]:
        return await self._on(request.target, history.entries)

    @activity.defn
    async def history_baseline(self, request: BaselineInput) -> list[str]:
        return await self._on(
            request.target, lambda conn: history.baseline(conn, request.files, request.upto, request.started_by)
        )

    @activity.defn
    async def init_schema(self, request: InitInput) -> InitResult:
        version, created = await self._on(request.target, lambda conn: init_schema(conn, request.schema_name))
        return InitResult(version=version, created=created)

    def all(self) -> list[Callable[..., object]]:
        return [
            self.history_pending,
            self.history_record_start,
            self.history_record_end,
            self.history_close_stale,
            self.history_entries,
            self.history_baseline,
            self.init_schema,
        ]
