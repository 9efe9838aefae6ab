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


class LockRetriesExhausted(LiveshiftError):
    """A lock-taking statement kept timing out; transient, worth retrying later."""
