"""What crosses the Temporal boundary for a migrations directory and its history (pydantic, like workflows/models.py).

The CLI reads and validates the directory; the parent workflow gets every file's migration and checksum, so
the worker never reads the operator's files. Targets, never connection strings.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from liveshift.spec import Migration
from liveshift.store.history import HistoryEntry, MigrationFileRef
from liveshift.workflows.models import MigrationOptions

DIRECTORY_WORKFLOW = "MigrateDirectoryWorkflow"
HISTORY_WORKFLOW = "HistoryWorkflow"
DIRECTORY_STATUS = "directory_status"  # query

# applied: before this run (history says so); pending: still to run; the others: this run's attempts
FileState = Literal["applied", "pending", "running", "complete", "rolled_back", "failed"]
DirectoryState = Literal["checking", "applying", "complete", "stopped"]


class DirectoryFile(BaseModel):
    ref: MigrationFileRef
    migration: Migration
    path: str = Field(description="the file as the operator named it, for error messages")


class DirectoryInput(BaseModel):
    target: str = Field(min_length=1, description="database target name, resolved by the worker")
    files: list[DirectoryFile] = Field(min_length=1, description="every file of the directory, in name order")
    options: MigrationOptions = Field(default_factory=MigrationOptions)
    started_by: str = Field(min_length=1)


class DirectoryFileState(BaseModel):
    file: str
    migration: str
    tables: list[str] = Field(default_factory=list)
    state: FileState = "pending"
    workflow_id: str | None = None  # the child migration workflow, once started
    reason: str | None = None  # why it rolled back or failed
    started_at: datetime | None = None
    ended_at: datetime | None = None


class DirectoryStatus(BaseModel):
    """The DIRECTORY_STATUS query's answer, and the workflow's result."""

    workflow_id: str
    target: str
    state: DirectoryState = "checking"
    files: list[DirectoryFileState]
    reason: str | None = None  # why the directory stopped

    @property
    def current(self) -> DirectoryFileState | None:
        return next((f for f in self.files if f.state == "running"), None)


class HistoryRequest(BaseModel):
    """What the CLI asks of a target's history (through HistoryWorkflow, since only the worker reaches targets)."""

    model_config = ConfigDict(populate_by_name=True)

    action: Literal["entries", "pending", "baseline", "init"]
    target: str = Field(min_length=1)
    schema_name: str = Field("public", alias="schema", min_length=1)  # init: the schema whose base version to register
    files: list[MigrationFileRef] = Field(default_factory=list)
    upto: str = ""  # baseline: the last file recorded as applied
    started_by: str = ""  # baseline

    @model_validator(mode="after")
    def _baseline_names_its_file(self) -> HistoryRequest:
        if self.action == "baseline" and not (self.upto and self.started_by):
            raise ValueError("baseline needs upto and started_by")
        return self


class HistoryAnswer(BaseModel):
    entries: list[HistoryEntry] = Field(default_factory=list)  # entries
    files: list[MigrationFileRef] = Field(default_factory=list)  # pending: still to apply; baseline: recorded
    version: str = ""  # init: the schema's current version
    created: bool = False  # init: registered now (False: the schema already had a version)


def directory_workflow_id(target: str) -> str:
    """One directory run per target at a time."""
    readable = re.sub(r"[^A-Za-z0-9_.,-]", "_", target)[:120]
    return f"liveshift-dir/{readable}/{hashlib.sha1(target.encode()).hexdigest()[:8]}"
