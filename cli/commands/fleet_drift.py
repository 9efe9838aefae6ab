"""`liveshift fleet drift`: which members of a fleet are at which version, and which differ from their history.

Read by the worker (it alone reaches the databases) through FleetDriftWorkflow; see liveshift/fleet/drift.py.
"""

from __future__ import annotations

import argparse

from rich.table import Table
from temporalio.client import Client

from liveshift.activities.payloads import FleetDriftInput
from liveshift.cli import control
from liveshift.cli.config import CliError
from liveshift.cli.control import ask_worker
from liveshift.cli.options import add_command, command_group
from liveshift.cli.process import Exit
from liveshift.cli.render import console
from liveshift.fleet.drift import DriftReport, MemberDrift
from liveshift.fleet.members import MemberSelector
from liveshift.worker.config import Settings
from liveshift.workflows.fleet_drift import FLEET_DRIFT_WORKFLOW

FLEET_HELP = "act on a fleet: one schema in many databases or schemas"
FLEET_DESCRIPTION = (
    "Fleets are named in the configuration ([fleets.NAME]: a list of targets, a pattern over target names, or a "
    "read-only query returning database or schema names); see docs/operations-guide.md, Fleets."
)
# a report reads every member's catalog, one after the other
ANSWER_TIMEOUT_S = 900.0
# states that make the command exit 1: a member differs from its history, or could not be read
PROBLEMS = {"drifted", "unreachable"}


def register(subparsers: argparse._SubParsersAction) -> None:
    fleet = command_group(subparsers, "fleet", help=FLEET_HELP, description=FLEET_DESCRIPTION)
    parser = add_command(
        fleet,
        "drift",
        run=run,
        help="which members are at which version, and which differ from their recorded history",
        description="Report, for each member of a fleet, the schema's active version, its last completed "
        "migration, the files `liveshift migrate` applied, and whether its catalog (tables, columns, types, "
        "defaults, constraints, indexes, views, sequences, functions, triggers, policies) still has the "
        "fingerprint recorded when that migration completed; differing objects are named. Read by the worker. "
        "Exit codes: 0 no drift, 1 a member drifted or could not be read, 2 bad input (unknown fleet or target), "
        "no worker answering or Temporal unreachable.",
    )
    parser.set_defaults(command="fleet drift")  # refusals read `liveshift fleet drift: …`
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--fleet", metavar="NAME", help="a fleet of the worker's configuration ([fleets.NAME])")
    which.add_argument("--target", action="append", metavar="NAME", help="a target (repeat for several)")
    which.add_argument("--pattern", metavar="GLOB", help="the configured targets whose names match (fnmatch)")
    parser.add_argument("--schemas", metavar="S,…", help="with --target or --pattern: one member per schema")
    parser.add_argument(
        "--schema", default="public", help="the migrated schema of members that name none (default public)"
    )


def request_of(args: argparse.Namespace) -> FleetDriftInput:
    if args.fleet:
        if args.schemas:
            raise CliError("--schemas goes with --target or --pattern; a fleet names its own schemas")
        return FleetDriftInput(fleet=args.fleet, schema_name=args.schema)
    schemas = [s.strip() for s in (args.schemas or "").split(",") if s.strip()]
    selector = MemberSelector(targets=args.target or [], pattern=args.pattern, schemas=schemas)
    return FleetDriftInput(selector=selector, schema_name=args.schema)


async def ask_drift(client: Client, settings: Settings, request: FleetDriftInput) -> DriftReport:
    """Run FleetDriftWorkflow on the worker's task queue; a refusal is a CliError."""
    return await ask_worker(
        client,
        settings,
        FLEET_DRIFT_WORKFLOW,
        request,
        DriftReport,
        id_prefix="liveshift-fleet-drift",
        summary=f"liveshift fleet drift {request.fleet or '(selector)'}",
        answer_within_s=ANSWER_TIMEOUT_S,
    )


def report_json(report: DriftReport) -> dict[str, object]:
    return {
        "by_version": report.by_version(),
        "drifted": [m.key for m in report.drifted()],
        "members": [m.model_dump(mode="json") for m in report.members],
    }


def _change_summary(member: MemberDrift) -> str:
    if member.error:
        return member.error
    listed = ", ".join(f"{c.change} {c.object}" for c in member.changes)
    more = member.changed_objects - len(member.changes)
    return f"{listed} and {more} more" if more > 0 else listed


def drift_tables(report: DriftReport) -> list[Table]:
    """Members per migration, then one row per member with its state and the objects that differ."""
    versions = Table(
        title="members per migration (last file applied, else last migration completed)", title_justify="left"
    )
    for column in ("AT", "MEMBERS", "KEYS"):
        versions.add_column(column)
    for version, keys in report.by_version().items():
        versions.add_row(version, str(len(keys)), " ".join(keys))
    members = Table(title="members", title_justify="left")
    for column in ("MEMBER", "SCHEMA", "ACTIVE VERSION", "LAST MIGRATION", "FILES", "STATE", "DIFFERS"):
        members.add_column(column)
    for m in report.members:
        files = f"{m.files_applied} (last {m.last_file})" if m.last_file else "0"
        members.add_row(
            m.key, m.schema_name, m.version or "-", m.last_migration or "-", files, m.state, _change_summary(m)
        )
    return [versions, members]


def run(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        report = await ask_drift(client, settings, request_of(args))
        if args.json:
            control.emit_json(report_json(report))
        else:
            out = console()
            for table in drift_tables(report):
                out.print(table)
        return Exit.FINDINGS if any(m.state in PROBLEMS for m in report.members) else Exit.OK

    return control.run_command(args, body)
