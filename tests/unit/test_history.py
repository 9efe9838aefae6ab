from datetime import UTC, datetime

import pytest

from liveshift.errors import SpecError
from liveshift.store.history import HistoryEntry, MigrationFileRef, pending


def ref(file: str, checksum: str = "c") -> MigrationFileRef:
    return MigrationFileRef(file=file, migration=file.split(".")[0].lstrip("0123456789_"), checksum=checksum)


def entry(file: str, outcome: str = "complete", checksum: str = "c") -> HistoryEntry:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return HistoryEntry(id=1, file=file, migration="m", checksum=checksum, outcome=outcome,  # type: ignore[arg-type]
                        started_by="t", started_at=at, ended_at=at)  # fmt: skip


def test_pending_in_file_order() -> None:
    files = [ref("003_c.yaml"), ref("001_a.yaml"), ref("002_b.yaml")]
    assert [f.file for f in pending(files, [entry("001_a.yaml")])] == ["002_b.yaml", "003_c.yaml"]


def test_everything_applied_is_a_no_op() -> None:
    files = [ref("001_a.yaml"), ref("002_b.yaml")]
    assert pending(files, [entry("001_a.yaml"), entry("002_b.yaml", outcome="baseline")]) == []


def test_failed_and_rolled_back_files_are_pending_again() -> None:
    files = [ref("001_a.yaml"), ref("002_b.yaml")]
    history = [entry("001_a.yaml"), entry("002_b.yaml", outcome="rolled_back")]
    assert [f.file for f in pending(files, history)] == ["002_b.yaml"]


def test_edited_applied_file_is_refused_naming_it() -> None:
    with pytest.raises(SpecError, match=r"^001_a.yaml: was applied .* has since been edited"):
        pending([ref("001_a.yaml", checksum="new")], [entry("001_a.yaml", checksum="old")])


def test_gap_in_the_order_is_refused() -> None:
    files = [ref("001_a.yaml"), ref("002_b.yaml"), ref("003_c.yaml")]
    with pytest.raises(SpecError, match=r"^002_b.yaml: sorts before 003_c.yaml"):
        pending(files, [entry("001_a.yaml"), entry("003_c.yaml")])
