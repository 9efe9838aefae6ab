"""How the CLI reaches Temporal: the worker's own settings (worker/config.py: config file in LIVESHIFT_CONFIG,
LIVESHIFT_* environment) with command-line overrides, connected the worker's way (worker/client.py)."""

from __future__ import annotations

import argparse

from temporalio.client import Client

from liveshift.errors import SpecError
from worker.client import connect as worker_connect
from worker.config import Settings, load_settings


class CliError(Exception):
    """A request that cannot be carried out; its message is the one line the operator reads (exit code 2)."""


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Temporal connection (default: LIVESHIFT_CONFIG file, then LIVESHIFT_* env)")
    group.add_argument("--config", metavar="FILE", help="TOML or YAML config file (default: $LIVESHIFT_CONFIG)")
    group.add_argument("--address", metavar="HOST:PORT", help="Temporal frontend (default: localhost:7233)")
    group.add_argument("--namespace", metavar="NS", help="Temporal namespace (default: default)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")


def settings_from(args: argparse.Namespace) -> Settings:
    try:
        settings = load_settings(path=getattr(args, "config", None))
    except (OSError, ValueError, SpecError) as exc:
        raise CliError(f"cannot read the configuration: {exc}") from None
    overrides = {k: v for k in ("address", "namespace") if (v := getattr(args, k, None))}
    if overrides:
        settings = settings.model_copy(update={"temporal": settings.temporal.model_copy(update=overrides)})
    return settings


async def connect(settings: Settings) -> Client:
    """The worker's own way of connecting (worker/client.py): TLS, API key, pydantic data converter."""
    try:
        return await worker_connect(settings)
    except Exception as exc:
        t = settings.temporal
        raise CliError(f"cannot reach Temporal at {t.address} (namespace {t.namespace}): {exc}") from None
