"""A smoke run of the benchmark harness (tiny table, one scenario): it runs end to end and writes its outputs.

The real benchmark (1M rows, every scenario) takes minutes and runs by hand: python -m bench.run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).parent.parent.parent


def test_bench_smoke(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench.run", "--rows", "3000", "--scenario", "bench_cents", "--out", str(tmp_path)]
    command += ["--hold", "1.5", "--warmup", "0.5", "--cooldown", "0.5", "--trigger-seconds", "1", "--rate", "10"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=220)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    page = (tmp_path / "benchmark.md").read_text()
    assert (tmp_path / "benchmark-latency.png").stat().st_size > 10_000
    assert "ADD COLUMN amount_cents" in page and "PostgreSQL 18" in page
    assert "--rows 3000" in page
    # the plain ALTER, issued 0.5 s into the long reader's 1.5 s, queued the application behind it
    plain_stall = re.search(r"longest application stall \(max latency\) \| ([\d,]+) ms", page)
    assert plain_stall and int(plain_stall.group(1).replace(",", "")) >= 600, page
    assert re.search(r"lost writes \| - \| 0 of [\d,]+ acknowledged", page), page
    assert re.search(r"Temporal history events of the workflow \| - \| \d+", page), page
    # sizes against the plain ALTER's (issue 24), and the window before the change
    assert re.search(r"table size after: heap \+ indexes \| [\d,]+ MiB \+ [\d,]+ MiB \| .* = [\d.]+x", page), page
    assert re.search(r"peak size during the change .* = [\d.]+x what the plain ALTER leaves", page), page
    assert "p99 / longest stall before the change" in page


def test_bench_smoke_partitioned(tmp_path: Path) -> None:
    """The partitioned scenario (12 hash partitions, each leaf backfilled with its own checkpoints) end to end."""
    command = [
        sys.executable,
        "-m",
        "bench.run",
        "--rows",
        "3000",
        "--scenarios",
        "partitioned",
        "--out",
        str(tmp_path),
    ]
    command += ["--hold", "1.5", "--warmup", "0.5", "--cooldown", "0.5", "--trigger-seconds", "1", "--rate", "10"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=220)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    page = (tmp_path / "benchmark.md").read_text()
    assert "hash-partitioned into 12 partitions (3,000 rows)" in page, page
    assert re.search(r"lost writes \| - \| 0 of [\d,]+ acknowledged", page), page
    assert re.search(r"backfill rows/s \| - \| [\d,]+ rows/s", page), page
