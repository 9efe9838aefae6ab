"""Human output: migration status with progress bars, durations, and a live line that redraws on a terminal."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

from workflows.models import MigrationStatus, TableProgress

BAR_WIDTH = 28


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    fraction = min(1.0, done / total) if total > 0 else 0.0
    filled = round(fraction * width)
    return "[" + "#" * filled + "-" * (width - filled) + f"] {fraction * 100:5.1f}%"


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


def table_line(progress: TableProgress) -> str:
    rate = f"{progress.rows_per_second:,.0f} rows/s" if progress.rows_per_second else ""
    running = 0 < progress.rows_done < progress.rows_total
    eta = f"ETA {duration(progress.eta_seconds)}" if progress.eta_seconds is not None and running else ""
    counts = f"{progress.rows_done:,}/{progress.rows_total:,} rows"
    parts = (f"{progress.table:<20}", bar(progress.rows_done, progress.rows_total), counts, rate, eta)
    return "  ".join(p for p in parts if p)


def phase_durations(status: MigrationStatus, now: datetime | None = None) -> list[tuple[str, float]]:
    """(phase, seconds spent) for each transition, the current one up to `now` unless the migration ended."""
    now = now or datetime.now(UTC)
    out = []
    transitions = status.transitions
    for i, transition in enumerate(transitions):
        end = transitions[i + 1].at if i + 1 < len(transitions) else None
        if end is None and transition.phase in ("complete", "rolled_back", "failed"):
            continue
        out.append((transition.phase, ((end or now) - transition.at).total_seconds()))
    return out


def headline(status: MigrationStatus) -> str:
    flags = []
    if status.paused:
        flags.append("PAUSED")
    if status.throttled:
        flags.append(f"throttled: {status.throttled}")
    if status.waiting_for:
        flags.append(f"waiting for approval of {status.waiting_for}")
    if status.contract_at and status.phase == "awaiting_contract":
        flags.append(f"contract at {status.contract_at:%H:%M:%S}")
    return f"phase: {status.phase}" + (f"  ({'; '.join(flags)})" if flags else "")


def status_text(status: MigrationStatus, execution: str | None = None, ui_url: str | None = None) -> str:
    lines = [
        f"migration {status.migration} on target {status.target} "
        f"({', '.join(f'{status.schema_name}.{t}' for t in status.tables)})",
        f"workflow  {status.workflow_id}" + (f"  [{execution.lower()}]" if execution else ""),
        headline(status),
    ]
    lines += ["  " + table_line(p) for p in status.progress]
    if status.verify is not None:
        lines.append(f"verify: {status.verify.summary()}")
    if status.waiting_for:
        lines.append(f"next: liveshift approve {status.waiting_for} {status.workflow_id}")
    if status.last_error:
        lines.append(f"last error: {status.last_error}")
    durations = phase_durations(status)
    if durations:
        lines.append("phases: " + " → ".join(f"{phase} {duration(secs)}" for phase, secs in durations))
    if ui_url:
        lines.append(f"ui: {ui_url}")
    return "\n".join(lines)


def live_line(status: MigrationStatus) -> str:
    """One line for a redrawing progress display."""
    done = sum(p.rows_done for p in status.progress)
    total = sum(p.rows_total for p in status.progress)
    rate = sum(p.rows_per_second for p in status.progress)
    parts = [f"{status.migration}: {status.phase:<17}", bar(done, total)]
    if total:
        parts.append(f"{done:,}/{total:,} rows")
    if rate:
        parts.append(f"{rate:,.0f} rows/s")
    if status.paused:
        parts.append("PAUSED")
    elif status.throttled:
        parts.append(f"throttled ({status.throttled})")
    return "  ".join(parts)


class LiveLine:
    """Redraws one line in place on a terminal; elsewhere (logs, pipes) prints a line when the part before the
    first bar changes (e.g. the phase) or every `every_s` seconds."""

    def __init__(self, stream: TextIO | None = None, every_s: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self._last = ""
        self._pending = ""  # off a terminal: the latest line not printed yet (printed by done())
        self._printed_at = 0.0

    def show(self, text: str) -> None:
        if text == self._last:
            return
        key_changed = text.split("[", 1)[0] != self._last.split("[", 1)[0]
        self._last = text
        if self.tty:
            width = shutil.get_terminal_size().columns
            self.stream.write("\r\x1b[2K" + text[: width - 1])
            self.stream.flush()
        elif key_changed or time.monotonic() - self._printed_at >= self.every_s:
            self._write_line(text)
        else:
            self._pending = text

    def _write_line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
        self._printed_at = time.monotonic()
        self._pending = ""

    def note(self, text: str) -> None:
        """A line of its own, below the live line."""
        self.done()
        self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty and self._last:
            self.stream.write("\n")
            self.stream.flush()
        elif self._pending:
            self._write_line(self._pending)
        self._last = ""
