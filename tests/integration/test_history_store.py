"""The history table on a real database: attempts, idempotent records, baseline."""

from __future__ import annotations

import psycopg
import pytest

from liveshift.errors import SpecError
from liveshift.store import history
from liveshift.store.history import MigrationFileRef


def refs() -> list[MigrationFileRef]:
    return [
        MigrationFileRef(file=f"00{i}_m{i}.yaml", migration=f"m{i}", checksum=history.checksum(f"m{i}".encode()))
        for i in (1, 2, 3)
    ]


def test_attempts_are_recorded_once_and_closed_once(conn: psycopg.Connection) -> None:
    first = refs()[0]
    entry_id = history.record_start(conn, first, started_by="alice", workflow_id="wf-1")
    assert history.record_start(conn, first, started_by="alice", workflow_id="wf-1") == entry_id  # a retry
    history.record_end(conn, entry_id, "complete")
    history.record_end(conn, entry_id, "failed", "late duplicate")  # an attempt keeps its first ending
    [row] = history.entries(conn)
    assert (row.file, row.outcome, row.started_by, row.reason) == (first.file, "complete", "alice", None)
    assert row.duration_s is not None and row.duration_s >= 0
    assert [f.file for f in history.pending(refs(), history.entries(conn))] == ["002_m2.yaml", "003_m3.yaml"]


def test_one_running_attempt_per_file(conn: psycopg.Connection) -> None:
    history.record_start(conn, refs()[0], started_by="a", workflow_id="wf-1")
    with pytest.raises(psycopg.errors.UniqueViolation):
        history.record_start(conn, refs()[0], started_by="b", workflow_id="wf-2")


def test_baseline_records_files_up_to_the_named_one(conn: psycopg.Connection) -> None:
    assert history.baseline(conn, refs(), "002_m2.yaml", started_by="ops") == ["001_m1.yaml", "002_m2.yaml"]
    assert history.baseline(conn, refs(), "002_m2.yaml", started_by="ops") == []  # again: nothing new
    assert [e.outcome for e in history.entries(conn)] == ["baseline", "baseline"]
    assert [f.file for f in history.pending(refs(), history.entries(conn))] == ["003_m3.yaml"]
    with pytest.raises(SpecError, match=r"no file '009_x\.yaml'"):
        history.baseline(conn, refs(), "009_x.yaml", started_by="ops")


def test_close_stale_closes_only_running_attempts(conn: psycopg.Connection) -> None:
    done = history.record_start(conn, refs()[0], started_by="a", workflow_id="wf-1")
    history.record_end(conn, done, "complete")
    history.record_start(conn, refs()[1], started_by="a", workflow_id="wf-2")
    assert history.close_stale(conn, "its run is gone") == ["002_m2.yaml"]
    assert history.close_stale(conn, "again") == []
    rows = history.entries(conn)
    assert [(e.outcome, e.reason) for e in rows] == [("complete", None), ("failed", "its run is gone")]
    assert rows[1].ended_at is not None
