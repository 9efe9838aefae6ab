"""Errors the core raises; the workflow layer maps them to retryable or not."""

from __future__ import annotations


class LiveshiftError(Exception):
    """Base class."""


class SpecError(LiveshiftError):
    """Bad input: names the file, the operation's index and the field. Nothing was touched."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        index: int | None = None,
        op: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.index = index
        self.op = op
        self.field = field
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.index is not None:
            where.append(f"operations[{self.index}]" + (f" ({self.op})" if self.op else ""))
        if self.field:
            where.append(f"field '{self.field}'")
        return (": ".join(where) + ": " if where else "") + self.message

    def located(self, *, file: str | None = None, index: int | None = None, op: str | None = None) -> SpecError:
        return SpecError(
            self.message,
            file=file or self.file,
            index=self.index if index is None else index,
            op=op or self.op,
            field=self.field,
        )


class MigrationStateError(LiveshiftError):
    """A request that does not apply to the migration's current state (e.g. contract before cutover)."""


class VerificationFailed(LiveshiftError):
    """Old and new representations disagree; the migration must not go on."""


class ContractRefused(LiveshiftError):
    """Contract's statements, tried in a transaction that was rolled back, fail where no retry helps: nothing was
    dropped, the migration is still cut over, and rollback is still possible."""


class VersionsBusy(LiveshiftError):
    """Another migration of the schema holds what this step needs (the candidate version, the schema's versions
    while they change hands); transient, retried until that migration completes or rolls back."""


class LockRetriesExhausted(LiveshiftError):
    """A lock-taking statement kept timing out; transient, worth retrying later."""


# SQLSTATE classes whose errors the same statement meets again on every retry: a retry cannot fix them, so a
# migration meeting one fails within seconds (and rolls back before contract) instead of retrying forever.
# 0A feature not supported, 22 data exception, 23 integrity constraint violation, 2B dependent objects still
# exist, 2F SQL routine exception, 39 external routine invocation, 42 syntax error or access rule violation
# (undefined objects, insufficient privilege), 44 WITH CHECK OPTION violation, P0 PL/pgSQL error.
# Everything else is taken as transient: 08 connection, 40 serialization and deadlock, 53 insufficient
# resources, 55 lock not available or object in use, 57 operator intervention (shutdown, statement timeout),
# 58 system error, 25 read-only transaction (a failover), XX internal error.
DETERMINISTIC_SQLSTATE_CLASSES = frozenset({"0A", "22", "23", "2B", "2F", "39", "42", "44", "P0"})

# Python errors that are a bug or bad data on our side: the same call fails the same way again
_PROGRAMMING_ERRORS = (TypeError, ValueError, LookupError, AttributeError, AssertionError, ArithmeticError)


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE of a server error (psycopg's `sqlstate`), without importing psycopg here."""
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) and len(state) == 5 else None


def is_deterministic(exc: BaseException) -> bool:
    """Whether no retry can fix `exc` (see DETERMINISTIC_SQLSTATE_CLASSES); transient when unsure."""
    if isinstance(exc, SpecError | MigrationStateError | VerificationFailed | ContractRefused):
        return True
    if isinstance(exc, LockRetriesExhausted | OSError):
        return False
    state = sqlstate_of(exc)
    if state is not None:
        return state[:2] in DETERMINISTIC_SQLSTATE_CLASSES
    if type(exc).__module__.startswith("psycopg"):
        return False  # a client-side psycopg error without SQLSTATE: a lost connection, a closed cursor
    return isinstance(exc, _PROGRAMMING_ERRORS)


def describe(exc: BaseException) -> str:
    """One line for operators: the SQLSTATE and the server's message, or the error's type and message."""
    first = (str(exc).splitlines() or [""])[0]
    state = sqlstate_of(exc)
    return f"{first} (SQLSTATE {state})" if state else f"{type(exc).__name__}: {first}"
