"""`liveshift fleet start|status|pause|resume|halt|rollback|retry|approve`: one migration across many databases."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client

from liveshift.cli import control
from liveshift.cli.commands.start import add_migration_options, options_from
from liveshift.cli.config import CliError
from liveshift.cli.options import add_command, command_group
from liveshift.cli.process import Exit
from liveshift.errors import SpecError
from liveshift.fleet.members import Member, MemberQuery, MemberSelector
from liveshift.spec import load_migration
from liveshift.worker.config import Settings
from liveshift.workflows.client import AlreadyRunning
from liveshift.workflows.fleet_client import fleet_handle, fleet_request, fleet_status, start_fleet
from liveshift.workflows.fleet_models import HALT, RETRY, FleetApprove, FleetInput, FleetRollback, FleetStatus
from liveshift.workflows.models import APPROVE, DATABASE_SEPARATOR, PAUSE, RESUME, ROLLBACK

EXIT_HELP = "Exit codes: 0 done, 2 bad input, refused, or unknown rollout."


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(
        subparsers,
        "fleet",
        help="roll one migration across many databases or schemas in waves; report drift",
        description="A fleet rollout: one migration across members (configured targets, databases on a target's "
        "server, schemas, or a fleet of the configuration: [fleets.NAME]), canary first, then waves of at most "
        "--max-concurrency members, each member its own migration workflow. A failed member past --failure-budget "
        "halts the rollout: retry, resume or roll back. `fleet drift` reports each member's version and drift. See "
        "docs/operations-guide.md, Fleets.",
    )
    start = add_command(
        commands, "start", help="start a rollout", description=f"Start a rollout. {EXIT_HELP}", run=run_start
    )
    start.set_defaults(command="fleet start")  # refusals read `liveshift fleet start: …`
    add_start_options(start)
    status = add_command(
        commands, "status", help="each member's state and phase", description=EXIT_HELP, run=run_status
    )
    status.set_defaults(command="fleet status")
    status.add_argument("name", help="the rollout's name")
    for name, update, help in (
        ("pause", PAUSE, "no member starts; those in flight pause"),
        ("resume", RESUME, "resume after pause, or go on after a halt (accepting its failures)"),
        ("retry", RETRY, "a halted rollout runs its failed members again"),
    ):
        cmd = add_command(commands, name, help=help, description=f"{help}. {EXIT_HELP}", run=request_runner(update))
        cmd.set_defaults(command=f"fleet {name}")
        cmd.add_argument("name", help="the rollout's name")
    for name, update, help in (
        ("halt", HALT, "no member starts; those in flight finish or roll back (--on-halt)"),
        ("rollback", ROLLBACK, "roll back every member not yet contracted"),
    ):
        cmd = add_command(commands, name, help=help, description=f"{help}. {EXIT_HELP}", run=request_runner(update))
        cmd.set_defaults(command=f"fleet {name}")
        cmd.add_argument("name", help="the rollout's name")
        cmd.add_argument("--reason", default="requested by operator")
    approve = add_command(
        commands, "approve", help="open the next wave, or flip every member", description=EXIT_HELP,
        run=request_runner(APPROVE),
    )  # fmt: skip
    approve.set_defaults(command="fleet approve")
    approve.add_argument("gate", choices=["wave", "flip"])
    approve.add_argument("name", help="the rollout's name")


def add_start_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="migration file (YAML or JSON)")
    parser.add_argument("--name", required=True, help="the rollout's name (letters, digits, . _ -)")
    members = parser.add_argument_group("members (explicit, or a selector the worker resolves)")
    members.add_argument(
        "--member", action="append", default=[], metavar="TARGET[@DATABASE][:SCHEMA]", help="one member (repeat)"
    )
    members.add_argument("--fleet", metavar="NAME", help="a fleet of the worker's configuration ([fleets.NAME])")
    members.add_argument("--targets", type=names, default=[], metavar="A,B", help="these configured targets")
    members.add_argument("--pattern", metavar="GLOB", help="the configured targets whose name matches")
    members.add_argument("--schemas", type=names, default=[], metavar="S1,S2", help="these schemas of each target")
    members.add_argument("--query-target", metavar="TARGET", help="run --query there")
    members.add_argument("--query", metavar="SELECT", help="returns database (or schema) names, one a row")
    members.add_argument("--query-kind", choices=["database", "schema"], default="database")
    waves = parser.add_argument_group("waves")
    waves.add_argument("--canary-members", type=int, metavar="N", help="first wave: the first N members (default 1)")
    waves.add_argument("--canary-member", action="append", default=[], metavar="KEY", help="first wave: these")
    waves.add_argument("--wave-size", type=int, metavar="N", help="members per later wave (default 10)")
    waves.add_argument("--max-concurrency", type=int, metavar="N", help="members in flight at once (default 10)")
    waves.add_argument("--approve-waves", action="store_true", help="each later wave waits for `fleet approve wave`")
    waves.add_argument("--wave-health-sql", metavar="SELECT", help="before each later wave: healthy while true")
    waves.add_argument("--wave-health-prometheus", metavar="URL", help="with --wave-health-query: PromQL health")
    waves.add_argument("--wave-health-query", metavar="PROMQL")
    waves.add_argument("--failure-budget", type=int, default=0, metavar="N", help="failures tolerated (default 0)")
    waves.add_argument("--on-halt", choices=["finish", "rollback"], default="finish", help="members in flight")
    waves.add_argument("--one-flip", action="store_true", help="all members cut over on one `fleet approve flip`")
    add_migration_options(parser)


def names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def member_of(text: str) -> Member:
    """TARGET, TARGET@DATABASE, TARGET:SCHEMA: the member named as written."""
    rest, _, schema = text.partition(":")
    target, _, database = rest.partition(DATABASE_SEPARATOR)
    return Member(key=text, target=target, database=database or None, schema_name=schema or None)


def wave_health(args: argparse.Namespace) -> dict[str, object] | None:
    if args.wave_health_sql:
        return {"kind": "sql", "query": args.wave_health_sql}
    if args.wave_health_prometheus or args.wave_health_query:
        return {"kind": "prometheus", "prometheus_url": args.wave_health_prometheus, "query": args.wave_health_query}
    return None


def selector_of(args: argparse.Namespace) -> dict[str, object] | None:
    query = None
    if args.query or args.query_target:
        query = MemberQuery(target=args.query_target or "", sql=args.query or "", kind=args.query_kind)
    if not (args.targets or args.pattern or query):
        return None
    return MemberSelector(targets=args.targets, pattern=args.pattern, query=query, schemas=args.schemas).model_dump()


def request_from(args: argparse.Namespace) -> FleetInput:
    waves: dict[str, Any] = {"canary_keys": args.canary_member, "approve": args.approve_waves}
    for key, value in (
        ("canary", args.canary_members),
        ("batch_size", args.wave_size),
        ("max_concurrency", args.max_concurrency),
        ("health", wave_health(args)),
    ):
        if value is not None:
            waves[key] = value
    try:
        return FleetInput.model_validate(
            {
                "name": args.name,
                "migration": load_migration(args.file),
                "file": args.file,
                "options": options_from(args),
                "members": [member_of(m) for m in args.member],
                "selector": selector_of(args),
                "fleet": args.fleet,
                "waves": waves,
                "failure_budget": args.failure_budget,
                "on_halt": args.on_halt,
                "one_flip": args.one_flip,
                "started_by": getpass.getuser(),
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = f"option {'.'.join(str(p) for p in err['loc'])}: " if err["loc"] else ""
        raise CliError(f"{where}{err['msg'].removeprefix('Value error, ')}") from None


def run_start(args: argparse.Namespace) -> int:
    try:
        request = request_from(args)
    except (SpecError, CliError) as exc:
        return control.refuse(args, exc)

    async def body(client: Client, settings: Settings) -> int:
        try:
            handle = await start_fleet(client, request, settings.temporal.task_queue)
        except AlreadyRunning as exc:
            raise CliError(f"refused: {exc}") from None
        if args.json:
            control.emit_json({"ok": True, "workflow_id": handle.id, "run_id": handle.result_run_id})
        else:
            print(f"started fleet rollout {request.name} of {request.migration.name}: workflow {handle.id}")
            print(f"follow: liveshift fleet status {request.name}")
        return Exit.OK

    return control.run_command(args, body)


def render_status(status: FleetStatus) -> str:
    counts = ", ".join(f"{n} {state}" for state, n in status.summary().items())
    lines = [
        f"fleet {status.name} ({status.migration}): {status.state}{' (paused)' if status.paused else ''}, "
        f"wave {min(status.wave + 1, len(status.waves))} of {len(status.waves)}: {counts}"
    ]
    if status.reason:
        lines.append(f"reason: {status.reason}")
    for m in status.members:
        phase = f" [{m.phase}]" if m.phase and m.state == "running" else ""
        lines.append(f"  {m.member.key:<30} {m.state}{phase}" + (f": {m.reason}" if m.reason else ""))
    return "\n".join(lines)


def run_status(args: argparse.Namespace) -> int:
    async def body(client: Client, settings: Settings) -> int:
        status = await fleet_status(fleet_handle(client, args.name))
        if args.json:
            control.emit_json({"ok": True, **status.model_dump(mode="json"), "summary": status.summary()})
        else:
            print(render_status(status))
        return Exit.OK

    return control.run_command(args, body)


def request_runner(update: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        arg: Any = None
        if update in (HALT, ROLLBACK):
            arg = FleetRollback(reason=args.reason)
        elif update == APPROVE:
            arg = FleetApprove(gate=args.gate)

        async def body(client: Client, settings: Settings) -> int:
            handle = fleet_handle(client, args.name)
            answer = await fleet_request(handle, update, arg)
            status = await fleet_status(handle)
            if args.json:
                control.emit_json({"ok": True, "answer": answer, **status.model_dump(mode="json")})
            else:
                print(f"{update}: {answer}")
                print(render_status(status))
            return Exit.OK

        return control.run_command(args, body)

    return run
