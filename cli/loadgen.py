"""Simulated application traffic against one table: for the benchmark, the chaos tests and the demo.

Blue and green applications (old and new code) read and write the table through their version
schema, each thread on its own connection, at a fixed request rate. Every request's start time,
latency and outcome is recorded; every write carries a number `n` unique in the run, so that
afterwards `lost_writes()` can prove every acknowledged write is present in both shapes.

One integer describes a row in both shapes: `Version.row(n)` is what that version shows (its
non-key columns) after a write of `n` through *either* version. A blue writer writes
`blue.row(n)`, a green writer `green.row(n)`; the migration's `up` must turn the first into the
second and its `down` the second into the first.

    workload = Workload(
        table="accounts",
        blue=Version("public_base", lambda n: {"amount": n}),
        green=Version("public_amount_cents", lambda n: {"amount": n, "amount_cents": n * 100}),
        seed_keys=range(1, 10_001),  # existing rows writers may update
    )
    load = LoadGenerator(dsn, workload)
    load.start("blue", writers=2, readers=2, rate=20)  # before expand: the physical table
    ...  # expand
    load.start("green", writers=1, readers=1, rate=20)
    ...  # backfill, verify, cutover
    load.stop()
    print(load.report().summary())
    assert load.lost_writes() == []  # before contract: both versions; after it, pass the final one

A version schema that does not exist yet is skipped by PostgreSQL's search_path resolution, so a
blue client started before expand talks to the physical table and keeps working after it.

Connection loss (a restarted database) is survived: the thread reconnects and carries on. The
failed request counts as an error; a write whose commit was not acknowledged is not "lost": it
may be present or not, and `lost_writes()` accepts either.
"""

from __future__ import annotations

import itertools
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from prometheus_client import CollectorRegistry, Counter
from psycopg import sql

Side = Literal["blue", "green"]
Kind = Literal["read", "insert", "update"]

# Seed rows are split among writers by key modulo this, so no two writers update the same row.
MAX_WRITERS = 64


@dataclass(frozen=True)
class Version:
    """One application version of the table: where it lives and what it shows for a written `n`.

    `search_path` is the version schema (e.g. `public_base`) or None for the physical schema only.
    """

    search_path: str | None
    row: Callable[[int], dict[str, Any]]


@dataclass(frozen=True)
class Workload:
    table: str
    blue: Version
    green: Version
    key: str = "id"  # an integer key the database assigns on insert (serial, identity)
    schema: str = "public"  # the physical schema, last in every search_path
    seed_keys: range | None = None  # keys of existing rows writers update (each writer its share)
    insert_share: float = 0.4  # of writes; the rest update a seed row or a row the writer inserted


@dataclass(frozen=True, slots=True)
class Sample:
    """One request: wall-clock start (for plots), latency in seconds, outcome."""

    side: Side
    kind: Kind
    started: float
    latency: float
    ok: bool
    error: str | None = None


@dataclass
class _RowState:
    """What a writer knows of one row it wrote: the last acknowledged `n`, and later unacknowledged ones."""

    acked: int
    unacked: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class LostWrite:
    version: str
    key: int
    expected: dict[str, Any]
    found: dict[str, Any] | None  # None: the row is missing


@dataclass(frozen=True)
class SideReport:
    side: str
    requests: int
    reads: int
    writes: int
    errors: int
    first_errors: list[str]
    max_latency: float
    p50: float
    p99: float
    reconnects: int

    def line(self) -> str:
        return (
            f"{self.side:>5}: {self.requests} requests ({self.reads} reads, {self.writes} writes), "
            f"{self.errors} errors, {self.reconnects} reconnects, p50 {self.p50 * 1000:.1f} ms, "
            f"p99 {self.p99 * 1000:.1f} ms, max {self.max_latency * 1000:.0f} ms"
        )


@dataclass(frozen=True)
class Report:
    sides: dict[str, SideReport]
    total: SideReport
    seconds: float

    def summary(self) -> str:
        lines = [f"{self.seconds:.1f} s of traffic", *(s.line() for s in self.sides.values()), self.total.line()]
        lines += [f"  first error: {e}" for e in self.total.first_errors]
        return "\n".join(lines)


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def summarize(name: str, samples: list[Sample], reconnects: int = 0, max_errors: int = 5) -> SideReport:
    latencies = sorted(s.latency for s in samples)
    first: list[str] = []
    for s in sorted(samples, key=lambda s: s.started):
        if s.error and s.error not in first and len(first) < max_errors:
            first.append(s.error)
    return SideReport(
        side=name,
        requests=len(samples),
        reads=sum(1 for s in samples if s.kind == "read"),
        writes=sum(1 for s in samples if s.kind != "read"),
        errors=sum(1 for s in samples if not s.ok),
        first_errors=first,
        max_latency=latencies[-1] if latencies else 0.0,
        p50=statistics.median(latencies) if latencies else 0.0,
        p99=_quantile(latencies, 0.99),
        reconnects=reconnects,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


@dataclass(frozen=True)
class _Statements:
    """A version's writes: its columns, in the order `Version.row` gives them."""

    insert: sql.Composed
    update: sql.Composed

    @staticmethod
    def of(w: Workload, version: Version) -> _Statements:
        columns = list(version.row(0))
        return _Statements(
            insert=sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) RETURNING {k}").format(
                t=sql.Identifier(w.table),
                cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                vals=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                k=sql.Identifier(w.key),
            ),
            update=sql.SQL("UPDATE {t} SET {sets} WHERE {k} = %s").format(
                t=sql.Identifier(w.table),
                sets=sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns),
                k=sql.Identifier(w.key),
            ),
        )


class _Client(threading.Thread):
    """One application thread on its own connection: reads or writes at `rate` requests/s (None: flat out)."""

    def __init__(
        self, load: LoadGenerator, side: Side, role: Literal["reader", "writer"], ident: int, rate: float | None
    ) -> None:
        super().__init__(name=f"loadgen-{side}-{role}-{ident}", daemon=True)
        self.load, self.side, self.role, self.rate = load, side, role, rate
        self.group: str = side  # what stop(side) selects
        self.version = load.workload.blue if side == "blue" else load.workload.green
        self.stop_event = threading.Event()
        self.samples: list[Sample] = []
        self.rows: dict[int, _RowState] = {}  # writers: key -> what this writer wrote there
        self.reconnected_at: list[float] = []
        self.random = random.Random(ident)
        w = load.workload
        self.statements = {"blue": _Statements.of(w, w.blue), "green": _Statements.of(w, w.green)}
        self.read_sql = sql.SQL("SELECT * FROM {t} WHERE {k} = %s").format(
            t=sql.Identifier(w.table), k=sql.Identifier(w.key)
        )
        # writer number `ident` updates the seed rows whose key is `ident` modulo MAX_WRITERS
        seeds = w.seed_keys
        self.seed_share = (
            range(seeds.start + (ident - seeds.start) % MAX_WRITERS, seeds.stop, MAX_WRITERS)
            if seeds is not None and role == "writer"
            else range(0)
        )

    def _connect(self) -> psycopg.Connection | None:
        """Connect, retrying while the database is down; None once stopped."""
        delay = 0.05
        while not self.stop_event.is_set():
            try:
                return self.load.connect(self.version, self.name)
            except psycopg.OperationalError:
                self.stop_event.wait(delay)
                delay = min(1.0, delay * 2)
        return None

    def run(self) -> None:
        conn = self._connect()
        interval = 1.0 / self.rate if self.rate else 0.0
        next_at = time.monotonic()
        while conn is not None and not self.stop_event.is_set():
            if interval:
                now = time.monotonic()
                if next_at > now:
                    self.stop_event.wait(next_at - now)
                    if self.stop_event.is_set():
                        break
                # after a stall, carry on at the rate instead of bursting to catch up
                next_at = max(next_at + interval, time.monotonic())
            self._request(conn)
            if conn.broken or conn.closed:
                conn.close()
                conn = self._connect()
                if conn is not None:
                    self.reconnected_at.append(time.time())
        if conn is not None:
            conn.close()

    def _request(self, conn: psycopg.Connection) -> None:
        kind: Kind
        n = 0
        key: int | None = None
        if self.role == "reader":
            kind, key = "read", self.load.random_key(self.random)
            if key is None:
                return
        else:
            n = next(self.load.counter)
            roll = self.random.random()
            own = list(self.rows) if roll >= self.load.workload.insert_share else []
            if roll < self.load.workload.insert_share or not (own or self.seed_share):
                kind = "insert"
            elif self.seed_share and (not own or self.random.random() < 0.5):
                kind, key = "update", self.random.choice(self.seed_share)
            else:
                kind, key = "update", self.random.choice(own)
        values = list(self.version.row(n).values()) if kind != "read" else []
        statements = self.statements[self.side]
        wall, t0 = time.time(), time.perf_counter()
        try:
            if kind == "read":
                conn.execute(self.read_sql, (key,)).fetchall()
            elif kind == "insert":
                row = conn.execute(statements.insert, values).fetchone()
                key = int(row[0]) if row else None
            else:
                updated = conn.execute(statements.update, [*values, key]).rowcount
                if updated == 0:
                    key = None  # no such row (anymore): nothing was written
        except psycopg.Error as exc:
            self.load.count(self.side, ok=False)
            self.samples.append(Sample(self.side, kind, wall, time.perf_counter() - t0, False, _first_line(exc)))
            state = self.rows.get(key) if kind == "update" and key is not None else None
            if state is not None and (conn.broken or conn.closed):
                # the commit may or may not have happened: either value is acceptable afterwards
                state.unacked.append(n)
            return
        self.load.count(self.side, ok=True)
        self.samples.append(Sample(self.side, kind, wall, time.perf_counter() - t0, True))
        if kind != "read" and key is not None:
            self.rows[key] = _RowState(acked=n)
            if kind == "insert":
                self.load.inserted_keys.append(key)


class _FlagClient(_Client):
    """An application instance that ships both versions' code and follows the flag: each request is for one of
    `users` users, and uses the version `liveshift.version_for(schema, user)` gives that user (one round trip
    before the request; the search_path changes only when the version does). A version the flag does not name
    (before cutover, after a rollback) is blue's."""

    def __init__(self, load: LoadGenerator, role: Literal["reader", "writer"], ident: int, rate: float | None) -> None:
        super().__init__(load, "blue", role, ident, rate)
        self.group = "flag"
        self.path: str | None = None
        self.flag_sql = sql.SQL("SELECT liveshift.version_for({}, %s)").format(sql.Literal(load.workload.schema))

    def _request(self, conn: psycopg.Connection) -> None:
        user = f"user-{self.random.randrange(self.load.users)}"
        try:
            row = conn.execute(self.flag_sql, (user,)).fetchone()
        except psycopg.Error as exc:
            self.load.count(self.side, ok=False)
            self.samples.append(Sample(self.side, "read", time.time(), 0.0, False, _first_line(exc)))
            return
        w = self.load.workload
        green = row is not None and row[0] == w.green.search_path
        self.side, self.version = ("green", w.green) if green else ("blue", w.blue)
        if self.version.search_path != self.path:
            path = ",".join(p for p in (self.version.search_path, w.schema) if p)
            conn.execute(
                sql.SQL("SET search_path = {}").format(sql.SQL(", ").join(map(sql.Identifier, path.split(","))))
            )
            self.path = self.version.search_path
        super()._request(conn)


class LoadGenerator:
    """Blue and green application threads against `workload.table`; see the module docstring."""

    def __init__(self, dsn: str, workload: Workload, connect_timeout: int = 5) -> None:
        self.dsn, self.workload, self.connect_timeout = dsn, workload, connect_timeout
        self.counter = itertools.count(1)  # write numbers, unique across threads (next() holds the GIL)
        self.clients: list[_Client] = []
        self.inserted_keys: list[int] = []
        self.started_at: float | None = None
        self._writer_ids = itertools.count()
        self._reader_ids = itertools.count(MAX_WRITERS)
        self.users = 10_000  # flag-following clients: the users their requests are for
        self.metrics: tuple[Counter, Counter] | None = None

    def export_metrics(self, registry: CollectorRegistry) -> None:
        """Count requests and errors per version in `registry` (served to Prometheus by the caller)."""
        self.metrics = (
            Counter("liveshift_demo_requests", "Application requests, by the version that served them", ["version"],
                    registry=registry),
            Counter("liveshift_demo_errors", "Failed application requests, by version", ["version"], registry=registry),
        )  # fmt: skip
        for counter in self.metrics:
            for side in ("blue", "green"):
                counter.labels(version=side)  # both series exist from the start: a rate() of 0, not nothing

    def count(self, side: Side, ok: bool) -> None:
        if self.metrics is not None:
            self.metrics[0].labels(version=side).inc()
            if not ok:
                self.metrics[1].labels(version=side).inc()

    def connect(self, version: Version, application_name: str = "loadgen") -> psycopg.Connection:
        """An autocommit application connection on `version` (no server-side prepare: the schema changes)."""
        path = ",".join(p for p in (version.search_path, self.workload.schema) if p)
        return psycopg.connect(
            self.dsn,
            autocommit=True,
            prepare_threshold=None,
            connect_timeout=self.connect_timeout,
            application_name=application_name,
            options=f"-c search_path={path}",
        )

    def random_key(self, rng: random.Random) -> int | None:
        seeds, inserted = self.workload.seed_keys, self.inserted_keys
        pool = len(seeds) if seeds is not None else 0
        pick = rng.randrange(pool + len(inserted)) if pool + len(inserted) else None
        if pick is None:
            return None
        return seeds[pick] if seeds is not None and pick < pool else inserted[pick - pool]

    def start(self, side: Side, writers: int = 1, readers: int = 1, rate: float | None = 20.0) -> None:
        """Start `writers` and `readers` threads for `side`, each at `rate` requests/s (None: as fast as it can)."""
        if self.started_at is None:
            self.started_at = time.time()
        for role, count in (("writer", writers), ("reader", readers)):
            for _ in range(count):
                ident = next(self._writer_ids if role == "writer" else self._reader_ids)
                if role == "writer" and ident >= MAX_WRITERS:
                    raise ValueError(f"at most {MAX_WRITERS} writers")
                client = _Client(self, side, role, ident, rate)  # type: ignore[arg-type]
                self.clients.append(client)
                client.start()

    def start_following_flag(self, writers: int = 1, readers: int = 1, rate: float | None = 20.0) -> None:
        """Start application threads that follow the flag (`liveshift.version_for`), request by request; their
        requests count for the version that served them; stop them with stop("flag")."""
        if self.started_at is None:
            self.started_at = time.time()
        for role, count in (("writer", writers), ("reader", readers)):
            for _ in range(count):
                ident = next(self._writer_ids if role == "writer" else self._reader_ids)
                client = _FlagClient(self, role, ident, rate)  # type: ignore[arg-type]
                self.clients.append(client)
                client.start()

    def stop(self, side: str | None = None, timeout: float = 30.0) -> None:
        """Stop the threads of `side` (blue, green, flag; default: all) and wait for them; a thread stuck in a
        request finishes it."""
        chosen = [c for c in self.clients if side is None or c.group == side]
        for c in chosen:
            c.stop_event.set()
        for c in chosen:
            c.join(timeout)
            if c.is_alive():
                raise TimeoutError(f"{c.name} did not stop within {timeout}s (stuck in a request)")

    @property
    def running(self) -> bool:
        return any(c.is_alive() for c in self.clients)

    def samples(self, since: float | None = None, until: float | None = None) -> list[Sample]:
        """Every recorded request, by start time; optionally only those started in [since, until)."""
        out = [s for c in self.clients for s in list(c.samples)]
        out = [s for s in out if (since is None or s.started >= since) and (until is None or s.started < until)]
        return sorted(out, key=lambda s: s.started)

    def report(self, since: float | None = None, until: float | None = None) -> Report:
        samples = self.samples(since, until)
        reconnects = {
            side: sum(
                1
                for c in self.clients
                if c.side == side
                for t in c.reconnected_at
                if (since is None or t >= since) and (until is None or t < until)
            )
            for side in ("blue", "green")
        }
        sides = {
            side: summarize(side, [s for s in samples if s.side == side], reconnects[side])
            for side in ("blue", "green")
            if any(s.side == side for s in samples)
        }
        begin = since if since is not None else (samples[0].started if samples else 0.0)
        end = until if until is not None else (samples[-1].started + samples[-1].latency if samples else begin)
        return Report(sides, summarize("all", samples, sum(reconnects.values())), max(0.0, end - begin))

    def requests_by_version(self, group: str | None = None) -> dict[str, int]:
        """Requests served by each version (of the threads of `group`: blue, green, flag; default all)."""
        counts = {"blue": 0, "green": 0}
        for c in self.clients:
            if group is None or c.group == group:
                for sample in list(c.samples):
                    counts[sample.side] += 1
        return counts

    def acknowledged_writes(self) -> int:
        return sum(len(c.rows) for c in self.clients)

    def lost_writes(self, versions: dict[str, Version] | None = None) -> list[LostWrite]:
        """Every row an acknowledged write touched, read back through each version: what is missing or wrong.

        `versions` maps a label to the version to read through; default: blue and green of the workload.
        After contract only the final shape is left; pass e.g. {"final": Version(None, green.row)}.
        """
        if self.running:
            raise RuntimeError("stop the load before checking for lost writes")
        versions = versions or {"blue": self.workload.blue, "green": self.workload.green}
        expected: dict[int, list[int]] = {}
        for c in self.clients:
            for key, state in c.rows.items():
                expected[key] = [state.acked, *state.unacked]
        lost: list[LostWrite] = []
        for label, version in versions.items():
            found = self._read_rows(version, expected)
            for key, options in sorted(expected.items()):
                row = found.get(key)
                if row is None or all(version.row(n) != row for n in options):
                    lost.append(LostWrite(label, key, version.row(options[0]), row))
        return lost

    def _read_rows(self, version: Version, keys: Iterable[int]) -> dict[int, dict[str, Any]]:
        columns = list(version.row(0))
        query = sql.SQL("SELECT {k}, {cols} FROM {t} WHERE {k} = ANY(%s)").format(
            k=sql.Identifier(self.workload.key),
            cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
            t=sql.Identifier(self.workload.table),
        )
        with self.connect(version, "loadgen-check") as conn:
            return {
                int(r[0]): dict(zip(columns, r[1:], strict=True)) for r in conn.execute(query, (list(keys),)).fetchall()
            }
