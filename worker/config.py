"""The worker's own configuration: Temporal connection, metrics ports, and database targets.

Connection strings live only here (the worker's environment or config file), never in workflow
input, memo, search attributes or history: a migration names a target, the worker resolves it.

Sources, later ones winning:
  1. a TOML or YAML file whose path is in LIVESHIFT_CONFIG:

        [temporal]
        address = "localhost:7233"
        namespace = "default"
        task_queue = "liveshift"
        tls_cert = "/etc/liveshift/client.pem"   # with tls_key: mutual TLS
        tls_key = "/etc/liveshift/client.key"
        api_key = "..."                          # Temporal Cloud API key (implies TLS)
        [metrics]
        port = 9464        # liveshift metrics (prometheus-client); omit to disable
        sdk_port = 9465    # the Temporal SDK's own metrics; omit to disable
        [targets]
        app = "postgresql://liveshift@db:5432/app"

  2. the environment: LIVESHIFT_TEMPORAL_ADDRESS, LIVESHIFT_TEMPORAL_NAMESPACE, LIVESHIFT_TASK_QUEUE,
     LIVESHIFT_TEMPORAL_TLS_CERT, LIVESHIFT_TEMPORAL_TLS_KEY, LIVESHIFT_TEMPORAL_API_KEY,
     LIVESHIFT_METRICS_PORT, LIVESHIFT_SDK_METRICS_PORT, and LIVESHIFT_TARGET_<NAME>=<dsn> (NAME is
     lower-cased: LIVESHIFT_TARGET_APP names target `app`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, SecretStr

from liveshift.errors import SpecError
from workflows.models import TASK_QUEUE

TARGET_PREFIX = "LIVESHIFT_TARGET_"


class TemporalSettings(BaseModel):
    address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = TASK_QUEUE
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    api_key: SecretStr | None = None


class Settings(BaseModel):
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)
    metrics_port: int | None = None
    sdk_metrics_port: int | None = None
    metrics_host: str = "0.0.0.0"
    # target name -> connection string; SecretStr keeps DSNs out of reprs and logs
    targets: dict[str, SecretStr] = Field(default_factory=dict)

    def dsn_for(self, target: str) -> str:
        dsn = self.targets.get(target)
        if dsn is None:
            known = ", ".join(sorted(self.targets)) or "none"
            raise SpecError(
                f"unknown target {target!r}: this worker knows {known} "
                f"(set {TARGET_PREFIX}{target.upper()} or [targets] in LIVESHIFT_CONFIG)",
                field="target",
            )
        return dsn.get_secret_value()


def _read_file(path: Path) -> dict[str, Any]:
    text = path.read_text()
    data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
    if not isinstance(data, dict):
        raise SpecError("the configuration file must hold a table/mapping", file=str(path))
    return data


def load_settings(env: Mapping[str, str] | None = None, path: str | Path | None = None) -> Settings:
    """Settings from the config file (LIVESHIFT_CONFIG or `path`) overridden by the environment."""
    env = os.environ if env is None else env
    file = path or env.get("LIVESHIFT_CONFIG")
    data = _read_file(Path(file)) if file else {}
    temporal: dict[str, Any] = dict(data.get("temporal") or {})
    metrics: dict[str, Any] = dict(data.get("metrics") or {})
    targets: dict[str, Any] = {str(k): str(v) for k, v in (data.get("targets") or {}).items()}

    for key, field in (
        ("LIVESHIFT_TEMPORAL_ADDRESS", "address"),
        ("LIVESHIFT_TEMPORAL_NAMESPACE", "namespace"),
        ("LIVESHIFT_TASK_QUEUE", "task_queue"),
        ("LIVESHIFT_TEMPORAL_TLS_CERT", "tls_cert"),
        ("LIVESHIFT_TEMPORAL_TLS_KEY", "tls_key"),
        ("LIVESHIFT_TEMPORAL_TLS_CA", "tls_ca"),
        ("LIVESHIFT_TEMPORAL_API_KEY", "api_key"),
    ):
        if env.get(key):
            temporal[field] = env[key]
    for key, field in (("LIVESHIFT_METRICS_PORT", "port"), ("LIVESHIFT_SDK_METRICS_PORT", "sdk_port")):
        if env.get(key):
            metrics[field] = int(env[key])
    for key, value in env.items():
        if key.startswith(TARGET_PREFIX) and len(key) > len(TARGET_PREFIX):
            targets[key[len(TARGET_PREFIX) :].lower()] = value

    return Settings(
        temporal=TemporalSettings(**temporal),
        metrics_port=metrics.get("port"),
        sdk_metrics_port=metrics.get("sdk_port"),
        metrics_host=metrics.get("host", "0.0.0.0"),
        targets=targets,
    )
