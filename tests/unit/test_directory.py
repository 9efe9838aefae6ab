"""A migrations directory without services: reading and validating it, how a child's end is classified, what
the UI details and the history table show."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError, CancelledError, ChildWorkflowError

from liveshift.cli.directory import file_line, history_table, read_directory
from liveshift.errors import SpecError
from liveshift.store.history import HistoryEntry, checksum
from liveshift.workflows.directory import child_outcome, details
from liveshift.workflows.directory_models import (
    DirectoryFileState,
    DirectoryStatus,
    HistoryRequest,
    directory_workflow_id,
)

ORDERS = "name: orders\noperations:\n  - {op: create_table, table: orders, columns: [{name: id, type: bigint}]}\n"
INDEX = "name: orders_idx\noperations:\n  - {op: create_index, name: orders_id_idx, table: orders, columns: [id]}\n"


def directory(tmp_path: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return str(tmp_path)


def test_files_in_name_order_with_their_checksums_and_only_migration_suffixes(tmp_path: Path) -> None:
    path = directory(tmp_path, {"002_idx.yml": INDEX, "001_orders.yaml": ORDERS, "README.md": "not a migration"})
    (tmp_path / "003_sub.yaml").mkdir()  # a directory is not a file
    files = read_directory(path)
    assert [f.ref.file for f in files] == ["001_orders.yaml", "002_idx.yml"]
    assert [f.ref.migration for f in files] == ["orders", "orders_idx"]
    assert files[0].ref.checksum == checksum(ORDERS.encode())
    assert files[1].path == str(tmp_path / "002_idx.yml")


def test_json_files_count_too(tmp_path: Path) -> None:
    body = (
        '{"name": "j", "operations": [{"op": "create_table", "table": "t", "columns": [{"name": "a", "type": "int"}]}]}'
    )
    assert [f.ref.file for f in read_directory(directory(tmp_path, {"001_j.json": body}))] == ["001_j.json"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, r"no migration files \(\*\.yaml, \*\.yml, \*\.json\)"),
        ({"001_a.yaml": ORDERS, "002_b.yaml": ORDERS}, r"002_b\.yaml: field 'name': the name 'orders' is also 001_a"),
        ({"001_a.yaml": "name: [unclosed"}, r"001_a\.yaml: not valid YAML"),
        ({"001_a.yaml": "name: x\noperations: []\n"}, r"001_a\.yaml: field 'operations'"),
    ],
)
def test_bad_directories_are_refused_naming_the_file(tmp_path: Path, files: dict[str, str], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        read_directory(directory(tmp_path, files))


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"nope: not a directory"):
        read_directory(str(tmp_path / "nope"))


def child_error(cause: BaseException) -> ChildWorkflowError:
    err = ChildWorkflowError(
        "child failed",
        namespace="default",
        workflow_id="liveshift/app/public.users/1",
        run_id="r",
        workflow_type="MigrationWorkflow",
        initiated_event_id=1,
        started_event_id=2,
        retry_state=None,
    )
    err.__cause__ = cause
    return err


def test_a_child_that_failed_after_rolling_back_or_before_it_could() -> None:
    rolled = child_error(ApplicationError("verify: 3 rows differ (rolled back)", type="MigrationFailed"))
    assert child_outcome(rolled, None) == ("rolled_back", "verify: 3 rows differ (rolled back)")
    failed = child_error(ApplicationError("m.yaml: field 'columns[0]': no column", type="MigrationFailed"))
    assert child_outcome(failed, None) == ("failed", "m.yaml: field 'columns[0]': no column")


def test_a_cancelled_child_rolled_back_for_the_directory_or_on_its_own() -> None:
    cancelled = child_error(CancelledError("Cancelled"))
    assert child_outcome(cancelled, "directory run cancelled: plan B") == (
        "rolled_back",
        "directory run cancelled: plan B",
    )
    assert child_outcome(cancelled, None) == ("rolled_back", "its migration workflow was cancelled through Temporal")


def test_details_and_file_lines_name_each_file_its_state_and_why() -> None:
    status = DirectoryStatus(
        workflow_id="liveshift-dir/app/1",
        target="app",
        state="stopped",
        reason="002_b.yaml: rolled back: no",
        files=[
            DirectoryFileState(file="001_a.yaml", migration="a", state="applied"),
            DirectoryFileState(file="002_b.yaml", migration="b", state="rolled_back", reason="no", workflow_id="w"),
            DirectoryFileState(file="003_c.yaml", migration="c", state="running", workflow_id="liveshift/app/x"),
        ],
    )
    assert details(status).splitlines() == [
        "migrations directory on `app`: **stopped**",
        "stopped: 002_b.yaml: rolled back: no",
        "- 001_a.yaml: **applied**",
        "- 002_b.yaml: **rolled_back**: no",
        "- 003_c.yaml: **running** (workflow `liveshift/app/x`)",
    ]
    assert [file_line(f) for f in status.files] == [
        "001_a.yaml  applied",
        "002_b.yaml  rolled_back: no",
        "003_c.yaml  running  workflow liveshift/app/x",
    ]
    assert status.current == status.files[2]


def test_history_table_columns() -> None:
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later = datetime(2026, 1, 1, 12, 1, 30, tzinfo=UTC)
    rows = [
        HistoryEntry(id=1, file="001_a.yaml", migration="a", checksum="ab" * 32, outcome="complete",
                     started_by="alice", started_at=at, ended_at=later),
        HistoryEntry(id=2, file="002_b.yaml", migration="b", checksum="cd" * 32, outcome="running",
                     started_by="bob", started_at=later),
    ]  # fmt: skip
    assert history_table(rows).splitlines() == [
        "FILE        CHECKSUM      STARTED (UTC)        ENDED (UTC)          DURATION  OUTCOME   STARTED BY  REASON",
        "001_a.yaml  abababababab  2026-01-01 12:00:00  2026-01-01 12:01:30  1m30s     complete  alice",
        "002_b.yaml  cdcdcdcdcdcd  2026-01-01 12:01:30  -                    -         running   bob",
    ]
    assert history_table([]) == "no migrations recorded"


def test_one_directory_workflow_id_per_target() -> None:
    assert directory_workflow_id("app") == directory_workflow_id("app")
    assert directory_workflow_id("app") != directory_workflow_id("app2")
    assert directory_workflow_id("a b").startswith("liveshift-dir/a_b/")


def test_a_baseline_request_names_its_last_file() -> None:
    with pytest.raises(ValidationError, match="baseline needs upto and started_by"):
        HistoryRequest(action="baseline", target="app")
