"""`liveshift start`'s replication options reach the migration's throttle; bad values name the option."""

from __future__ import annotations

import pytest

from liveshift.cli.commands.start import options_from
from liveshift.cli.config import CliError
from liveshift.cli.main import build_parser
from liveshift.values import GIB, ReplicationLimits


def parse(*extra: str) -> object:
    return build_parser().parse_args(["start", "m.yaml", "--target", "app", *extra])


def test_defaults_when_not_given() -> None:
    assert options_from(parse()).throttle.replication == ReplicationLimits()


def test_every_limit_is_configurable_per_migration() -> None:
    args = parse(
        "--max-replica-lag", "2.5", "--max-replica-lag-bytes", "256MiB", "--max-slot-wal", "2GiB",
        "--standby", "replica_a", "--standby", "replica_b",
        "--probe-query", "SELECT 1 FROM orders LIMIT 1", "--max-probe-latency-ms", "80",
        "--max-rows-per-second", "100",
    )  # fmt: skip
    options = options_from(args)  # type: ignore[arg-type]
    limits = options.throttle.replication
    assert (limits.max_replica_lag_s, limits.max_replica_lag_bytes, limits.max_slot_wal) == (2.5, 256 << 20, 2 * GIB)
    assert limits.standbys == ["replica_a", "replica_b"] and limits.max_health_latency_ms == 80
    assert limits.health_query == "SELECT 1 FROM orders LIMIT 1"
    assert options.throttle.max_rows_per_second == 100


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        (("--max-slot-wal", "lots"), "option throttle.replication.max_slot_wal:"),
        (("--max-replica-lag", "0"), "option throttle.replication.max_replica_lag_s:"),
        (("--probe-query", "DROP TABLE orders"), "option throttle.replication.health_query:"),
    ],
)
def test_a_bad_value_names_the_option(extra: tuple[str, ...], where: str) -> None:
    with pytest.raises(CliError) as refused:
        options_from(parse(*extra))  # type: ignore[arg-type]
    assert str(refused.value).startswith(where)
