"""The benchmark's scenario selection, the worker's RSS as the benchmark samples it, and pgbench's latencies."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from bench.memory import RssSampler, rss_bytes
from bench.pgbench_waits import Pgbench, p99
from bench.run import parse_args, scenario_names


def test_scenarios_by_alias_or_name_in_order() -> None:
    assert scenario_names("type_change, bench_cents,pk_bigint") == [
        "bench_amount_bigint",
        "bench_cents",
        "bench_id_bigint",
    ]
    assert parse_args(["--rows", "10000000", "--scenarios", "type_change"]).scenarios == ["bench_amount_bigint"]


def test_an_unknown_scenario_is_refused_naming_the_known_ones() -> None:
    known = r"unknown scenario 'typo' \(known: add_column, partitioned, pgroll_like, pk_bigint"
    with pytest.raises(argparse.ArgumentTypeError, match=known):
        scenario_names("type_change,typo")


def test_rss_of_this_process_and_of_none() -> None:
    with RssSampler(os.getpid(), every=0.01) as sampler:
        ballast = bytearray(64 * 1024 * 1024)  # touched: resident
        ballast[::4096] = b"x" * len(ballast[::4096])
        after = sampler.samples
        while sampler.samples < after + 2:  # a whole sample taken with the ballast resident
            pass
    assert sampler.peak >= sampler.first + 32 * 1024 * 1024 and len(ballast) > 0
    assert rss_bytes(2**22 + 12345) == 0  # no such process


def test_pgbench_latencies_from_its_transaction_log(tmp_path: Path) -> None:
    """pgbench -l lines: client, transaction, latency µs, script, end epoch s, end µs, schedule lag µs; a failed
    transaction logs no latency. Each start is its end less its latency; p99 counts the starts in the window."""
    load = Pgbench("postgresql://unused", clients=1, rate=100)
    (load.logs / "pgbench.1").write_text(
        "0 0 2000 0 1700000000 500000 100\n0 1 failed 0 1700000001 0 0\n0 2 30000 0 1700000002 30000 50\n"
    )
    (load.logs / "pgbench.1.1").write_text("1 0 1000 0 1700000003 1000 0\n")
    assert load.latencies() == [(1700000000.498, 0.002), (1700000002.0, 0.03), (1700000003.0, 0.001)]
    assert p99(load.latencies(), 1700000000.0, 1700000002.5) == (0.03, 2)
    assert p99(load.latencies(), 1700000002.5, 1700000010.0) == (0.001, 1)
    assert p99(load.latencies(), 1700000010.0, 1700000020.0) == (0.0, 0)
