"""`liveshift plan FILE --dsn DSN`: validate a migration against the live catalog and print its steps.

Nothing is written: the session is read-only and `preflight.validate` only reads the catalog and
compiles expressions in rolled-back read-only transactions. Exit 0 when valid, 2 when not.

`--rehearse` then runs the whole migration on a scratch clone of the target (liveshift/rehearsal/): every phase
through contract and rollback from each phase before it, and the application's recorded statements under blue
and green; exit 1 when the rehearsal found a failure. The target itself is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import psycopg
from pydantic import ValidationError

from liveshift import preflight
from liveshift.backfill import space
from liveshift.backfill.partitions import estimate_rows
from liveshift.backfill.rebuild import built_sizes, rebuild_steps
from liveshift.backfill.replication import logical_slots, primary_standbys
from liveshift.cli.options import (
    add_command,
    add_json_option,
    add_replication_options,
    add_space_options,
    replication_from,
    space_throttle,
)
from liveshift.cli.process import Exit, interrupt_on_signals
from liveshift.connections import open_session
from liveshift.ddl.steps import Step
from liveshift.dependents.carry import WHAT_HAPPENS
from liveshift.errors import LiveshiftError, SpecError
from liveshift.plan import BackfillTarget, MigrationPlan
from liveshift.rehearsal.clone import SAMPLE_ROWS
from liveshift.rehearsal.report import RehearsalReport, render
from liveshift.rehearsal.run import rehearse
from liveshift.spec import Migration, load_migration
from liveshift.values import ReplicationLimits, Throttle
from liveshift.versions import grants

PHASE_NOTES = {
    "expand": "old and new shapes side by side; blue keeps working",
    "validate": "after backfill: validate the constraints expand added NOT VALID; indexes (re)built concurrently",
    "contract": "after cutover, irreversible: remove the old shape",
    "rollback": "any time before contract: undo expand, keep every row",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "plan",
        help="validate a migration file against a live database and print its steps",
        description="Validate FILE against the live catalog (nothing is written) and print, phase by phase, "
        "each statement with the lock it takes, the grants that give the tables' roles the versions, and the "
        "replication limits the backfill holds at (those the replication options give) with the replicas' lag "
        "now. With --rehearse, then run the whole migration on a scratch clone of the target (schema, grants, "
        "a sample of rows): every phase through contract, rollback from each phase before it, and the "
        "application's statements recorded by pg_stat_statements compiled under blue and green. Exit 0 when valid "
        "(and rehearsed), 1 when the rehearsal failed, 2 when not valid or the rehearsal was refused.",
        run=run,
        json=False,
        connection=False,
    )
    parser.add_argument("file", metavar="FILE", help="migration file (YAML or JSON)")
    parser.add_argument(
        "--dsn",
        default=os.environ.get("LIVESHIFT_DSN"),
        help="PostgreSQL connection string (default: $LIVESHIFT_DSN)",
    )
    add_json_option(parser, "print the plan as JSON")
    add_space_options(parser)
    add_replication_options(parser)
    add_rehearsal_options(parser)


def add_rehearsal_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rehearsal (docs/operations-guide.md, Rehearsing a migration)")
    group.add_argument(
        "--rehearse",
        action="store_true",
        help="run every phase, and rollback from each, on a scratch clone of the target first; needs a scratch "
        "database (--scratch-dsn) or a role that may create databases (CREATEDB)",
    )
    group.add_argument(
        "--scratch-dsn",
        default=os.environ.get("LIVESHIFT_SCRATCH_DSN"),
        help="an empty database the rehearsal may fill and empties afterwards (default: $LIVESHIFT_SCRATCH_DSN; "
        "without it the rehearsal creates and drops a database on the target's server)",
    )
    group.add_argument(
        "--sample-rows",
        type=int,
        default=SAMPLE_ROWS,
        metavar="N",
        help=f"rows of each table copied into the scratch database (default {SAMPLE_ROWS})",
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _refuse(args: argparse.Namespace, message: str, error: SpecError | None = None) -> int:
    line = _one_line(message)
    if args.json:
        out: dict[str, Any] = {"valid": False, "error": line}
        if error is not None:
            out.update(file=error.file, index=error.index, op=error.op, field=error.field)
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stderr.write(f"liveshift plan: {line}\n")
    return Exit.REFUSED


def _step_json(step: Step, conn: psycopg.Connection) -> dict[str, Any]:
    return {
        "description": step.description,
        "lock": step.label,
        "transactional": step.transactional,
        "unchecked": step.unchecked,
        "statement": step.statement.as_string(conn),
    }


def throttle_json(conn: psycopg.Connection, limits: ReplicationLimits) -> dict[str, Any]:
    """The replication limits the backfill holds at (the options given to plan, as `liveshift start` takes
    them, else the defaults), and what the target's standbys and logical slots lag now."""
    return {
        "limits": limits.model_dump(mode="json"),
        "standbys": [vars(s) for s in primary_standbys(conn)],
        "logical_slots": [vars(s) for s in logical_slots(conn)],
    }


def _throttle_lines(throttle: dict[str, Any]) -> list[str]:
    limits = ReplicationLimits.model_validate(throttle["limits"])
    lines = [
        f"  holds while a standby's replay lags > {limits.max_replica_lag_s:g} s "
        f"(> {limits.max_replica_lag_bytes.human_readable(decimal=False)} of WAL where no time is reported) "
        f"or a logical slot retains > {limits.max_slot_wal.human_readable(decimal=False)} of WAL; "
        f"slows beyond {limits.slow_above:.0%} of a limit",
        "  (per migration: liveshift start --max-replica-lag, --max-slot-wal, --standby, --probe-query; "
        "the same options here show their limits)",
    ]
    if limits.health_query is not None:
        bound = limits.max_health_latency_ms
        lines.append(f"  holds while the health query takes > {bound:g} ms: {limits.health_query}")
    if limits.standbys:
        lines.append(f"  polls the standbys (worker targets): {', '.join(limits.standbys)}")
    for s in throttle["standbys"]:
        lag = "not reported" if s["seconds"] is None else f"{s['seconds']:.1f} s"
        lines.append(f"  now: standby {s['name']} replay lag {lag}, {s['bytes']} bytes of WAL behind")
    for s in throttle["logical_slots"]:
        lines.append(f"  now: logical slot {s['name']} retains {s['retained_bytes']} bytes of WAL")
    return lines


def plan_json(
    plan: MigrationPlan,
    conn: psycopg.Connection,
    limits: ReplicationLimits | None = None,
    throttle: Throttle | None = None,
) -> dict[str, Any]:
    """The plan as plain data: what `--json` prints and what the human rendering is made from (with the
    replication limits and the backfill's free-space reuse and spread given, else the defaults)."""
    throttle = throttle or Throttle()
    return {
        "valid": True,
        "migration": plan.migration.name,
        "schema": plan.schema,
        "blue": plan.blue,
        "green": plan.green,
        "creates_blue": plan.create_blue,
        "unchecked": any(p.unchecked for _, _, p in plan.ops),
        "phases": {phase: [_step_json(step, conn) for step in steps] for phase, steps in _phases(plan, conn).items()},
        "backfill": [
            {
                "table": target.table,
                "key": list(target.key),
                "path": target.path,
                "rows_estimate": estimate_rows(conn, plan.schema, target.table),
                "space": _space_json(_space_estimate(conn, plan, target, throttle), throttle),
            }
            for target in plan.backfill_targets()
        ],
        "throttle": throttle_json(conn, limits or ReplicationLimits()),
        "verify": [
            {"table": t.table, "direction": t.direction, "column": t.target, "expression": t.expression}
            for t in plan.transforms
        ]
        + [{"table": c.table, "check": c.description, "predicate": c.predicate} for c in plan.checks],
        "grants": [statement.as_string(conn) for statement in grants.planned_statements(conn, plan)],
        # every object that reads a column or table contract removes or renames, and what happens to it
        "dependents": [
            {
                "object": c.dependent.key,
                "kind": c.dependent.kind,
                "action": c.action,
                "what_happens": WHAT_HAPPENS[c.action],
                "because": c.because,
            }
            for c in plan.carried
        ],
    }


def _phases(plan: MigrationPlan, conn: psycopg.Connection) -> dict[str, list[Step]]:
    """The plan's phases; validate with the index rebuilds that follow the backfill (each skipped at run time unless
    its index grew past the threshold)."""
    phases = plan.phases()
    phases["validate"] = [*phases.get("validate", []), *rebuild_steps(conn, plan)]
    return phases


def _space_estimate(
    conn: psycopg.Connection, plan: MigrationPlan, target: BackfillTarget, throttle: Throttle
) -> space.SpaceEstimate:
    rebuilt, built_after = built_sizes(plan, target), built_sizes(plan, target, "validate")
    return space.estimate(conn, plan.schema, target, throttle, rebuilt, built_after)


def _space_json(estimate: space.SpaceEstimate, throttle: Throttle) -> dict[str, Any]:
    return {
        "heap_bytes": estimate.heap,
        "index_bytes": estimate.indexes,
        "row_bytes_before": round(estimate.row_before, 1),
        "row_bytes_after": round(estimate.row_after, 1),
        "reclaim_every": throttle.reclaim_every,
        "spread": throttle.spread,
        "peak_extra_bytes": estimate.peak_extra,
        "heap_extra_bytes": estimate.heap_extra,
        "index_extra_bytes": estimate.index_extra,
        "rebuild_copy_bytes": estimate.rebuild_copy,
        "remains_bytes": estimate.remains,
    }


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MiB"


def _space_line(s: dict[str, Any]) -> str:
    reuse = (
        f"a VACUUM after every {s['reclaim_every']:.0%} of the rows reuses the space of the rows done"
        if s["reclaim_every"]
        else "no VACUUM during the backfill"
    )
    spread = f"key runs {s['spread']} apart" if s["spread"] > 1 else "consecutive keys (the key's index doubles)"
    rebuild = (
        f", then a rebuilt index's copy +{_mib(s['rebuild_copy_bytes'])}; the doubled indexes are rebuilt"
        if s["rebuild_copy_bytes"]
        else ""
    )
    return (
        f"    space: {_mib(s['heap_bytes'])} heap + {_mib(s['index_bytes'])} indexes now; rows "
        f"{s['row_bytes_before']:g} -> {s['row_bytes_after']:g} bytes; at the peak +{_mib(s['peak_extra_bytes'])} "
        f"(heap +{_mib(s['heap_extra_bytes'])}, indexes +{_mib(s['index_extra_bytes'])}{rebuild}), of which "
        f"+{_mib(s['remains_bytes'])} remains after contract (the heap's file does not shrink); {reuse}; {spread}"
    )


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_text(data: dict[str, Any]) -> str:
    lines = [
        f"migration {data['migration']} on schema {data['schema']}: valid",
        f"blue (old apps): {data['blue']}{' (created by this migration)' if data['creates_blue'] else ''}",
        f"green (new apps): {data['green']}",
    ]
    if data["unchecked"]:
        lines.append("WARNING: contains raw SQL; its steps are UNCHECKED (locks and effects unknown to liveshift)")

    def phase(name: str) -> None:
        steps = data["phases"][name]
        lines.append("")
        lines.append(f"{name} ({len(steps)} steps): {PHASE_NOTES[name]}")
        for number, step in enumerate(steps, 1):
            flag = "  [UNCHECKED raw SQL]" if step["unchecked"] else ""
            outside = "" if step["transactional"] else ", outside a transaction"
            lines.append(f"  {number}. {step['description']}{flag}")
            lines.append(f"     lock: {step['lock']}{outside}")
            lines.append(_indent(step["statement"], "       "))

    phase("expand")
    lines.append("")
    lines.append(f"backfill ({len(data['backfill'])} tables): batches, each committed with its checkpoint")
    for target in data["backfill"]:
        key = f"key ({', '.join(target['key'])})" if target["key"] else "no key: ctid block ranges"
        how = {
            "direct": "the UPDATE computes the new columns (trigger skipped)",
            "trigger": "the dual-write trigger computes the new columns (chained up expressions)",
        }[target["path"]]
        lines.append(f"  {target['table']}: {key}, about {target['rows_estimate']} rows; row locks only; {how}")
        lines.append(_space_line(target["space"]))
    lines.extend(_throttle_lines(data["throttle"]))
    phase("validate")
    lines.append("")
    lines.append(f"verify ({len(data['verify'])} comparisons): reads only")
    for item in data["verify"]:
        if "check" in item:
            lines.append(f"  {item['table']}: {item['check']}: {item['predicate']}")
        else:
            lines.append(f"  {item['table']}.{item['column']} = {item['direction']}: {item['expression']}")
    lines.append("")
    lines.append(
        f"grants ({len(data['grants'])} statements): the tables' privileges onto the versions, after expand "
        "and again at verify, cutover and before contract"
    )
    lines += [f"  {statement}" for statement in data["grants"]]
    lines.append("")
    lines.append(
        f"dependents ({len(data['dependents'])} objects that read what contract drops or renames): "
        "untouched before contract"
    )
    for item in data["dependents"]:
        lines.append(f"  {item['object']}: {item['what_happens']} ({item['because']})")
    lines.append("")
    lines.append("cutover: point liveshift.active_versions at green; no DDL, no table lock")
    phase("contract")
    phase("rollback")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if not args.dsn:
        return _refuse(args, "no database: give --dsn or set LIVESHIFT_DSN")
    try:
        migration = load_migration(args.file)
    except SpecError as exc:
        return _refuse(args, str(exc), exc)
    try:
        limits = ReplicationLimits.model_validate(replication_from(args))
    except ValidationError as exc:
        err = exc.errors()[0]
        return _refuse(args, f"option replication.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
    try:
        conn = open_session(args.dsn)
    except psycopg.OperationalError as exc:
        return _refuse(args, f"cannot connect to the database: {exc}")
    with conn:
        # belt and braces: planning must never write, whatever a bug elsewhere might try
        conn.execute("SET default_transaction_read_only = on")
        try:
            plan = preflight.validate(conn, migration, file=args.file)
        except SpecError as exc:
            return _refuse(args, str(exc), exc)
        except LiveshiftError as exc:
            return _refuse(args, f"{args.file}: {exc}")
        data = plan_json(plan, conn, limits, Throttle(**space_throttle(args)))
    if not args.rehearse:
        sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.json else render_text(data))
        return Exit.OK
    try:
        report = _rehearse(args, migration)
    except SpecError as exc:
        return _refuse(args, str(exc), exc)
    data["rehearsal"] = {**report.model_dump(mode="json"), "ok": report.ok}
    sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.json else render_text(data) + "\n" + render(report))
    return Exit.OK if report.ok else Exit.FAILED


def _rehearse(args: argparse.Namespace, migration: Migration) -> RehearsalReport:
    """The rehearsal on a scratch clone, which is dropped however it ends: SIGTERM as Ctrl-C, through `finally`."""
    interrupt_on_signals()
    if not args.json:
        sys.stderr.write("liveshift plan: rehearsing on a scratch clone of the target...\n")
    return rehearse(args.dsn, migration, file=args.file, scratch_dsn=args.scratch_dsn, rows=args.sample_rows)
