"""Indexes and keys on partitioned tables that plan once refused: a column swap's rebuilt indexes, unique
constraints and foreign keys, unique constraints added (per partition CONCURRENTLY, attached), foreign keys
validated per partition before PostgreSQL 18, on range (a DEFAULT partition, a hash sub-level), list and hash
parents (tests/harness/operations/partitioned_keys.py), through every phase and rolled back from each,
contract's catalog the plain statements'. On PostgreSQL 15 too (./dev's SECOND_PG_TESTS)."""

from __future__ import annotations

import psycopg
import pytest

from tests.harness.operations.partitioned_keys import SCENARIOS
from tests.harness.scenario import PHASES_BEFORE_CONTRACT, each_step_twice_equals_once, every_phase, rollback_from

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_phase(dsn: str, conn: psycopg.Connection, name: str) -> None:
    every_phase(dsn, conn, SCENARIOS[name])


@pytest.mark.parametrize("phase", PHASES_BEFORE_CONTRACT)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_rollback_from_each_phase(dsn: str, conn: psycopg.Connection, name: str, phase: str) -> None:
    rollback_from(dsn, conn, SCENARIOS[name], phase)


def test_each_phase_twice_equals_once(dsn: str, conn: psycopg.Connection) -> None:
    """Every step of the range scenario (an index, a unique and a foreign key rebuilt, a unique added) run twice:
    each partition's steps are guarded as a plain table's."""
    each_step_twice_equals_once(dsn, conn, SCENARIOS["range"])
