"""The command-line options several commands share, and the subcommand boilerplate around them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from liveshift.values import ReplicationLimits


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    description: str,
    run: Callable[[argparse.Namespace], Any],
    json: bool = True,
    connection: bool = True,
) -> argparse.ArgumentParser:
    """A subcommand running `run(args)`, with `--json` and the Temporal connection options unless told not to.

    Positional arguments and a migration selector are the command's own to add (their order is the command line's).
    """
    parser = subparsers.add_parser(name, help=help, description=description)
    if json:
        add_json_option(parser)
    if connection:
        add_connection_options(parser)
    parser.set_defaults(run=run)
    return parser


def command_group(
    subparsers: argparse._SubParsersAction, name: str, *, help: str, description: str
) -> argparse._SubParsersAction:
    """The subcommands of a command group (`liveshift fleet drift`, `liveshift fleet start`): the first module to
    ask creates the group, the others add their subcommands to it (cli/main.py registers modules by name)."""
    parser = subparsers.choices.get(name)
    if parser is None:
        parser = subparsers.add_parser(name, help=help, description=description)
        nested = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)
        parser.set_defaults(group_subparsers=nested)
    nested = parser.get_default("group_subparsers")
    assert isinstance(nested, argparse._SubParsersAction)
    return nested


def add_json_option(parser: argparse.ArgumentParser, help: str = "machine-readable JSON on stdout") -> None:
    parser.add_argument("--json", action="store_true", help=help)


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Temporal connection (default: LIVESHIFT_CONFIG file, then LIVESHIFT_* env)")
    group.add_argument("--config", metavar="FILE", help="TOML or YAML config file (default: $LIVESHIFT_CONFIG)")
    group.add_argument("--address", metavar="HOST:PORT", help="Temporal frontend (default: localhost:7233)")
    group.add_argument("--namespace", metavar="NS", help="Temporal namespace (default: default)")


def add_migration_selector(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", nargs="?", help="workflow id (default: the only running migration)")
    parser.add_argument("--migration", metavar="NAME", help="the latest workflow of migration NAME")


def add_stack_options(parser: argparse.ArgumentParser, data_dir_help: str) -> None:
    """Where the embedded stack (`dev`, `demo`) keeps its state and which ports it serves Temporal on."""
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help=data_dir_help)
    parser.add_argument(
        "--port", type=int, metavar="PORT", help="Temporal gRPC port (default 7233 if free, or as last time)"
    )
    parser.add_argument("--ui-port", type=int, metavar="PORT", help="Temporal Web UI port (default gRPC port + 1000)")


def add_lock_options(parser: argparse.ArgumentParser) -> None:
    """How a migration's lock-taking steps wait (LockPolicy); unset options keep the policy's defaults."""
    group = parser.add_argument_group("lock waits of lock-taking steps")
    group.add_argument(
        "--lock-timeout-ms",
        type=int,
        metavar="MS",
        help="lock_timeout of a lock request application statements would queue behind, after waiting outside "
        "the queue for old transactions (default 50); index builds and VALIDATE use "
        "concurrent_lock_timeout_ms (2000)",
    )
    group.add_argument(
        "--terminate-blockers-after",
        type=float,
        metavar="SECONDS",
        help="end (pg_terminate_backend) a backend that blocks a step and whose transaction has been open this "
        "long (default: never); the worker's role must be a superuser or a member of pg_signal_backend, "
        "checked when the migration is prepared",
    )


def lock_policy_from(args: argparse.Namespace) -> dict[str, object]:
    """The LockPolicy fields `add_lock_options` set on the command line."""
    fields = {"lock_timeout_ms": args.lock_timeout_ms, "terminate_blockers_after_s": args.terminate_blockers_after}
    return {key: value for key, value in fields.items() if value is not None}


def add_replication_options(parser: argparse.ArgumentParser) -> None:
    """The replication throttle's limits (`liveshift start` sets them per migration, `liveshift plan` shows them):
    the backfill holds (no batch runs) while a replica lags or the application's probe is slow."""
    limits = ReplicationLimits()
    group = parser.add_argument_group("replication throttle", "the backfill holds while any limit is exceeded")
    group.add_argument(
        "--max-replica-lag",
        type=float,
        metavar="SECONDS",
        help=f"a standby's replay lag (pg_stat_replication) (default {limits.max_replica_lag_s:g})",
    )
    group.add_argument(
        "--max-replica-lag-bytes",
        metavar="SIZE",
        help="a standby's unreplayed WAL where no time lag is reported, e.g. 512MiB (default 1GiB)",
    )
    group.add_argument(
        "--max-slot-wal", metavar="SIZE", help="WAL a logical replication slot retains, e.g. 512MiB (default 1GiB)"
    )
    group.add_argument(
        "--standby",
        action="append",
        metavar="TARGET",
        help="a worker target naming a standby the primary does not list (cascading, managed); repeatable",
    )
    group.add_argument(
        "--probe-query", metavar="SQL", help="an application probe: a SELECT run on the target between batches"
    )
    group.add_argument(
        "--max-probe-latency-ms",
        type=float,
        metavar="MS",
        help=f"hold while --probe-query takes longer (default {limits.max_health_latency_ms:g})",
    )


def replication_from(args: argparse.Namespace) -> dict[str, object]:
    """The replication options given, as `ReplicationLimits` fields (those not given keep their defaults)."""
    return {
        key: value
        for key, value in (
            ("max_replica_lag_s", args.max_replica_lag),
            ("max_replica_lag_bytes", args.max_replica_lag_bytes),
            ("max_slot_wal", args.max_slot_wal),
            ("standbys", args.standby),
            ("health_query", args.probe_query),
            ("max_health_latency_ms", args.max_probe_latency_ms),
        )
        if value is not None
    }


def reclaim_fraction(value: str) -> float:
    """--reclaim-every: a fraction of the table's rows, 0 to 1."""
    try:
        fraction = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: a fraction of the table's rows, e.g. 0.05") from None
    if not 0 <= fraction <= 1:
        raise argparse.ArgumentTypeError(f"{value!r}: between 0 (never) and 1")
    return fraction


def add_space_options(parser: argparse.ArgumentParser) -> None:
    """Free-space reuse during the backfill (liveshift/backfill/reclaim.py) and key runs spread over the key's index
    (keyset.py): `liveshift start` sets them, `liveshift plan` estimates the space with them."""
    parser.add_argument(
        "--reclaim-every",
        type=reclaim_fraction,
        metavar="FRACTION",
        help="VACUUM the table after every FRACTION of its rows backfilled, so later batches reuse the space of "
        "the rows done (default 0.05; 0: never)",
    )
    parser.add_argument(
        "--spread",
        type=int,
        choices=range(1, 1001),
        metavar="RUNS",
        help="a batch takes short runs of keys RUNS runs apart, so the key's index does not double (default 18; "
        "1: consecutive keys; a table walked by several partitions takes 4x, its turns interleaved)",
    )


def space_throttle(args: argparse.Namespace) -> dict[str, object]:
    """The throttle fields `add_space_options` sets (those given)."""
    given = (("reclaim_every", args.reclaim_every), ("spread", args.spread))
    return {key: value for key, value in given if value is not None}
