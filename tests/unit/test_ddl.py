"""The safe DDL executor's backoff: full jitter within exponential bounds."""

from __future__ import annotations

import random

import pytest

from liveshift.ddl import LockPolicy, backoff_delay


@pytest.mark.parametrize("attempt", range(12))
def test_backoff_within_bounds(attempt: int) -> None:
    policy = LockPolicy(backoff_initial_s=0.2, backoff_max_s=10.0)
    rng = random.Random(attempt)
    cap = min(10.0, 0.2 * 2**attempt)
    delays = [backoff_delay(policy, attempt, rng) for _ in range(500)]
    assert all(0 <= d <= cap for d in delays)
    # jitter really spreads the retries over the whole window
    assert max(delays) > 0.9 * cap
    assert min(delays) < 0.1 * cap


def test_backoff_cap_and_determinism() -> None:
    policy = LockPolicy(backoff_initial_s=0.5, backoff_max_s=2.0)
    assert all(backoff_delay(policy, 50, random.Random(i)) <= 2.0 for i in range(200))
    assert backoff_delay(policy, 3, random.Random(7)) == backoff_delay(policy, 3, random.Random(7))
    zero = LockPolicy(backoff_initial_s=0.0)
    assert backoff_delay(zero, 5, random.Random(1)) == 0.0
