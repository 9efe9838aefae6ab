"""`liveshift dev`: the embedded stack (PostgreSQL, Temporal dev server + Web UI, a worker) until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from typing import NoReturn

from temporalio.client import Client

from liveshift.cli.config import connect
from liveshift.cli.control import emit_json
from liveshift.cli.options import add_command, add_json_option, add_stack_options
from liveshift.cli.process import Exit, exit_now, interrupt_on_signals
from liveshift.cli.stack.dev import DevStack, default_data_dir
from liveshift.worker.config import Settings, TemporalSettings

WORKER_RESTART_DELAY_S = 2.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "dev",
        help="run the embedded dev stack",
        description="Start embedded PostgreSQL, the Temporal dev server with its Web UI, and a liveshift worker; "
        "print the addresses and stay up until interrupted. State (databases, workflows) lives in the data "
        "directory and survives a restart. Exit codes: 0 stopped by Ctrl-C/SIGTERM, 2 the stack could not start.",
        run=run,
        json=False,
        connection=False,
    )
    add_stack_options(parser, "state directory (default: ./.liveshift if present, else ~/.liveshift)")
    parser.add_argument(
        "--pg-port", type=int, metavar="PORT", help="PostgreSQL port (default: a free one, then as last time)"
    )
    parser.add_argument(
        "--metrics-port", type=int, metavar="PORT", help="the worker's Prometheus port (default: a free one)"
    )
    parser.add_argument("--no-worker", action="store_true", help="run no worker; start one with `liveshift worker`")
    add_json_option(parser, "print one JSON line once everything is ready")


def _print_human(info: dict[str, object], stack: DevStack) -> None:
    print(
        f"""liveshift dev stack is up (data in {info["data_dir"]})
  Temporal      {info["temporal_address"]}  namespace {info["namespace"]}
  Temporal UI   {info["ui_url"]}
  PostgreSQL    {info["postgres_dsn"]}  (target "{info["target"]}")
  worker        {info["worker"]}{f"  metrics {info['metrics_url']}" if info["metrics_url"] else ""}
  logs          {stack.worker_log}, {stack.data_dir / "temporal" / "temporal.log"}, \
{stack.data_dir / "postgres" / "postgres.log"}

In another shell:
  export LIVESHIFT_CONFIG={info["config"]} LIVESHIFT_UI_URL={info["ui_url"]}
  liveshift start examples/users_email_lower.yaml --target {info["target"]} --wait
Ctrl-C stops the stack; state stays in the data directory.""",
        flush=True,
    )


async def _serve(stack: DevStack, as_json: bool) -> None:
    assert stack.temporal is not None
    client: Client = await connect(Settings(temporal=TemporalSettings(address=stack.temporal.address)))
    if stack.with_worker:
        await stack.wait_for_worker(client)
    info = stack.describe()
    if as_json:
        emit_json(info)
    else:
        _print_human(info, stack)
    while True:
        await asyncio.sleep(1.0)
        if stack.with_worker and not stack.worker_alive():
            code = stack.worker.returncode if stack.worker else None
            sys.stderr.write(f"liveshift dev: the worker exited ({code}); restarting it, see {stack.worker_log}\n")
            await asyncio.sleep(WORKER_RESTART_DELAY_S)
            stack.start_worker()
        if not stack.temporal.is_running():
            raise RuntimeError(f"the Temporal dev server stopped; see {stack.temporal.log_file}")


def run(args: argparse.Namespace) -> NoReturn:
    exit_now(_run(args))


def _run(args: argparse.Namespace) -> int:
    interrupt_on_signals()
    stack = DevStack(
        args.data_dir or default_data_dir(),
        temporal_port=args.port,
        ui_port=args.ui_port,
        postgres_port=args.pg_port,
        metrics_port=args.metrics_port,
        with_worker=not args.no_worker,
    )
    started = time.monotonic()
    try:
        stack.start()
        if not args.json:
            sys.stderr.write(f"started PostgreSQL and Temporal in {time.monotonic() - started:.1f}s\n")
        asyncio.run(_serve(stack, args.json))
    except KeyboardInterrupt:
        if not args.json:
            sys.stderr.write("stopping the dev stack…\n")
        return Exit.OK
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        sys.stderr.write(f"liveshift dev: {detail[0] if detail else exc}\n")
        return Exit.REFUSED
    except (RuntimeError, TimeoutError, OSError) as exc:
        sys.stderr.write(f"liveshift dev: {exc}\n")
        return Exit.REFUSED
    finally:
        stack.stop()
    return Exit.OK
