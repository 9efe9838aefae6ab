"""What an application using liveshift.client is told when it cannot get a version."""

from __future__ import annotations

from liveshift.errors import LiveshiftError


class ClientError(LiveshiftError):
    """Base class of liveshift.client's errors."""


class NoVersion(ClientError):
    """liveshift has no version for the schema: no migration has registered it, or liveshift is not installed."""

    def __init__(self, schema: str, why: str) -> None:
        self.schema = schema
        super().__init__(f"liveshift has no version for schema {schema!r}: {why}")


class VersionUnavailable(ClientError):
    """The version asked for cannot be used: its schema is gone (contract, rollback) or the role may not use it."""

    def __init__(self, schema: str, version: str, reason: str, *, missing: bool) -> None:
        self.schema = schema
        self.version = version
        self.missing = missing  # the version schema does not exist (rather than: no USAGE on it)
        super().__init__(f"version {version!r} of schema {schema!r} {reason}")
