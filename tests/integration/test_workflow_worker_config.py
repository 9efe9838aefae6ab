"""The worker's configuration: targets and Temporal settings from a file and the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from liveshift.errors import SpecError
from liveshift.worker.config import load_settings

CONFIG = """
[temporal]
address = "temporal.internal:7233"
namespace = "migrations"
api_key = "secret-key"

[metrics]
port = 9464

[targets]
app = "postgresql://app@db/app"
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("LIVESHIFT_")]:
        monkeypatch.delenv(name)


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "liveshift.toml"
    path.write_text(CONFIG)
    env = {
        "LIVESHIFT_CONFIG": str(path),
        "LIVESHIFT_TEMPORAL_NAMESPACE": "override",
        "LIVESHIFT_TARGET_REPORTING": "postgresql://r@db/reporting",
        "LIVESHIFT_SDK_METRICS_PORT": "9465",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.temporal.address == "temporal.internal:7233"
    assert settings.temporal.namespace == "override"
    assert settings.metrics_port == 9464 and settings.sdk_metrics_port == 9465
    assert settings.dsn_for("app") == "postgresql://app@db/app"
    assert settings.dsn_for("reporting") == "postgresql://r@db/reporting"
    # secrets stay out of reprs and logs
    assert "postgresql://" not in repr(settings) and "secret-key" not in repr(settings)


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "liveshift.yaml"
    path.write_text("temporal: {address: 'localhost:7233'}\ntargets: {app: 'postgresql://x@y/z'}\n")
    assert load_settings(path).dsn_for("app") == "postgresql://x@y/z"


def test_unknown_target_names_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVESHIFT_TARGET_APP", "postgresql://a@b/c")
    settings = load_settings()
    with pytest.raises(SpecError, match=r"unknown target 'shop': this worker knows app \(set LIVESHIFT_TARGET_SHOP"):
        settings.dsn_for("shop")
