"""How the CLI reaches Temporal: the worker's own settings (worker/config.py: config file in LIVESHIFT_CONFIG,
LIVESHIFT_* environment) with command-line overrides, connected the worker's way (worker/client.py)."""

from __future__ import annotations

import argparse

from temporalio.client import Client

from liveshift.errors import SpecError
from liveshift.worker.client import connect as worker_connect
from liveshift.worker.config import Settings, load_settings


class CliError(Exception):
    """A request that cannot be carried out; its message is the one line the operator reads (exit code 2)."""


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
