"""`liveshift worker`: run a liveshift worker against the configured Temporal (dev stack or a real cluster)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import NoReturn

from liveshift.cli.config import CliError, settings_from
from liveshift.cli.options import add_command
from liveshift.cli.process import Exit, exit_now
from liveshift.worker.main import run_worker


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "worker",
        help="run a liveshift worker",
        description="Run the workflow and activities against the configured Temporal; database targets come from "
        "LIVESHIFT_TARGET_<NAME> or [targets] in the LIVESHIFT_CONFIG file. Stops cleanly on SIGINT/SIGTERM "
        "(in-flight backfill resumes from its checkpoint on any worker). Exit codes: 0 stopped, 2 bad configuration.",
        run=run,
        json=False,
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve liveshift metrics on this port (default: the config's [metrics] port, else none; 0: off)",
    )


def run(args: argparse.Namespace) -> NoReturn:
    try:
        settings = settings_from(args)
    except CliError as exc:
        sys.stderr.write(f"liveshift worker: {exc}\n")
        exit_now(Exit.REFUSED)
    if args.metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": args.metrics_port or None})

    logging.basicConfig(
        level=os.environ.get("LIVESHIFT_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        targets = ", ".join(sorted(settings.targets)) or "none (set LIVESHIFT_TARGET_<NAME>)"
        sys.stderr.write(
            f"liveshift worker: Temporal {settings.temporal.address} namespace {settings.temporal.namespace} "
            f"task queue {settings.temporal.task_queue}; targets: {targets}\n"
        )
        await run_worker(settings, stop=stop)

    asyncio.run(main())
    exit_now(Exit.OK)
