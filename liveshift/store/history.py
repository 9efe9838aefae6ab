"""The ordered record of a target's migrations: which file ran, with what checksum, how it ended.

A migrations directory is applied in file-name order, as Flyway, Alembic and pgroll do. A file that
was applied and has since been edited is refused (its checksum changed), and so is a gap: a new file
that sorts before one already applied. `baseline` records files as applied without running them, for
a database whose schema already has their shape.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel, Field

from liveshift.errors import SpecError
from liveshift.store import schema as state

Outcome = Literal["running", "complete", "rolled_back", "failed", "baseline"]
APPLIED: tuple[Outcome, ...] = ("complete", "baseline")

_DDL = """
CREATE TABLE IF NOT EXISTS liveshift.history (
    id bigserial PRIMARY KEY,
    file text NOT NULL,
    migration text NOT NULL,
    checksum text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('running', 'complete', 'rolled_back', 'failed', 'baseline')),
    started_by text NOT NULL,
    workflow_id text,
    reason text,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
);
-- one attempt of a file in flight at a time; a finished attempt may be followed by another (after a rollback)
CREATE UNIQUE INDEX IF NOT EXISTS history_one_running_per_file ON liveshift.history (file)
    WHERE outcome = 'running';
"""


class MigrationFileRef(BaseModel):
    """One file of a migrations directory, as the CLI read it."""

    file: str = Field(min_length=1, description="file name within the directory; the order key")
    migration: str = Field(description="the migration's name (its green version)")
    checksum: str = Field(description="sha256 of the file's bytes")


class HistoryEntry(BaseModel):
    id: int
    file: str
    migration: str
    checksum: str
    outcome: Outcome
    started_by: str
    workflow_id: str | None = None
    reason: str | None = None
    started_at: datetime
    ended_at: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else (self.ended_at - self.started_at).total_seconds()


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def bootstrap(conn: psycopg.Connection) -> None:
    state.bootstrap(conn)
    with conn.transaction():
        conn.execute(_DDL)


def entries(conn: psycopg.Connection) -> list[HistoryEntry]:
    bootstrap(conn)
    with conn.cursor(row_factory=class_row(HistoryEntry)) as cur:
        return cur.execute("SELECT * FROM liveshift.history ORDER BY id").fetchall()


def applied(history: list[HistoryEntry]) -> dict[str, HistoryEntry]:
    """The last applied attempt of each file (baseline counts as applied)."""
    return {e.file: e for e in history if e.outcome in APPLIED}


def pending(files: list[MigrationFileRef], history: list[HistoryEntry]) -> list[MigrationFileRef]:
    """The files still to apply, in order; refuses an edited applied file and a gap in the order."""
    done = applied(history)
    ordered = sorted(files, key=lambda f: f.file)
    for ref in ordered:
        entry = done.get(ref.file)
        if entry is not None and entry.checksum != ref.checksum:
            raise SpecError(
                f"was applied ({entry.outcome} at {entry.started_at:%Y-%m-%d %H:%M:%S %Z}) with checksum "
                f"{entry.checksum[:12]} and has since been edited (now {ref.checksum[:12]}); "
                "write a new migration file instead",
                file=ref.file,
            )
    todo = [ref for ref in ordered if ref.file not in done]
    last_applied = max(done, default=None)
    if todo and last_applied is not None and todo[0].file < last_applied:
        raise SpecError(
            f"sorts before {last_applied}, which is already applied: a gap in the order; "
            "rename it to sort after the applied files",
            file=todo[0].file,
        )
    return todo


def record_start(conn: psycopg.Connection, ref: MigrationFileRef, started_by: str, workflow_id: str) -> int:
    """Record an attempt as running; idempotent for the same workflow (a retried activity)."""
    bootstrap(conn)
    with conn.transaction():
        row = conn.execute(
            "SELECT id FROM liveshift.history WHERE file = %s AND workflow_id = %s AND outcome = 'running'",
            (ref.file, workflow_id),
        ).fetchone()
        if row is not None:
            return row[0]
        row = conn.execute(
            "INSERT INTO liveshift.history (file, migration, checksum, outcome, started_by, workflow_id) "
            "VALUES (%s, %s, %s, 'running', %s, %s) RETURNING id",
            (ref.file, ref.migration, ref.checksum, started_by, workflow_id),
        ).fetchone()
        assert row is not None
        return row[0]


def record_end(conn: psycopg.Connection, entry_id: int, outcome: Outcome, reason: str | None = None) -> None:
    """Close an attempt; idempotent (an attempt already closed keeps its first ending)."""
    conn.execute(
        "UPDATE liveshift.history SET outcome = %s, reason = %s, ended_at = now() "
        "WHERE id = %s AND outcome = 'running'",
        (outcome, reason, entry_id),
    )


def close_stale(conn: psycopg.Connection, reason: str) -> list[str]:
    """Close every attempt still `running` as failed with `reason`; returns their files.

    Called as a directory run begins: only one runs per target at a time, so a `running` attempt then is one
    whose run ended without recording how (terminated, timed out) and would otherwise read as in flight.
    """
    bootstrap(conn)
    rows = conn.execute(
        "UPDATE liveshift.history SET outcome = 'failed', reason = %s, ended_at = now() "
        "WHERE outcome = 'running' RETURNING file",
        (reason,),
    ).fetchall()
    return sorted(row[0] for row in rows)


def baseline(conn: psycopg.Connection, files: list[MigrationFileRef], upto: str, started_by: str) -> list[str]:
    """Record every file up to and including `upto` as applied without running it; returns the files recorded."""
    if upto not in {f.file for f in files}:
        raise SpecError(f"no file {upto!r} in the directory", field="baseline")
    history = entries(conn)
    todo = [ref for ref in pending(files, history) if ref.file <= upto]
    with conn.transaction():
        for ref in todo:
            conn.execute(
                "INSERT INTO liveshift.history (file, migration, checksum, outcome, started_by, ended_at) "
                "VALUES (%s, %s, %s, 'baseline', %s, now())",
                (ref.file, ref.migration, ref.checksum, started_by),
            )
    return [ref.file for ref in todo]


def applied_files(conn: psycopg.Connection) -> list[MigrationFileRef]:
    """The applied files (complete or baseline), in order, read without creating anything: [] where
    `liveshift migrate` never ran (a read for reports such as `liveshift fleet drift`)."""
    row = conn.execute("SELECT pg_catalog.to_regclass('liveshift.history') IS NOT NULL").fetchone()
    if not (row and row[0]):
        return []
    with conn.cursor(row_factory=class_row(MigrationFileRef)) as cur:
        return cur.execute(
            "SELECT DISTINCT ON (file) file, migration, checksum FROM liveshift.history "
            "WHERE outcome = ANY(%s) ORDER BY file, id DESC",
            (list(APPLIED),),
        ).fetchall()
