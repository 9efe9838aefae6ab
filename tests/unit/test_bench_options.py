"""The benchmark's scenario selection, and the worker's RSS as the benchmark samples it."""

from __future__ import annotations

import argparse
import os

import pytest

from bench.memory import RssSampler, rss_bytes
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
