"""The hold decisions over measured lags, and the limits' validation (pure: no server)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from liveshift.backfill.replication import SlotWal, StandbyLag, health_hold, slot_hold, standby_hold
from liveshift.values import GIB, ReplicationLimits

LIMITS = ReplicationLimits()


def test_defaults_are_10_seconds_and_1_gib() -> None:
    assert (LIMITS.max_replica_lag_s, LIMITS.max_replica_lag_bytes, LIMITS.max_slot_wal) == (10.0, GIB, GIB)


def test_time_lag_beyond_the_limit_holds_naming_the_standby() -> None:
    hold = standby_hold(LIMITS, [StandbyLag("a", 0.2, 10), StandbyLag("b", 12.44, 10)])
    assert hold is not None and (hold.kind, hold.reason) == ("replica_lag", "replica lag 12.4 s (standby b)")
    assert standby_hold(LIMITS, [StandbyLag("a", 4.9, 2 * GIB)]) is None  # time reported: bytes do not count


def test_nearing_a_limit_slows_and_a_hold_beyond_one_wins() -> None:
    slowed = standby_hold(LIMITS, [StandbyLag("a", 6.0, None)])
    assert slowed is not None and slowed.soft and slowed.reason == "replica lag 6.0 s (standby a), slowing"
    held = standby_hold(LIMITS, [StandbyLag("a", 6.0, None), StandbyLag("b", 11.0, None)])
    assert held is not None and not held.soft and held.reason == "replica lag 11.0 s (standby b)"
    never_slow = ReplicationLimits(slow_above=1)
    assert standby_hold(never_slow, [StandbyLag("a", 10.0, None)]) is None


def test_byte_lag_counts_where_no_time_is_reported() -> None:
    hold = standby_hold(LIMITS, [StandbyLag("a", None, int(1.5 * GIB))])
    assert hold is not None and hold.reason == "replica lag 1.5 GiB of WAL (standby a)"
    assert standby_hold(LIMITS, [StandbyLag("a", None, GIB // 2)]) is None


def test_a_slot_retaining_more_than_the_limit_holds() -> None:
    limits = ReplicationLimits(max_slot_wal="512 MiB")
    hold = slot_hold(limits, [SlotWal("s", 600 * 1024 * 1024)])
    assert hold is not None and hold.reason == "logical slot s retains 600.0 MiB of WAL (limit 512.0 MiB)"
    assert slot_hold(limits, [SlotWal("s", 256 * 1024 * 1024)]) is None
    nearing = slot_hold(limits, [SlotWal("s", 512 * 1024 * 1024)])
    assert nearing is not None and nearing.soft and nearing.kind == "slot_wal"


def test_health_latency_beyond_the_bound_or_timed_out_holds() -> None:
    limits = ReplicationLimits(max_health_latency_ms=100)
    assert health_hold(limits, 50.0) is None
    nearing = health_hold(limits, 80.0)
    assert nearing is not None and nearing.soft
    slow = health_hold(limits, 150.0)
    assert slow is not None and slow.reason == "application health probe took 150 ms (bound 100 ms)"
    timed_out = health_hold(limits, None)
    assert timed_out is not None and timed_out.kind == "health_probe" and "timed out" in timed_out.reason


@pytest.mark.parametrize(
    ("query", "message"),
    [("SELECT 1; SELECT 2", "exactly one SELECT"), ("DELETE FROM t", "exactly one SELECT"), ("SELEC 1", "not valid")],
)
def test_the_health_query_must_be_one_select(query: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ReplicationLimits(health_query=query)
    (error,) = refused.value.errors()
    assert error["loc"] == ("health_query",) and message in error["msg"]


def test_a_standby_whose_position_is_not_shown_holds() -> None:
    hold = standby_hold(LIMITS, [StandbyLag("a", 0.1, 10), StandbyLag("hidden", None, None)])
    assert hold is not None and not hold.soft and "standby hidden" in hold.reason and "pg_monitor" in hold.reason
