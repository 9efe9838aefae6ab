"""The worker's own configuration: Temporal connection, metrics ports, and database targets.

Connection strings live only here (the worker's environment or config file), never in workflow
input, memo, search attributes or history: a migration names a target, the worker resolves it.

Sources, later ones winning (read by pydantic-settings, validated by pydantic):
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
        [scratch]          # optional: an empty database per target for `start --rehearse`
        app = "postgresql://rehearsal@scratch-db:5432/scratch"
        [fleets.shards]    # named fleets (liveshift/fleet/members.py): targets, pattern or query
        pattern = "shard*"
        [fleets.tenants.query]   # database per tenant: one member per name the query returns
        target = "app"
        kind = "database"  # or "schema": schema per tenant
        sql = "SELECT datname FROM pg_database WHERE datname LIKE 'tenant%'"

  2. the environment: LIVESHIFT_TEMPORAL_ADDRESS, LIVESHIFT_TEMPORAL_NAMESPACE, LIVESHIFT_TASK_QUEUE,
     LIVESHIFT_TEMPORAL_TLS_CERT, LIVESHIFT_TEMPORAL_TLS_KEY, LIVESHIFT_TEMPORAL_API_KEY,
     LIVESHIFT_METRICS_PORT, LIVESHIFT_SDK_METRICS_PORT, LIVESHIFT_TARGET_<NAME>=<dsn> (NAME is
     lower-cased: LIVESHIFT_TARGET_APP names target `app`) and LIVESHIFT_SCRATCH_<NAME>=<dsn> (target NAME's
     scratch database for rehearsals; without one a rehearsal creates a database with the target's role).

`Settings` is the plain value the worker and the CLI use (tests and the embedded stack build it directly);
`load_settings` reads it from the file and the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from liveshift.errors import SpecError
from liveshift.fleet.members import Member, MemberSelector, member_dsn
from liveshift.workflows.models import DATABASE_SEPARATOR, TASK_QUEUE

ENV_PREFIX = "LIVESHIFT_"
TARGET_PREFIX = f"{ENV_PREFIX}TARGET_"


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
    # target name -> an empty database its rehearsals may fill (liveshift/rehearsal/scratch.py)
    scratch: dict[str, SecretStr] = Field(default_factory=dict)
    # fleet name -> the selector naming its members (`liveshift fleet … --fleet NAME`)
    fleets: dict[str, MemberSelector] = Field(default_factory=dict)

    def fleet(self, name: str) -> MemberSelector:
        selector = self.fleets.get(name)
        if selector is None:
            known = ", ".join(sorted(self.fleets)) or "none"
            raise SpecError(
                f"unknown fleet {name!r}: configured are {known} ([fleets.NAME] in LIVESHIFT_CONFIG)", field="fleet"
            )
        return selector

    def scratch_for(self, target: str) -> str | None:
        dsn = self.scratch.get(target)
        return dsn.get_secret_value() if dsn is not None else None

    def dsn_for(self, target: str) -> str:
        """The target's DSN; `target@database` (a fleet member's database): the target's, with that dbname."""
        base, sep, database = target.partition(DATABASE_SEPARATOR)
        if sep and target not in self.targets and base in self.targets and database:
            return member_dsn(self.dsn_for(base), Member(key=target, target=base, database=database))
        dsn = self.targets.get(target)
        if dsn is None:
            known = ", ".join(sorted(self.targets)) or "none"
            raise SpecError(
                f"unknown target {target!r}: this worker knows {known} "
                f"(set {TARGET_PREFIX}{target.upper()} or [targets] in LIVESHIFT_CONFIG)",
                field="target",
            )
        return dsn.get_secret_value()


class MetricsSettings(BaseModel):
    """The file's [metrics] table."""

    port: int | None = None
    sdk_port: int | None = None
    host: str = "0.0.0.0"


class _Sources(BaseSettings):
    """The documented layout: the file's tables, and LIVESHIFT_* variables over them.

    LIVESHIFT_<TABLE>_<KEY> reaches [table] key (one split: LIVESHIFT_TEMPORAL_TLS_CERT is [temporal] tls_cert);
    LIVESHIFT_TASK_QUEUE, LIVESHIFT_SDK_METRICS_PORT and LIVESHIFT_TARGET_<NAME> are fields of their own, named
    like the variables, laid over the file's values by `settings()`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="_", env_nested_max_split=1, env_ignore_empty=True
    )

    temporal: TemporalSettings = Field(default_factory=TemporalSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    targets: dict[str, SecretStr] = Field(default_factory=dict)
    scratch: dict[str, SecretStr] = Field(default_factory=dict)
    fleets: dict[str, MemberSelector] = Field(default_factory=dict)
    task_queue: str | None = None
    sdk_metrics_port: int | None = None
    target: dict[str, SecretStr] = Field(default_factory=dict)

    def settings(self) -> Settings:
        temporal = self.temporal
        if self.task_queue:
            temporal = temporal.model_copy(update={"task_queue": self.task_queue})
        return Settings(
            temporal=temporal,
            metrics_port=self.metrics.port,
            sdk_metrics_port=self.sdk_metrics_port if self.sdk_metrics_port is not None else self.metrics.sdk_port,
            metrics_host=self.metrics.host,
            targets={**self.targets, **self.target},
            scratch=self.scratch,
            fleets=self.fleets,
        )


def _file_source(path: Path) -> PydanticBaseSettingsSource:
    if not path.is_file():  # pydantic-settings skips a missing file; a named one must exist
        raise FileNotFoundError(f"{path}: no such configuration file")
    if path.suffix in (".yaml", ".yml"):
        return YamlConfigSettingsSource(_Sources, yaml_file=path)
    return TomlConfigSettingsSource(_Sources, toml_file=path)


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from the config file (`path`, else LIVESHIFT_CONFIG) overridden by the environment.

    A file that is not a table/mapping or holds a wrong value is a SpecError naming the file and the field."""
    file = path or os.environ.get(f"{ENV_PREFIX}CONFIG")
    sources: list[PydanticBaseSettingsSource] = [EnvSettingsSource(_Sources)]
    where = str(file) if file else "the environment"
    try:
        if file:
            sources.append(_file_source(Path(file)))
        return _Sources(_build_sources=(tuple(sources), {})).settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise SpecError(f"{err['msg']}", file=where, field=field) from None
    except (TypeError, ValueError, yaml.YAMLError) as exc:  # e.g. a YAML file holding a list, malformed TOML
        raise SpecError(f"not a TOML table or YAML mapping of settings: {exc}", file=where) from None
