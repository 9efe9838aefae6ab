"""A backfill partition's bookkeeping: each batch counted once, throttle waits when they start, rows this attempt,
the replication hold gauge; and the rest of the partition's hooks: stopping, standbys resolved as worker targets."""

from __future__ import annotations

from prometheus_client import REGISTRY

from liveshift.activities.reporter import PartitionReporter
from liveshift.backfill.replication import Hold
from liveshift.values import Progress


def progress(rows: int, batches: int, in_batch: int, throttled: str | None = None, done: bool = False) -> Progress:
    return Progress(
        table="t",
        partition=0,
        rows_done=rows,
        batches=batches,
        last_key=None,
        done=done,
        batch_size=100,
        batch_seconds=0.1,
        rows_in_batch=in_batch,
        throttled=throttled,
    )


def reporter_for(migration: str, partition: int = 0) -> PartitionReporter:
    return PartitionReporter(migration, "t", partition, resolve=lambda target: f"host={target}")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_batches_and_throttle_waits_are_counted_once() -> None:
    rows = {"migration": "reporter", "table": "t"}
    waits = {"migration": "reporter", "reason": "paused"}
    rows_before, waits_before = (
        sample("liveshift_rows_backfilled_total", **rows),
        sample("liveshift_throttle_waits_total", **waits),
    )
    reporter = reporter_for("reporter")
    assert reporter.report() is None  # nothing to say before the first batch
    reporter.on_progress(progress(300, 3, 0, throttled="paused"))  # resumed paused: no batch yet
    reporter.on_progress(progress(300, 3, 0, throttled="paused"))  # still paused: the same wait
    reporter.on_progress(progress(400, 4, 100))
    reporter.on_progress(progress(400, 4, 100))  # reported again (e.g. while stepping aside): one batch
    reporter.on_progress(progress(500, 5, 100, done=True))
    assert sample("liveshift_rows_backfilled_total", **rows) - rows_before == 200
    assert sample("liveshift_throttle_waits_total", **waits) - waits_before == 1
    report = reporter.report(error="boom")
    assert report is not None and (report.rows_done, report.done, report.error) == (500, True, "boom")
    assert report.rows_per_second > 0
    assert reporter.finished(progress(500, 5, 100, done=True)).rows_this_attempt == 200  # from 300 on


def test_an_attempt_that_starts_with_a_batch_counts_it() -> None:
    reporter = reporter_for("reporter2", 1)
    reporter.on_progress(progress(100, 1, 100))
    assert reporter.finished(progress(100, 1, 100)).rows_this_attempt == 100


def test_a_replication_hold_sets_its_gauge_and_counts_by_its_signal() -> None:
    held = {"migration": "reporter3", "table": "t", "partition": "0"}
    lag = Hold("replica_lag", "replica lag 12.4 s (standby b)")
    reporter = reporter_for("reporter3")
    reporter.on_hold(lag)
    reporter.on_progress(progress(0, 0, 0, throttled=lag.reason))
    reporter.on_progress(progress(0, 0, 0, throttled=lag.reason))  # still held: the same wait
    assert sample("liveshift_backfill_held", **held, signal="replica_lag") == 1
    assert sample("liveshift_backfill_held", **held, signal="slot_wal") == 0
    # the counter's label is the signal, not the text with its measured lag
    assert sample("liveshift_throttle_waits_total", migration="reporter3", reason="replica_lag") == 1
    assert sample("liveshift_throttle_waits_total", migration="reporter3", reason=lag.reason) == 0
    reporter.on_hold(None)
    assert sample("liveshift_backfill_held", **held, signal="replica_lag") == 0


def test_the_reporter_stops_the_walk_and_resolves_standbys_as_worker_targets() -> None:
    reporter = reporter_for("reporter4")
    assert not reporter.should_stop()
    reporter.stop()  # the activity is cancelled: the walk stops at its next batch
    assert reporter.should_stop()
    assert reporter.standby_dsn("standby_b") == "host=standby_b"
