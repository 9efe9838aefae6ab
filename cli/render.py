"""Human output through rich: migration status with progress bars, aligned tables, colours, and a live line.

rich decides what the stream can take: colours and a redrawing line on a terminal (none with NO_COLOR or
TERM=dumb), plain lines elsewhere. Off a terminal nothing is wrapped or cut, so logs and `grep` see whole lines.
"""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from liveshift.cli.process import FINAL_PHASES
from liveshift.values import Blocker, LockWait
from liveshift.workflows.models import MigrationStatus, TableProgress

BAR_WIDTH = 28
# the live line's label: migration name and the longest phase name, so the bars of successive lines align
LIVE_LABEL_PHASE = len("awaiting_contract")
# off a terminal: as wide as a line needs (rich would otherwise wrap at 80 columns)
UNWRAPPED = 100_000
_TRAILING_SPACES = re.compile(r"[ \t]+\n")
PHASE_STYLES = {
    "complete": "bold green",
    "failed": "bold red",
    "rolled_back": "bold red",
    "rolling_back": "yellow",
    "awaiting_cutover": "cyan",
    "awaiting_contract": "cyan",
}


def console(stream: TextIO | None = None) -> Console:
    """A console writing to `stream` (default stdout); markup off, so names in brackets print as they are; text is
    not wrapped by rich (soft_wrap), so a long URL or workflow id stays whole for copy and paste."""
    out = Console(file=stream or sys.stdout, highlight=False, markup=False, emoji=False, soft_wrap=True)
    if not out.is_terminal:
        out.width = UNWRAPPED
        out.file = _TrimmedLines(out.file)
    return out


class _TrimmedLines:
    """A stream whose lines lose the trailing spaces rich pads table cells with (off a terminal, where logs and
    scripts read them); everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_TRAILING_SPACES.sub("\n", text))

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def phase_text(phase: str) -> Text:
    return Text(phase, style=PHASE_STYLES.get(phase, "bold"))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _grid() -> Table:
    return Table.grid(padding=(0, 2))


def _bar_cells(done: int, total: int) -> tuple[ProgressBar, str]:
    fraction = min(1.0, done / total) if total > 0 else 0.0
    bar = ProgressBar(total=max(total, 1), completed=min(done, max(total, 1)), width=BAR_WIDTH)
    return bar, f"{fraction * 100:5.1f}%"


def progress_line(label: RenderableType, done: int, total: int, *extra: RenderableType, label_width: int = 0) -> Table:
    """One line: a label (at least `label_width` wide, so lines in a row align), a bar with its percentage, then
    whatever else (counts, rates, flags)."""
    line = _grid()
    line.add_column(min_width=label_width)
    line.add_row(label, *_bar_cells(done, total), *(e for e in extra if e))
    for column in line.columns:  # one line, cut short on a narrow terminal rather than wrapped
        column.no_wrap = True
    return line


def progress_table(progress: list[TableProgress]) -> Table:
    """A row per table: bar, rows done of total, rows/s, ETA while it runs."""
    table = _grid()
    for p in progress:
        running = 0 < p.rows_done < p.rows_total
        table.add_row(
            f"  {p.table}",
            *_bar_cells(p.rows_done, p.rows_total),
            f"{p.rows_done:,}/{p.rows_total:,} rows",
            f"{p.rows_per_second:,.0f} rows/s" if p.rows_per_second else "",
            f"ETA {duration(p.eta_seconds)}" if p.eta_seconds is not None and running else "",
        )
    return table


def phase_durations(status: MigrationStatus, now: datetime | None = None) -> list[tuple[str, float]]:
    """(phase, seconds spent) for each transition, the current one up to `now` unless the migration ended."""
    now = now or datetime.now(UTC)
    out = []
    transitions = status.transitions
    for i, transition in enumerate(transitions):
        end = transitions[i + 1].at if i + 1 < len(transitions) else None
        if end is None and transition.phase in FINAL_PHASES:
            continue
        out.append((transition.phase, ((end or now) - transition.at).total_seconds()))
    return out


def headline(status: MigrationStatus) -> Text:
    flags = []
    if status.paused:
        flags.append("PAUSED")
    if status.throttled:
        flags.append(f"throttled: {status.throttled}")
    if status.waiting_for:
        flags.append(f"waiting for approval of {status.waiting_for}")
    if status.contract_at and status.phase == "awaiting_contract":
        flags.append(f"contract at {status.contract_at:%H:%M:%S}")
    if status.green_percent is not None and status.phase in ("cutover", "awaiting_contract"):
        flags.append(f"green {status.green_percent}%")
    if status.health is not None and not status.health.healthy:
        flags.append(f"unhealthy: {status.health.value}")
    line = Text.assemble("phase: ", phase_text(status.phase))
    if flags:
        line.append(f"  ({'; '.join(flags)})", style="yellow" if status.paused or status.throttled else "")
    return line


def lock_wait_lines(wait: LockWait) -> list[str]:
    """A step waiting outside the lock queue: what for, how long, and each backend it waits for."""
    lines = [
        f"lock wait: {duration(wait.waited_s)} outside the lock queue: {wait.step} "
        f"(needs {wait.lock_mode} on {', '.join(wait.tables)})"
    ]
    if wait.starving:
        lines.append("  starving: a conflicting lock has been held all along; the step keeps waiting, never queueing")
    for b in wait.blockers:
        lock = f"{'holds' if b.granted else 'awaits'} {b.mode} on {b.table}"
        who = "autovacuum worker, " if b.autovacuum else ""
        lines.append(
            f"  blocked by pid {b.pid} ({who}{b.state or '-'}, transaction open {duration(b.transaction_open_s)}, "
            f"{lock}): {b.query}"
        )
    return lines


def terminated_line(b: Blocker) -> str:
    return (
        f"{b.ended_as} blocking backend pid {b.pid} ({b.usename or '-'}, {b.state or '-'}, transaction open "
        f"{duration(b.transaction_open_s)}, {b.mode} on {b.table}): {b.query}"
    )


def status_view(
    status: MigrationStatus, execution: str | None = None, ui_url: str | None = None, wait: LockWait | None = None
) -> Group:
    tables = ", ".join(f"{status.schema_name}.{t}" for t in status.tables)
    parts: list[RenderableType] = [
        f"migration {status.migration} on target {status.target} ({tables})",
        f"workflow  {status.workflow_id}" + (f"  [{execution.lower()}]" if execution else ""),
        headline(status),
    ]
    if status.progress:
        parts.append(progress_table(status.progress))
    if status.verify is not None:
        parts.append(f"verify: {status.verify.summary()}")
    parts.extend(share_lines(status))
    if status.waiting_for == "contract" and status.green_percent is not None and status.green_percent < 100:
        parts.append(f"next: liveshift shift 100 {status.workflow_id}, then approve contract")
    elif status.waiting_for:
        parts.append(f"next: liveshift approve {status.waiting_for} {status.workflow_id}")
    if wait is not None:
        parts += [Text(line, style="yellow") for line in lock_wait_lines(wait)]
    parts += [terminated_line(b) for b in status.terminated_blockers]
    if status.last_error:
        parts.append(Text(f"last error: {status.last_error}", style="red"))
    durations = phase_durations(status)
    if durations:
        parts.append("phases: " + " → ".join(f"{phase} {duration(secs)}" for phase, secs in durations))
    if ui_url:
        parts.append(f"ui: {ui_url}")
    return Group(*parts)


def share_lines(status: MigrationStatus) -> list[RenderableType]:
    """Green's share since cutover (each change, by whom), the scheduled steps, the latest health check."""
    out: list[RenderableType] = []
    if status.shifts:
        changes = ", ".join(f"{c.percent}% {c.at:%H:%M:%S} ({c.by})" for c in status.shifts)
        out.append(f"green share: {status.green_percent}%  [{changes}]")
    if status.draining:
        until = f" (drops at {status.drain_until:%H:%M:%S})" if status.drain_until else ""
        out.append(f"draining: {status.draining}{until}")
    if status.schedule:
        out.append(f"steps: {status.schedule}")
    if status.health is not None:
        h = status.health
        verdict = "healthy" if h.healthy else "UNHEALTHY"
        text = f"health: {verdict} ({h.value}) at {h.at:%H:%M:%S}, {h.checks} checks"
        out.append(Text(text, style="" if h.healthy else "red"))
    return out


def live_line(status: MigrationStatus, *extra: str) -> Table:
    """One line for a redrawing progress display: migration, phase, bar, rows, rate, flags."""
    done = sum(p.rows_done for p in status.progress)
    total = sum(p.rows_total for p in status.progress)
    rate = sum(p.rows_per_second for p in status.progress)
    flag = "PAUSED" if status.paused else (f"throttled ({status.throttled})" if status.throttled else "")
    label = Text.assemble(f"{status.migration}: ", phase_text(status.phase))
    counts = f"{done:,}/{total:,} rows" if total else ""
    width = len(status.migration) + 2 + LIVE_LABEL_PHASE
    return progress_line(
        label, done, total, counts, f"{rate:,.0f} rows/s" if rate else "", flag, *extra, label_width=width
    )


class LiveLine:
    """A line redrawn in place on a terminal (rich Live); elsewhere (logs, pipes) a line is printed when its key
    (e.g. the phase) changes or every `every_s` seconds, and the latest one when done."""

    def __init__(self, stream: TextIO | None = None, every_s: float = 5.0) -> None:
        self.console = console(stream or sys.stderr)
        self.every_s = every_s
        self._live: Live | None = None
        self._key: str | None = None
        self._pending: RenderableType | None = None  # off a terminal: the latest line not printed yet
        self._printed_at = 0.0

    def show(self, line: RenderableType, key: str) -> None:
        if self.console.is_terminal:
            if self._live is None:
                self._live = Live(
                    line,
                    console=self.console,
                    auto_refresh=False,
                    redirect_stdout=False,  # --json writes its summary to stdout meanwhile
                    redirect_stderr=False,
                )
                self._live.start(refresh=True)
            else:
                self._live.update(line, refresh=True)
        elif key != self._key or time.monotonic() - self._printed_at >= self.every_s:
            self._print(line)
        else:
            self._pending = line
        self._key = key

    def _print(self, line: RenderableType) -> None:
        self.console.print(line)
        self._printed_at = time.monotonic()
        self._pending = None

    def note(self, text: str) -> None:
        """A line of its own, below the live line."""
        self.done()
        self.console.print(text)

    def done(self) -> None:
        if self._live is not None:
            self._live.stop()  # leaves its last line on the screen
            self._live = None
        elif self._pending is not None:
            self._print(self._pending)
        self._key = None
