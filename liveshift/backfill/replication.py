"""Replication-aware holds for the backfill: it must not outrun the standbys, nor fill the disk with WAL.

Before each batch the backfill asks its `hold_reason` hook (`hold_reason_hook`: a `ReplicationProbe` over
the backfill's connection); while it names a reason, no batch runs. Beyond a limit it holds; nearing one
(beyond `slow_above` of it) it slows to one batch per probe.
The signals, each against its own per-migration limit:
- physical standbys the primary streams to (pg_stat_replication): replay lag as time, or as bytes of
  WAL not yet replayed where the primary reports no time (NULL after idling, or never measured);
- logical replication slots (pg_replication_slots): WAL retained since their restart_lsn;
- standbys the primary does not list (cascading, managed read replicas), named as worker targets and
  polled directly: now - last replayed commit while WAL is received but not yet replayed;
- an optional application health query, run on the target: its latency.
The probes only read; seeing pg_stat_replication's positions needs a superuser or pg_monitor role.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import cast

import psycopg
from psycopg import errors, sql

from liveshift import connections
from liveshift.values import HoldKind, ReplicationLimits


@dataclass(frozen=True)
class StandbyLag:
    name: str
    seconds: float | None  # None: not reported
    bytes: int | None


@dataclass(frozen=True)
class SlotWal:
    name: str
    retained_bytes: int


@dataclass(frozen=True)
class Hold:
    kind: HoldKind
    reason: str  # what status, the UI and the log show after "throttled: "
    soft: bool = False  # nearing a limit, not beyond it: the backfill slows instead of holding


def _size(n: float) -> str:
    """1288490188 -> '1.2 GiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def primary_standbys(conn: psycopg.Connection) -> list[StandbyLag]:
    """The standbys streaming from this server, with their replay lag as the primary sees it. Base backups
    (pg_basebackup's WAL senders, state 'backup') are no standbys; a role without pg_monitor sees every
    sender with no state nor position (kept: its lag is unknown)."""
    rows = conn.execute(
        "SELECT coalesce(nullif(application_name, ''), host(client_addr), pid::text), "
        "extract(epoch FROM replay_lag)::float8, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint "
        "FROM pg_stat_replication WHERE state IS DISTINCT FROM 'backup' ORDER BY 1"
    ).fetchall()
    return [StandbyLag(name, seconds, None if lag is None else int(lag)) for name, seconds, lag in rows]


def logical_slots(conn: psycopg.Connection) -> list[SlotWal]:
    """WAL each logical slot keeps since its restart_lsn, up to the WAL inserted (not only written out: with
    asynchronous commit the written position trails the batches by up to wal_writer_delay)."""
    rows = conn.execute(
        "SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_insert_lsn(), restart_lsn)::bigint FROM pg_replication_slots "
        "WHERE slot_type = 'logical' AND restart_lsn IS NOT NULL ORDER BY slot_name"
    ).fetchall()
    return [SlotWal(name, int(retained)) for name, retained in rows]


def polled_standby(name: str, dsn: str) -> StandbyLag:
    """A standby's own view: caught up when it replayed all it received, else the age of its last replayed
    commit (what its readers see is that old). A server not in recovery lags nothing."""
    with connections.connect(dsn, autocommit=True, connect_timeout=5, application_name="liveshift-probe") as conn:
        row = conn.execute(
            "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
            "THEN 0 ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END, "
            "pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint"
        ).fetchone()
    seconds, lag = row if row else (None, None)
    return StandbyLag(name, seconds, None if lag is None else int(lag))


def health_latency_ms(conn: psycopg.Connection, query: str, timeout_ms: float) -> float | None:
    """How long the health query took, read-only; None when it ran into `timeout_ms`. (liveshift.health's
    check_sql, which gates traffic shifts, runs its query the same read-only way but asks for a boolean
    answer, not a latency: the two share the shape, not the question.)"""
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(f"{int(timeout_ms)}ms")))
            started = time.monotonic()
            # validated as one SELECT (ReplicationLimits); operator input, like the migration file itself
            conn.execute(cast("sql.SQL", sql.SQL(query)), prepare=False)
            return (time.monotonic() - started) * 1000
    except errors.QueryCanceled:
        return None


def _level(value: float, limit: float, slow_above: float) -> int:
    """2 beyond the limit (hold), 1 beyond its `slow_above` share (slow), else 0."""
    return 2 if value > limit else 1 if value > limit * slow_above else 0


def _strongest(candidates: list[tuple[int, HoldKind, str]]) -> Hold | None:
    """The first of the highest level: a hold beyond a limit, else a slow-down nearing one, else None."""
    level, kind, reason = max(candidates, key=lambda c: c[0], default=(0, "replica_lag", ""))
    if level == 0:
        return None
    return Hold(kind, reason if level == 2 else f"{reason}, slowing", soft=level == 1)


def standby_hold(limits: ReplicationLimits, standbys: list[StandbyLag]) -> Hold | None:
    """The standby furthest beyond a limit: time lag where reported, else byte lag. A standby whose replay
    position the primary does not show holds too: its lag is unknown (not reported yet, or hidden from a
    role without pg_monitor), and a backfill must not outrun what it cannot see."""
    f = limits.slow_above
    candidates: list[tuple[int, HoldKind, str]] = []
    for s in standbys:
        if s.seconds is not None:
            level = _level(s.seconds, limits.max_replica_lag_s, f)
            candidates.append((level, "replica_lag", f"replica lag {s.seconds:.1f} s (standby {s.name})"))
        elif s.bytes is not None:
            level = _level(s.bytes, limits.max_replica_lag_bytes, f)
            candidates.append((level, "replica_lag", f"replica lag {_size(s.bytes)} of WAL (standby {s.name})"))
        else:
            # not reported yet (starting, catching up), or hidden from a role without pg_monitor
            unknown = f"replica lag unknown (standby {s.name} shows no replay position; the worker needs pg_monitor)"
            candidates.append((2, "replica_lag", unknown))
    return _strongest(candidates)


def slot_hold(limits: ReplicationLimits, slots: list[SlotWal]) -> Hold | None:
    limit = limits.max_slot_wal
    return _strongest(
        [
            (
                _level(s.retained_bytes, limit, limits.slow_above),
                "slot_wal",
                f"logical slot {s.name} retains {_size(s.retained_bytes)} of WAL (limit {_size(limit)})",
            )
            for s in slots
        ],
    )


def health_hold(limits: ReplicationLimits, latency_ms: float | None) -> Hold | None:
    bound = limits.max_health_latency_ms
    if latency_ms is None:
        return Hold("health_probe", f"application health probe timed out (bound {bound:.0f} ms)")
    reason = f"application health probe took {latency_ms:.0f} ms (bound {bound:.0f} ms)"
    return _strongest([(_level(latency_ms, bound, limits.slow_above), "health_probe", reason)])


class ReplicationProbe:
    """Runs the probes at most every `check_interval_s`, on the backfill's own connection (between its
    transactions) and on a short connection to each named standby; remembers the last answer.

    Beyond a limit the backfill holds; nearing one (beyond `slow_above` of it) it slows to one batch per
    evaluation: the first ask after an evaluation lets a batch through, the next ones hold until the next.
    """

    def __init__(self, limits: ReplicationLimits, standby_dsns: Mapping[str, str] | None = None) -> None:
        self.limits = limits
        self.standby_dsns = dict(standby_dsns or {})
        self.last: Hold | None = None
        self._checked_at: float | None = None
        self._let_through_at: float | None = None  # the evaluation a slowed batch last went through on

    def check(self, conn: psycopg.Connection) -> Hold | None:
        """The last evaluation, re-run once `check_interval_s` has passed."""
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < self.limits.check_interval_s:
            return self.last
        self.last = self._evaluate(conn)
        self._checked_at = time.monotonic()
        return self.last

    def hold(self, conn: psycopg.Connection) -> Hold | None:
        """What the next batch waits for, if anything (a slow-down lets one batch per evaluation through)."""
        hold = self.check(conn)
        if hold is not None and hold.soft and self._let_through_at != self._checked_at:
            self._let_through_at = self._checked_at
            return None
        return hold

    def hold_reason(self, conn: psycopg.Connection) -> str | None:
        hold = self.hold(conn)
        return hold.reason if hold else None

    def _evaluate(self, conn: psycopg.Connection) -> Hold | None:
        """Every signal, stopping at the first hold beyond a limit; else the first slow-down, or None."""
        slowed: Hold | None = None
        for probe in self._probes(conn):
            hold = probe()
            if hold is not None and not hold.soft:
                return hold
            slowed = slowed or hold
        return slowed

    def _probes(self, conn: psycopg.Connection) -> list[Callable[[], Hold | None]]:
        probes: list[Callable[[], Hold | None]] = [
            lambda: standby_hold(self.limits, primary_standbys(conn)),
            lambda: slot_hold(self.limits, logical_slots(conn)),
        ]
        probes += [partial(self._polled, name, dsn) for name, dsn in self.standby_dsns.items()]
        query = self.limits.health_query
        if query is not None:
            timeout = 2 * self.limits.max_health_latency_ms  # beyond the bound the answer is known: hold
            probes.append(lambda: health_hold(self.limits, health_latency_ms(conn, query, timeout)))
        return probes

    def _polled(self, name: str, dsn: str) -> Hold | None:
        try:
            lag = polled_standby(name, dsn)
        except psycopg.OperationalError as exc:
            return Hold("standby_unreachable", f"standby {name} unreachable: {str(exc).strip().splitlines()[0]}")
        return standby_hold(self.limits, [lag])


def hold_reason_hook(
    conn: psycopg.Connection,
    limits: ReplicationLimits,
    standby_dsn: Callable[[str], str],
    on_hold: Callable[[Hold | None], None],
) -> Callable[[], str | None]:
    """The backfill's `hold_reason`: a probe on `conn` and on the standbys `limits` names (worker targets,
    resolved once here by `standby_dsn`); every answer also goes to `on_hold` (the held gauge)."""
    probe = ReplicationProbe(limits, {name: standby_dsn(name) for name in limits.standbys})

    def hold_reason() -> str | None:
        hold = probe.hold(conn)
        on_hold(hold)
        return hold.reason if hold else None

    return hold_reason
