"""Which failures end a migration at once: the same statement would meet them on every retry."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from temporalio.exceptions import ApplicationError

from liveshift.activities.failures import as_final
from liveshift.errors import LockRetriesExhausted, MigrationStateError, SpecError, describe, is_deterministic


def server_error(cls: type[psycopg.Error]) -> psycopg.Error:
    """An error as psycopg raises it for a server's SQLSTATE (the class carries the SQLSTATE)."""
    return cls("boom")


@pytest.mark.parametrize(
    "cls",
    [
        errors.SyntaxError,  # 42601
        errors.UndefinedColumn,  # 42703
        errors.UndefinedTable,  # 42P01
        errors.UndefinedObject,  # 42704: type "mood" does not exist
        errors.DependentObjectsStillExist,  # 2BP01: cannot drop column because other objects depend on it
        errors.InsufficientPrivilege,  # 42501
        errors.InvalidTextRepresentation,  # 22P02
        errors.DivisionByZero,  # 22012
        errors.NotNullViolation,  # 23502
        errors.UniqueViolation,  # 23505
        errors.CheckViolation,  # 23514
        errors.FeatureNotSupported,  # 0A000: CREATE INDEX CONCURRENTLY on a partitioned table
        errors.RaiseException,  # P0001
    ],
)
def test_deterministic_server_errors_end_the_migration(cls: type[psycopg.Error]) -> None:
    exc = server_error(cls)
    assert is_deterministic(exc)
    final = as_final(exc)
    assert isinstance(final, ApplicationError) and final.non_retryable
    assert final.type == cls.__name__
    assert final.message == f"boom (SQLSTATE {cls.sqlstate})"


@pytest.mark.parametrize(
    "cls",
    [
        errors.LockNotAvailable,  # 55P03
        errors.DeadlockDetected,  # 40P01
        errors.SerializationFailure,  # 40001
        errors.AdminShutdown,  # 57P01
        errors.QueryCanceled,  # 57014: statement timeout
        errors.ReadOnlySqlTransaction,  # 25006: a failover in progress
        errors.TooManyConnections,  # 53300
        errors.DiskFull,  # 53100
        errors.ObjectInUse,  # 55006
        errors.InternalError_,  # XX000
        errors.IoError,  # 58030
    ],
)
def test_transient_server_errors_keep_retrying(cls: type[psycopg.Error]) -> None:
    exc = server_error(cls)
    assert not is_deterministic(exc)
    assert as_final(exc) is exc


def test_errors_without_sqlstate() -> None:
    assert not is_deterministic(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert not is_deterministic(psycopg.InterfaceError("the connection is closed"))
    assert not is_deterministic(ConnectionResetError())
    assert not is_deterministic(TimeoutError())
    assert not is_deterministic(LockRetriesExhausted("lock_timeout 20 times"))
    # a bug on our side is met again on every retry (the partitioned-table verify's `int(None)`)
    assert is_deterministic(TypeError("int() argument must be a string, a bytes-like object or a real number"))
    assert is_deterministic(KeyError("users"))


def test_the_cores_own_errors_keep_their_class_names() -> None:
    """The workflow's retry policy names them (workflows/policies.py): their messages stay as they were."""
    for exc in (SpecError("bad", field="up"), MigrationStateError("cannot contract")):
        assert is_deterministic(exc)
        assert as_final(exc) is exc


def test_describe() -> None:
    assert describe(server_error(errors.UndefinedColumn)) == "boom (SQLSTATE 42703)"
    assert describe(TypeError("first line\nsecond")) == "TypeError: first line"
