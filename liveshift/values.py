"""Value types that cross into workflow payloads and status: pydantic (pglast to validate SQL), no psycopg.

The workflow's sandbox imports these (through workflows/models.py); the modules that act on them
(backfill, ddl, verify) import them from here.
"""

from __future__ import annotations

from typing import Any, Literal

import pglast
from pydantic import BaseModel, ByteSize, Field, field_validator

GIB = 1024**3

# the signals a backfill holds for (liveshift.replication measures them)
HoldKind = Literal["replica_lag", "slot_wal", "standby_unreachable", "health_probe"]


class ReplicationLimits(BaseModel):
    """When the backfill holds for the replicas and the application (configurable per migration)."""

    max_replica_lag_s: float = Field(10.0, gt=0, description="hold while a standby's replay lags more than this")
    max_replica_lag_bytes: ByteSize = Field(
        ByteSize(GIB), gt=0, description="hold while a standby lags more WAL than this, where no time lag is reported"
    )
    max_slot_wal: ByteSize = Field(
        ByteSize(GIB), gt=0, description="hold while a logical replication slot retains more WAL than this"
    )
    standbys: list[str] = Field(
        default_factory=list,
        description="worker targets of standbys the primary does not list (cascading, managed), polled directly",
    )
    health_query: str | None = Field(None, description="a SELECT run on the target; its latency bounds the backfill")
    max_health_latency_ms: float = Field(500.0, gt=0, description="hold while the health query takes longer")
    check_interval_s: float = Field(1.0, ge=0, description="how often the probes run while the backfill goes on")
    slow_above: float = Field(
        0.5, gt=0, le=1, description="beyond this share of a limit the backfill slows to one batch per check"
    )

    @field_validator("health_query")
    @classmethod
    def _one_select(cls, query: str | None) -> str | None:
        if query is None:
            return None
        try:
            statements = pglast.parse_sql(query)
        except pglast.parser.ParseError as exc:
            raise ValueError(f"not valid SQL: {exc}") from None
        if len(statements) != 1 or type(statements[0].stmt).__name__ != "SelectStmt":
            raise ValueError("must be exactly one SELECT statement")
        return query


class Throttle(BaseModel):
    """How hard the backfill may push: batch size adapts so a batch takes about `target_batch_ms`."""

    initial_batch: int = 1000
    min_batch: int = 50
    max_batch: int = 50_000
    # A batch holds the row locks of what it updated until it commits: an application write to one of those
    # rows waits up to a batch's time. Short batches keep that wait short (at some cost in throughput).
    target_batch_ms: int = 30
    max_rows_per_second: float | None = None
    # commit every batch synchronously: the backfill waits for its own WAL flush, which an application commit
    # would otherwise carry (pgbench's p99 over a change 12-21 ms against 19-32, the backfill about 9% slower:
    # docs/benchmark.md); by default batches commit asynchronously and only a partition's last commit waits
    flush_each_batch: bool = False
    # how long a batch waits for a row an application holds (its own rows stay locked meanwhile); then it
    # rolls back (releasing them all), halves, steps aside and tries the same rows again
    lock_timeout_ms: int = 20
    # others waiting on locks of the table: step aside this long before the next batch
    lock_wait_backoff_s: float = 0.5
    pause_poll_s: float = 0.2
    # free-space reuse (backfill/reclaim.py): VACUUM the walked table after every this fraction of its rows, so
    # later batches' new row versions fill the pages the earlier ones freed (0: never, the table doubles)
    reclaim_every: float = Field(0.05, ge=0, le=1)
    reclaim_min_rows: int = Field(10_000, ge=1)  # but not more often than after this many rows
    # a keyset batch takes short runs of keys this many runs apart, so no leaf of the key's index gets more new
    # entries in one transaction than it has room for (backfill/keyset.py; a table walked by several partitions
    # interleaves four times as many); 1: consecutive keys, the index doubles
    spread: int = Field(18, ge=1, le=1000)
    # hold before each batch while a standby lags or a logical slot retains WAL (see liveshift.replication)
    replication: ReplicationLimits = Field(default_factory=ReplicationLimits)

    def bounded(self, size: float) -> int:
        """`size` within [min_batch, max_batch]; under a rows/s cap also at most one target batch time's worth
        of rows, so the cap paces many small batches (each a pause point) rather than a few huge ones."""
        upper = self.max_batch
        if self.max_rows_per_second:
            upper = min(upper, int(self.max_rows_per_second * self.target_batch_ms / 1000))
        return int(max(self.min_batch, min(upper, size)))


class LockPolicy(BaseModel):
    """The safe DDL executor's lock waits: outside the queue while an old transaction holds a conflicting lock,
    then each request capped at `lock_timeout_ms`, retried with backoff and jitter."""

    lock_timeout_ms: int = Field(50, description="lock_timeout of a lock request application statements queue behind")
    # CREATE INDEX CONCURRENTLY, VALIDATE: no application statement queues behind their lock, and an index
    # build also waits (under lock_timeout) for older snapshots anywhere in the database
    concurrent_lock_timeout_ms: int = Field(2000, description="lock_timeout of steps whose lock stalls no application")
    max_attempts: int = Field(30, description="lock requests that time out before the step gives up (waits excluded)")
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 10.0
    blocker_min_age_ms: int = Field(
        250, description="a conflicting lock is waited for outside the queue when its transaction is this old"
    )
    blocker_poll_s: float = Field(0.1, gt=0, description="how often a waiting step looks at pg_locks again")
    starving_after_s: float = Field(300.0, description="a wait this long is reported as starving")
    terminate_blockers_after_s: float | None = Field(
        None, gt=0, description="end (pg_terminate_backend) a blocker whose transaction is this old; None: never"
    )


class Blocker(BaseModel):
    """A backend a step waits for, as status, heartbeat details and metrics show it."""

    pid: int
    table: str  # schema.table
    mode: str  # the lock it holds or waits for, as pg_locks names it
    granted: bool  # False: it waits in the queue itself (ahead of us)
    state: str | None  # pg_stat_activity.state: active, idle in transaction, ...
    transaction_open_s: float
    query: str  # the first line of its current or last query
    usename: str | None = None
    xact_start: str  # identifies the transaction: a pid reused later is not terminated by mistake
    backend_type: str = "client backend"  # pg_stat_activity.backend_type, e.g. "autovacuum worker"

    @property
    def autovacuum(self) -> bool:
        return self.backend_type == "autovacuum worker"

    @property
    def cancellable_autovacuum(self) -> bool:
        """An autovacuum worker PostgreSQL itself would cancel for a lock request that waits on it (any but one
        that prevents transaction ID wraparound)."""
        return self.autovacuum and "(to prevent wraparound)" not in self.query

    @property
    def ended_as(self) -> str:
        """How liveshift ends it: an autovacuum worker's VACUUM is cancelled, a session is terminated."""
        return "cancelled autovacuum" if self.autovacuum else "terminated"


class LockWait(BaseModel):
    """What a waiting step waits for; `blockers` empty once the wait is over. Heartbeat details carry it as
    {"lock_wait": ...}; `liveshift status` reads it from there."""

    step: str
    lock_mode: str
    tables: list[str]
    waited_s: float
    blockers: list[Blocker]
    # ended during this wait, cumulative: by terminate_blockers_after_s, or an autovacuum worker cancelled
    terminated: list[Blocker] = []
    starving: bool = False  # waited longer than the policy's report threshold: a conflicting lock never lets go


class LockDetails(BaseModel):
    """A lock-taking phase's heartbeat details (the Temporal UI shows them on the pending activity;
    `liveshift status` reads them from there): the current wait, and every backend ended during the phase."""

    lock_wait: LockWait | None = None
    terminated: list[Blocker] = []


class Progress(BaseModel):
    """What one partition reports after each batch (heartbeat details, metrics, status)."""

    table: str
    partition: int
    rows_done: int
    batches: int
    last_key: list[Any] | None
    done: bool
    batch_size: int = 0
    batch_seconds: float = 0.0
    rows_in_batch: int = 0
    throttled: str | None = None  # why the last pause between batches happened, if any


class Prepared(BaseModel):
    """What the workflow needs to know of a prepared migration's plan."""

    tables: list[str]  # named in the migration, and found in the catalog (tables referencing an altered key)
    backfill_tables: list[str]
    blue_version: str
    green_version: str


class TablePlan(BaseModel):
    """One table's backfill: its partitions (recorded with their checkpoints) and its estimated rows."""

    table: str
    partitions: int
    rows_total: int


class TableReport(BaseModel):
    table: str
    rows_checked: int = 0
    mismatches: int = 0
    sample_keys: list[Any] = Field(default_factory=list)


class VerifyReport(BaseModel):
    tables: list[TableReport] = Field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return sum(t.mismatches for t in self.tables)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def summary(self) -> str:
        if self.ok:
            return "verified: " + ", ".join(f"{t.table} {t.rows_checked} rows" for t in self.tables)
        bad = [
            f"{t.table}: {t.mismatches} of {t.rows_checked} rows disagree (sample keys {t.sample_keys})"
            for t in self.tables
            if t.mismatches
        ]
        return "verification failed: " + "; ".join(bad)
