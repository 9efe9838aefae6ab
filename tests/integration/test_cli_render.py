"""Human output through rich: plain, whole lines off a terminal; colours on one, unless NO_COLOR says no."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from liveshift.cli.render import console, status_view
from liveshift.workflows.models import MigrationStatus, PhaseTransition, TableProgress

LONG_ID = "liveshift/app/public." + "a_table_with_a_long_name" * 6 + "/cda9be44"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def status() -> MigrationStatus:
    return MigrationStatus(
        workflow_id=LONG_ID,
        migration="users_email_lower",
        target="app",
        schema_name="public",
        tables=["users"],
        phase="complete",
        transitions=[PhaseTransition(phase="starting", at=datetime.now(UTC))],
        progress=[
            TableProgress(
                table="users", rows_total=10, rows_done=10, rows_per_second=0, partitions=1, partitions_done=1
            ),
        ],
    )


def test_off_a_terminal_lines_are_plain_whole_and_without_padding() -> None:
    out = io.StringIO()
    console(out).print(status_view(status(), "COMPLETED", "http://127.0.0.1:8233/x"))
    text = out.getvalue()
    assert "\x1b[" not in text
    assert f"workflow  {LONG_ID}  [completed]\n" in text  # not wrapped at 80 columns, not cut
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "10/10 rows" in text and "100.0%" in text


def test_a_terminal_gets_colours_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = Terminal()
    console(coloured).print(status_view(status()))
    assert "\x1b[1;32mcomplete" in coloured.getvalue()  # the final phase in bold green

    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    console(plain).print(status_view(status()))
    assert "\x1b[32m" not in plain.getvalue() and "\x1b[1;32m" not in plain.getvalue()
    assert "complete" in plain.getvalue()
