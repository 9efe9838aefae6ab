"""What `migrate`, `history` and `baseline` share: reading a migrations directory, asking the worker about a
target's history (HistoryWorkflow), who started it, and the history table."""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC
from pathlib import Path

from temporalio.client import Client

from liveshift.cli.control import ask_worker
from liveshift.cli.render import duration
from liveshift.errors import SpecError
from liveshift.spec import load_migration
from liveshift.store.history import HistoryEntry, MigrationFileRef, checksum
from liveshift.worker.config import Settings
from liveshift.workflows.directory_models import (
    HISTORY_WORKFLOW,
    DirectoryFile,
    DirectoryFileState,
    HistoryAnswer,
    HistoryRequest,
)

SUFFIXES = (".yaml", ".yml", ".json")
# how long the CLI waits for a worker to answer about a target's history
ANSWER_TIMEOUT_S = 60.0


def read_directory(path: str) -> list[DirectoryFile]:
    """Every migration file of `path` (*.yaml, *.yml, *.json) in name order, validated; SpecError names the file."""
    directory = Path(path)
    if not directory.is_dir():
        raise SpecError("not a directory", file=path)
    paths = sorted((p for p in directory.iterdir() if p.is_file() and p.suffix in SUFFIXES), key=lambda p: p.name)
    if not paths:
        raise SpecError(f"no migration files ({', '.join('*' + s for s in SUFFIXES)})", file=path)
    files: list[DirectoryFile] = []
    for p in paths:
        migration = load_migration(p)
        same = next((f for f in files if f.migration.name == migration.name), None)
        if same is not None:
            raise SpecError(
                f"the name {migration.name!r} is also {same.ref.file}'s; each migration needs its own name",
                file=str(p),
                field="name",
            )
        ref = MigrationFileRef(file=p.name, migration=migration.name, checksum=checksum(p.read_bytes()))
        files.append(DirectoryFile(ref=ref, migration=migration, path=str(p)))
    return files


def add_started_by_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--started-by", metavar="NAME", help="who the history records (default: $USER)")


def started_by(args: argparse.Namespace) -> str:
    if args.started_by:
        return str(args.started_by)
    try:
        return getpass.getuser()
    except OSError:  # no login name and no passwd entry (some containers)
        return "unknown"


async def ask_history(client: Client, settings: Settings, request: HistoryRequest) -> HistoryAnswer:
    """Run HistoryWorkflow on the worker's task queue; a refusal (edited file, gap, unknown target) is a CliError."""
    return await ask_worker(
        client,
        settings,
        HISTORY_WORKFLOW,
        request,
        HistoryAnswer,
        id_prefix=f"liveshift-history/{request.target}",
        summary=f"liveshift history {request.action} on {request.target}",
        answer_within_s=ANSWER_TIMEOUT_S,
    )


def entry_json(entry: HistoryEntry) -> dict[str, object]:
    return {**entry.model_dump(mode="json"), "duration_s": entry.duration_s}


def history_table(entries: list[HistoryEntry]) -> str:
    """The human view of `liveshift history` (the one place its rendering lives)."""
    if not entries:
        return "no migrations recorded"
    header = ("FILE", "CHECKSUM", "STARTED (UTC)", "ENDED (UTC)", "DURATION", "OUTCOME", "STARTED BY", "REASON")
    rows = [header] + [
        (
            e.file,
            e.checksum[:12],
            f"{e.started_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            f"{e.ended_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}" if e.ended_at else "-",
            duration(e.duration_s),
            e.outcome,
            e.started_by,
            e.reason or "",
        )
        for e in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        ("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1]).rstrip() for row in rows
    )


def file_line(state: DirectoryFileState) -> str:
    """One file of a directory run as `migrate --wait` prints it when its state changes."""
    child = f"  workflow {state.workflow_id}" if state.workflow_id and state.state == "running" else ""
    return f"{state.file}  {state.state}{child}" + (f": {state.reason}" if state.reason else "")
