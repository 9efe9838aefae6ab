"""What a rehearsal found, as plain values (the rehearse activity's answer) and as the text the CLI prints."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PhaseOutcome(BaseModel):
    """One phase of one run: `run` is "forward" or "rollback from <phase>"."""

    run: str
    phase: str
    ok: bool
    detail: str  # what happened, or the error


class QueryBreak(BaseModel):
    """A recorded application statement that compiles under blue and no longer under green."""

    query: str
    calls: int
    error: str  # green's error


class QueryCheck(BaseModel):
    """The application's recorded statements, each EXPLAINed (never executed) under blue and under green."""

    available: bool  # pg_stat_statements could be read on the target
    note: str = ""  # why not, or what was skipped
    checked: int = 0
    broken: list[QueryBreak] = Field(default_factory=list)
    failing_under_both: int = 0  # statements that compile under neither (a temporary table, say): not the migration's


class RehearsalReport(BaseModel):
    migration: str
    scratch: str  # where it ran: the scratch database and how it was had
    sampled_rows: dict[str, int] = Field(default_factory=dict)  # table -> rows copied
    phases: list[PhaseOutcome] = Field(default_factory=list)
    queries: QueryCheck = Field(default_factory=lambda: QueryCheck(available=False))

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.phases) and not self.queries.broken

    def failures(self) -> list[str]:
        """One line per thing that went wrong: failed phases, then statements green no longer compiles."""
        lines = [f"{p.run}: {p.phase}: {p.detail}" for p in self.phases if not p.ok]
        lines += [f"query no longer compiles under green: {b.query} ({b.error})" for b in self.queries.broken]
        return lines

    def summary(self) -> str:
        failures = self.failures()
        if not failures:
            return f"rehearsal of {self.migration} passed ({len(self.phases)} phases on {self.scratch})"
        return f"rehearsal of {self.migration} failed: " + "; ".join(failures)


def render(report: RehearsalReport) -> str:
    """The report as text: each run's phases, the sample, the statements checked."""
    lines = [f"rehearsal of {report.migration} on {report.scratch}"]
    rows = sum(report.sampled_rows.values())
    lines.append(f"  sample: {rows} rows of {len(report.sampled_rows)} tables")
    run = None
    for p in report.phases:
        if p.run != run:
            run = p.run
            lines.append(f"  {run}:")
        lines.append(f"    {p.phase}: {'ok' if p.ok else 'FAILED'}: {p.detail}")
    q = report.queries
    if not q.available:
        lines.append(f"  application queries: not checked ({q.note})")
    else:
        lines.append(
            f"  application queries: {q.checked} checked under blue and green, {len(q.broken)} no longer compile"
            + (f", {q.failing_under_both} compile under neither" if q.failing_under_both else "")
            + (f" ({q.note})" if q.note else "")
        )
        lines += [f"    BROKEN ({b.calls} calls): {b.query}\n      {b.error}" for b in q.broken]
    lines.append(f"  result: {'passed' if report.ok else 'FAILED'}")
    return "\n".join(lines) + "\n"
