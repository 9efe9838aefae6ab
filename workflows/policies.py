"""How the workflow runs its activities: timeouts, retry policies, and which failures no retry can fix."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# exception class names the core raises that no retry can fix
NON_RETRYABLE = ("SpecError", "VerificationFailed", "MigrationStateError", "ContractRefused")

HEARTBEAT_TIMEOUT = timedelta(seconds=10)
PHASE_TIMEOUT = timedelta(hours=24)  # a CREATE INDEX CONCURRENTLY on a big table; heartbeats catch dead workers
BACKFILL_TIMEOUT = timedelta(days=7)
# transient failures: the activity retries with backoff; after these attempts the workflow records the
# error in its status (so operators see it), waits, and tries again
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
    non_retryable_error_types=list(NON_RETRYABLE),
)
# a backfill partition keeps retrying on its own: each attempt resumes from the checkpoint; the error
# the last one ended with is in its heartbeat details (shown by `liveshift status`) and its result
BACKFILL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=list(NON_RETRYABLE),
)
RETRY_AGAIN_AFTER = timedelta(seconds=30)


def is_non_retryable(err: BaseException) -> bool:
    cause = err.cause if isinstance(err, ActivityError) else err
    return isinstance(cause, ApplicationError) and (cause.non_retryable or cause.type in NON_RETRYABLE)


def message(err: BaseException) -> str:
    """What went wrong, for operators: the core's own message, not the activity wrapper's."""
    cause = err.cause if isinstance(err, ActivityError) and err.cause is not None else err
    return str(cause.message if isinstance(cause, ApplicationError) else cause)


def failure_type(err: BaseException) -> str | None:
    """The failure's type as the activity raised it (the core's exception class name), if it is one."""
    cause = err.cause if isinstance(err, ActivityError) else err
    return cause.type if isinstance(cause, ApplicationError) else None
