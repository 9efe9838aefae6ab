"""Which failures of a core call a retry can fix: the rest end the activity at once (non-retryable), so the
workflow fails the migration within seconds, rolling it back before contract, instead of retrying forever."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import psycopg
from temporalio.exceptions import ApplicationError

from liveshift.connections import open_session
from liveshift.errors import LiveshiftError, describe, is_deterministic

T = TypeVar("T")


def as_final(exc: Exception) -> Exception:
    """`exc` as the activity should raise it: a deterministic database or programming error becomes a
    non-retryable ApplicationError naming the SQLSTATE and the server's message; the core's own errors keep
    their class names, which the workflow's retry policy already knows (workflows/policies.py)."""
    if isinstance(exc, LiveshiftError) or not is_deterministic(exc):
        return exc
    return ApplicationError(describe(exc), type=type(exc).__name__, non_retryable=True)


def call_core(dsn: str, call: Callable[[psycopg.Connection], T]) -> T:
    """`call` on a session of its own to `dsn` (for the worker's thread pool), its failure as `as_final` says."""
    with open_session(dsn) as conn:
        try:
            return call(conn)
        except Exception as exc:
            final = as_final(exc)
            if final is exc:
                raise
            raise final from exc
