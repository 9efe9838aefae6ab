"""A rehearsal: the migration run on a scratch clone of the target, every phase, and rollback from each.

On one clone, in this order (contract is irreversible, so it comes last):

    rollback from expand:   expand, rollback                       (the catalog must be as before)
    rollback from backfill: expand, backfill, rollback
    rollback from verify:   expand, backfill, verify, rollback
    rollback from cutover:  expand, backfill, verify, cutover, rollback
    forward:                expand, backfill, verify, cutover, contract

each phase the core call the workflow's activity makes (liveshift.phases), each reported with what it did or the
error that ended it. After the first expand both versions exist, and the application's recorded statements are
planned under each (queries.py). A run whose phase fails stops there and leaves the clone in an unknown state, so
the rehearsal stops too: what failed is the finding.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

from liveshift import phases
from liveshift.catalog import read_catalog
from liveshift.connections import open_session
from liveshift.errors import describe
from liveshift.rehearsal.clone import SAMPLE_ROWS, clone
from liveshift.rehearsal.queries import Statement, check_statements, read_statements
from liveshift.rehearsal.report import PhaseOutcome, QueryCheck, RehearsalReport
from liveshift.rehearsal.scratch import scratch_database
from liveshift.spec import Migration
from liveshift.store.record import load_record
from liveshift.values import Throttle

BEFORE_CONTRACT = ("expand", "backfill", "verify", "cutover")
FORWARD = "forward"


def rehearse(
    target_dsn: str,
    migration: Migration,
    *,
    file: str | None = None,
    scratch_dsn: str | None = None,
    rows: int = SAMPLE_ROWS,
) -> RehearsalReport:
    """Clone the target (schema and a sample of `rows` rows per table) into a scratch database, rehearse the
    migration there, and drop it. Refused (SpecError) without a scratch target or a role that may create one."""
    with open_session(target_dsn) as target:
        statements, note = read_statements(target)
    with scratch_database(target_dsn, scratch_dsn) as scratch:
        report = RehearsalReport(migration=migration.name, scratch=scratch.description)
        report.sampled_rows = clone(target_dsn, scratch.dsn, rows)
        with open_session(scratch.dsn) as conn:
            Rehearsal(conn, migration, file, report, statements).run_all()
    if statements is None:
        report.queries = QueryCheck(available=False, note=note)
    elif note:
        report.queries.note = "; ".join(n for n in (report.queries.note, note) if n)
    return report


class Rehearsal:
    """The runs on one clone, recording each phase's outcome in the report."""

    def __init__(
        self,
        conn: psycopg.Connection,
        migration: Migration,
        file: str | None,
        report: RehearsalReport,
        statements: list[Statement] | None,
    ) -> None:
        self.conn, self.m, self.file, self.report = conn, migration, file, report
        self.statements = statements
        self.before = self._catalog()

    def run_all(self) -> None:
        for stop in BEFORE_CONTRACT:
            run = f"rollback from {stop}"
            if not self._through(run, stop) or not self._phase(run, "rollback", self._rollback):
                return
        if self._through(FORWARD, "cutover"):
            self._phase(FORWARD, "contract", self._contract)

    def _through(self, run: str, last: str) -> bool:
        steps: dict[str, Callable[[], str]] = {
            "expand": self._expand,
            "backfill": self._backfill,
            "verify": self._verify,
            "cutover": self._cutover,
        }
        return all(
            self._phase(run, phase, steps[phase]) for phase in BEFORE_CONTRACT[: BEFORE_CONTRACT.index(last) + 1]
        )

    def _phase(self, run: str, phase: str, call: Callable[[], str]) -> bool:
        started = time.monotonic()
        try:
            detail = call()
            ok = True
        except Exception as exc:  # what ended the phase is the finding, whatever it is
            detail, ok = describe(exc), False
        took = f" ({time.monotonic() - started:.1f} s)"
        self.report.phases.append(PhaseOutcome(run=run, phase=phase, ok=ok, detail=detail + (took if ok else "")))
        return ok

    # the phases, as the workflow's activities call them

    def _expand(self) -> str:
        plan = phases.prepare(self.conn, self.m, self.file)
        phases.expand(self.conn, self.m.name)
        if self.statements is not None and not self.report.queries.available:  # once: both versions exist now
            self.report.queries = check_statements(self.conn, self.statements, plan.blue, plan.green)
        return f"{len(plan.phases()['expand'])} steps"

    def _backfill(self) -> str:
        done = []
        for table in phases.plan_backfill(self.conn, self.m.name, 1):
            rows = sum(
                phases.backfill_partition(
                    self.conn, self.m.name, table=table.table, partition=p, throttle=Throttle()
                ).rows_done
                for p in range(table.partitions)
            )
            done.append(f"{table.table} {rows} rows")
        return ", ".join(done) or "nothing to backfill"

    def _verify(self) -> str:
        phases.validate_constraints(self.conn, self.m.name)
        report = phases.verify(self.conn, self.m.name)
        if not report.ok:
            raise RuntimeError(report.summary())
        return report.summary() if report.tables else "nothing to verify"

    def _cutover(self) -> str:
        phases.cutover(self.conn, self.m.name)
        return "green is the active version"

    def _contract(self) -> str:
        steps = len(phases.plan_of(load_record(self.conn, self.m.name)).phases()["contract"])
        phases.contract(self.conn, self.m.name)
        return f"{steps} steps"

    def _rollback(self) -> str:
        phases.rollback(self.conn, self.m.name, reason="rehearsal")
        changed = _differences(self.before, self._catalog())
        if changed:
            raise RuntimeError(f"the catalog differs from before expand: {', '.join(changed)}")
        return "the catalog is as before expand"

    def _catalog(self) -> dict[str, Any]:
        catalog = read_catalog(self.conn, self.m.schema_name)
        # an index's size is not its shape: the backfill grows it, and a rollback leaves it grown
        sizes = {"tables": {"__all__": {"indexes": {"__all__": {"bytes"}}}}}
        return catalog.model_dump(mode="json", exclude={"names": True, "volatile_functions": True, **sizes})


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two catalog snapshots: tables by name, else the other parts by key."""
    tables = set(before["tables"]) | set(after["tables"])
    changed = [f"table {t}" for t in sorted(tables) if before["tables"].get(t) != after["tables"].get(t)]
    changed += [key for key in before if key != "tables" and before[key] != after.get(key)]
    return changed
