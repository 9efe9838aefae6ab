"""`liveshift plan` shows the replication limits the backfill holds at and what the replicas lag now."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.harness.cli import EXAMPLES, liveshift

pytestmark = pytest.mark.integration


def test_plan_shows_the_limits_and_the_slots_lag_now(
    dsn: str,
    example_db: psycopg.Connection,
    logical_slot: str,
) -> None:
    text = liveshift("plan", str(EXAMPLES / "users_email_lower.yaml"), "--dsn", dsn)
    assert text.returncode == 0, text.stderr
    assert (
        "  holds while a standby's replay lags > 10 s (> 1.0GiB of WAL where no time is reported) "
        "or a logical slot retains > 1.0GiB of WAL; slows beyond 50% of a limit\n" in text.stdout
    )
    assert f"  now: logical slot {logical_slot} retains " in text.stdout

    data = json.loads(liveshift("plan", str(EXAMPLES / "users_email_lower.yaml"), "--dsn", dsn, "--json").stdout)
    limits = data["throttle"]["limits"]
    assert (limits["max_replica_lag_s"], limits["max_slot_wal"]) == (10.0, 1024**3)
    (slot,) = [s for s in data["throttle"]["logical_slots"] if s["name"] == logical_slot]
    assert slot["retained_bytes"] >= 0
