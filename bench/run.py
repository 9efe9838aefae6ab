"""The benchmark: the same change done with a plain ALTER and through liveshift, under application traffic.

    python -m bench.run --rows 1000000          # writes docs/benchmark.md and docs/benchmark-latency.png
    python -m bench.run --rows 10000000 --scenarios type_change   # the big one, one scenario
    python -m bench.run --rows 5000 --out /tmp  # a smoke run (seconds)

On one machine, in one run: a fresh embedded PostgreSQL, a Temporal dev server and a worker process
(`python -m liveshift.worker`). Per scenario, two identical databases hold the same table:
  (a) plain: the change's statements in one transaction, while a long reader holds the table;
  (b) liveshift: the migration as a Temporal workflow, the same long reader holding the table as it starts.
Blue application traffic runs at a fixed rate throughout both; in (b) green traffic joins after expand (at
cutover where the scenario says so) and blue leaves at the contract gate (old code drained, as in a real
rollout). Also measured in the same run:
a single UPDATE of the whole table (the physical limit of the backfill), write throughput with and
without the dual-write trigger, the table's size before, at its sampled peak and after each path (bench/space.py),
and the traffic's latency in the window before each change (the baseline its p99 and stalls are judged against).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import itertools
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml
from psycopg import sql
from temporalio.client import Client

from bench.lockwaits import LockWaitSampler, summary
from bench.memory import RssSampler
from bench.report import machine, write_markdown, write_plot
from bench.scenarios import ALIASES, SCENARIOS, TABLE, Scenario
from bench.space import PeakSampler, Size
from bench.stack import BenchStack
from liveshift import phases
from liveshift.backfill.keyset import batch_update_statement
from liveshift.cli.loadgen import LoadGenerator, Report, Sample, SideReport, Version, summarize
from liveshift.cli.process import FINAL_PHASES
from liveshift.connections import open_session
from liveshift.spec import Migration, parse_migration
from liveshift.store.record import load_record
from liveshift.values import LockPolicy, Throttle
from liveshift.versions.triggers import BACKFILL_DIRECT, BACKFILL_TOUCH
from liveshift.workflows.client import start_migration
from liveshift.workflows.models import (
    APPROVE,
    STATUS,
    ApproveRequest,
    MigrationInput,
    MigrationOptions,
    MigrationStatus,
)


@dataclass
class Traffic:
    writers: int = 2
    readers: int = 2
    rate: float = 25.0  # per thread, requests/s
    warmup: float = 2.0
    cooldown: float = 2.0
    hold: float = 5.0  # the long reader's transaction, seconds
    parallelism: int = 1  # liveshift backfill partitions
    lock_timeout_ms: int = LockPolicy().lock_timeout_ms  # liveshift option
    reclaim_every: float = Throttle().reclaim_every  # liveshift option: vacuum between batches (0: never)
    spread: int = Throttle().spread  # liveshift option: key runs a batch spreads over the key's index (1: none)
    max_rows_per_second: float | None = None  # liveshift option: the backfill's rows/s cap (None: none)
    target_batch_ms: int = Throttle().target_batch_ms  # liveshift option: the time a backfill batch aims at
    flush_each_batch: bool = False  # liveshift option: every batch commits synchronously

    def for_scenario(self, scenario: Scenario) -> Traffic:
        """This traffic with the liveshift options the scenario sets itself (the pgroll-like one)."""
        own = {
            "lock_timeout_ms": scenario.lock_timeout_ms,
            "reclaim_every": scenario.reclaim_every,
            "spread": scenario.spread,
        }
        return dataclasses.replace(self, **{k: v for k, v in own.items() if v is not None})


@dataclass
class PathResult:
    label: str
    origin: float  # wall clock; the plot's zero
    duration: float  # the change itself
    report: Report  # traffic from origin to the end of the cooldown
    samples: list[Sample]
    events: list[tuple[float, str]] = field(default_factory=list)  # (wall clock, what happened)
    waits: list[str] = field(default_factory=list)  # the sampler's application waits over 20 ms, by cause
    sizes: tuple[Size, int, Size] | None = None  # the table before the change, at its sampled peak, after it
    baseline: Report | None = None  # the same traffic in the window before the change (the warm-up)
    lock_wait: float = 0.0  # seconds: the longest application wait on a lock a liveshift session held or requested
    by_phase: list[tuple[str, SideReport]] = field(default_factory=list)  # the traffic in each workflow phase

    @property
    def rewrite_seconds(self) -> float:
        """The plain ALTER's own work: from the long reader's commit (its lock queued behind it until then) or its
        issue, whichever is later, to its commit."""
        issued = next((t for t, what in self.events if what == "ALTER issued"), None)
        committed = next((t for t, what in self.events if what == "ALTER committed"), None)
        freed = next((t for t, what in self.events if what == "long reader commits"), 0.0)
        return committed - max(issued, freed) if issued and committed else self.duration


@dataclass
class TriggerCost:
    """Measured on a smaller copy of the table: application writes, and one bulk UPDATE, each without and with
    the dual-write trigger."""

    writes_without: float  # acknowledged writes/s, writers flat out
    writes_with: float
    rows: int
    bulk_plain_s: float  # one UPDATE filling the new column of a copy, no trigger
    bulk_trigger_s: float  # one UPDATE marking every row backfilled, the trigger filling the new column
    bulk_backfill_s: float  # the backfill's own batch statement over the whole table (on the path the plan takes)
    backfill_path: str  # that path: "direct" or "trigger"

    @property
    def overhead(self) -> float:
        return 1 - self.writes_with / self.writes_without if self.writes_without else 0.0

    @property
    def bulk_ratio(self) -> float:
        return self.bulk_plain_s / self.bulk_trigger_s if self.bulk_trigger_s else 0.0

    @property
    def backfill_ratio(self) -> float:
        return self.bulk_plain_s / self.bulk_backfill_s if self.bulk_backfill_s else 0.0


@dataclass
class ScenarioResult:
    scenario: Scenario
    rows: int
    naive: PathResult
    live: PathResult
    update_seconds: float  # one UPDATE of a copy of the table, no traffic
    loaded_update_seconds: float  # the same under the application traffic (update_under_traffic_seconds)
    backfill_seconds: float
    backfill_rows: int
    trigger: TriggerCost
    history_events: int
    phases: list[tuple[str, float]]  # liveshift phase, seconds in it
    acknowledged_writes: int
    lost_writes: int
    lock_timeout_ms: int
    reclaim_every: float
    spread: int
    worker_rss_first: int  # bytes, when the liveshift path starts
    worker_rss_peak: int  # bytes, the highest sample until the workflow completed

    @property
    def verify_seconds(self) -> float:
        return dict(self.phases).get("verify", 0.0)

    @property
    def update_rate(self) -> float:
        return self.rows / self.update_seconds

    @property
    def loaded_update_rate(self) -> float:
        return self.rows / self.loaded_update_seconds

    @property
    def backfill_rate(self) -> float:
        return self.backfill_rows / self.backfill_seconds if self.backfill_seconds else 0.0


def migration_of(scenario: Scenario) -> Migration:
    return parse_migration(yaml.safe_load(scenario.migration), file=f"{scenario.name}.yaml")


def load_table(dsn: str, scenario: Scenario, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(scenario.table_sql())
        conn.execute(scenario.fill_sql(rows))
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(TABLE)))


def single_update_seconds(dsn: str, scenario: Scenario) -> float:
    """The physical limit: one UPDATE filling the new column of a copy of the table (with the unique index the
    backfill maintains, if any), no traffic."""
    copy = sql.Identifier(f"{TABLE}_limit")
    name, typ = scenario.limit_column
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(copy, sql.Identifier(TABLE)))
        conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(copy, sql.Identifier(TABLE)))
        conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(copy, sql.Identifier(name), sql.SQL(typ)))
        if scenario.limit_unique:
            conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {} ({})").format(copy, sql.Identifier(name)))
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(copy))
        conn.execute("CHECKPOINT")
        t0 = time.perf_counter()
        conn.execute(
            sql.SQL("UPDATE {} SET {} = {}").format(copy, sql.Identifier(name), sql.SQL(scenario.limit_expression))
        )
        seconds = time.perf_counter() - t0
        conn.execute(sql.SQL("DROP TABLE {}").format(copy))
    return seconds


def update_under_traffic_seconds(dsn: str, traffic_dsn: str, scenario: Scenario, rows: int, traffic: Traffic) -> float:
    """The same UPDATE while the application traffic the backfill runs beside (blue, and green where it has
    joined by then) runs on the plain path's copy of the table, on the same server, with the lock sampler: the
    CPUs and the WAL shared as during the backfill, and no row lock between the traffic and the UPDATE."""
    sides = 1 if "backfill" in scenario.green_waits_for else 2
    load = LoadGenerator(traffic_dsn, scenario.workload(rows, None))
    load.start("blue", writers=traffic.writers * sides, readers=traffic.readers * sides, rate=traffic.rate)
    sampler = LockWaitSampler(dsn)
    sampler.start()
    try:
        time.sleep(1.0)
        return single_update_seconds(dsn, scenario)
    finally:
        load.stop()
        sampler.halt()


def writes_per_second(dsn: str, scenario: Scenario, rows: int, seconds: float) -> float:
    """Blue writers flat out on the physical table for `seconds`: acknowledged writes/s."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(TABLE)))
    load = LoadGenerator(dsn, scenario.workload(rows, None))
    load.start("blue", writers=2, readers=0, rate=None)
    time.sleep(seconds)
    load.stop()
    return sum(1 for s in load.samples() if s.ok and s.kind != "read") / seconds


def _bulk_backfill_seconds(conn: psycopg.Connection, migration: str, touch: bool) -> tuple[float, str]:
    """One statement over the whole expanded table: the trigger's `up` path for every row (`touch`), or the
    backfill's own batch statement with every key in one batch, on the path the plan takes (direct: as the walk
    runs it, firing no trigger; the bench's role is a superuser)."""
    plan = phases.plan_of(load_record(conn, migration))
    targets = plan.backfill_targets()  # the table, or each leaf partition of a partitioned one
    direct = targets[0].direct and not touch
    conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(TABLE)))
    conn.execute("CHECKPOINT")
    conn.execute(
        sql.SQL("SET liveshift.version = {}").format(sql.Literal(BACKFILL_DIRECT if direct else BACKFILL_TOUCH))
    )
    conn.execute(sql.SQL("SET session_replication_role = {}").format(sql.SQL("replica" if direct else "DEFAULT")))
    seconds = 0.0
    for target in targets:
        last = conn.execute(sql.SQL("SELECT max(id) FROM {}").format(sql.Identifier(target.table))).fetchone()[0]  # type: ignore[index]
        if last is None:
            continue
        statement = batch_update_statement(plan.schema, target, None, [last], direct)
        t0 = time.perf_counter()
        conn.execute(statement, prepare=False)
        seconds += time.perf_counter() - t0
    conn.execute("RESET liveshift.version")
    conn.execute("RESET session_replication_role")
    return seconds, "direct" if direct else "trigger"


def trigger_cost(dsn: str, scenario: Scenario, rows: int, seconds: float, rounds: int = 3) -> TriggerCost:
    """Writes/s without the dual-write trigger, then with it (after expand), `rounds` times (the means
    compared); in the first round also one bulk UPDATE through the trigger, in the second one the backfill's
    own statement over the whole table."""
    m = migration_of(scenario)
    without = with_ = 0.0
    bulk_plain = single_update_seconds(dsn, scenario)
    bulk_trigger = bulk_backfill = 0.0
    path = ""
    for round_ in range(rounds):
        without += writes_per_second(dsn, scenario, rows, seconds)
        with open_session(dsn) as conn:
            phases.prepare(conn, m)
            phases.expand(conn, m.name)
            if round_ == 0:
                bulk_trigger, _ = _bulk_backfill_seconds(conn, m.name, touch=True)
            elif round_ == 1:
                bulk_backfill, path = _bulk_backfill_seconds(conn, m.name, touch=False)
        with_ += writes_per_second(dsn, scenario, rows, seconds)
        with open_session(dsn) as conn:
            phases.rollback(conn, m.name)
    return TriggerCost(without / rounds, with_ / rounds, rows, bulk_plain, bulk_trigger, bulk_backfill, path)


class LongReader(threading.Thread):
    """A reporting query's transaction: holds ACCESS SHARE on the table for `hold` seconds."""

    def __init__(self, dsn: str, hold: float, events: list[tuple[float, str]]) -> None:
        super().__init__(name="long-reader", daemon=True)
        self.dsn, self.hold, self.events = dsn, hold, events
        self.holding = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, application_name="long-reader") as conn:
            conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE id <= 1000").format(sql.Identifier(TABLE)))
            self.events.append((time.time(), f"long reader holds the table ({self.hold:g} s)"))
            self.holding.set()
            time.sleep(self.hold)
            conn.commit()
            self.events.append((time.time(), "long reader commits"))

    def begin(self) -> LongReader:
        self.start()
        self.holding.wait(30)
        return self


def run_naive(dsn: str, scenario: Scenario, rows: int, traffic: Traffic) -> PathResult:
    load = LoadGenerator(dsn, scenario.workload(rows, None))
    load.start("blue", writers=traffic.writers, readers=traffic.readers, rate=traffic.rate)
    try:
        time.sleep(traffic.warmup)
        origin = time.time()
        events: list[tuple[float, str]] = []
        reader = LongReader(dsn, traffic.hold, events).begin()
        time.sleep(0.5)
        space = PeakSampler(dsn, TABLE)
        space.start()
        t0 = time.time()
        events.append((t0, "ALTER issued"))
        with psycopg.connect(dsn, application_name="plain-alter") as conn:
            for statement in scenario.naive:
                conn.execute(statement)
            conn.commit()
        t1 = time.time()
        events.append((t1, "ALTER committed"))
        sizes = space.halt()
        reader.join()
        time.sleep(traffic.cooldown)
        end = time.time()
    finally:
        load.stop()
    report, samples = load.report(origin, end), load.samples(origin, end)
    before = load.report(origin - traffic.warmup, t0)
    return PathResult("plain ALTER", origin, t1 - t0, report, samples, events, sizes=sizes, baseline=before)


async def run_liveshift(
    stack: BenchStack, dsn: str, target: str, scenario: Scenario, rows: int, traffic: Traffic
) -> tuple[PathResult, MigrationStatus, int, LoadGenerator, RssSampler]:
    client = await stack.client()
    await stack.wait_for_worker(client)
    assert stack.worker is not None
    with RssSampler(stack.worker.pid) as rss:
        path, result, events, load = await _drive_liveshift(client, dsn, target, scenario, rows, traffic)
    return path, result, events, load, rss


async def _drive_liveshift(
    client: Client, dsn: str, target: str, scenario: Scenario, rows: int, traffic: Traffic
) -> tuple[PathResult, MigrationStatus, int, LoadGenerator]:
    load = LoadGenerator(dsn, scenario.workload(rows, "public_base"))
    load.start("blue", writers=traffic.writers, readers=traffic.readers, rate=traffic.rate)
    sampler = LockWaitSampler(dsn)
    sampler.start()
    try:
        await asyncio.sleep(traffic.warmup)
        origin = time.time()
        events: list[tuple[float, str]] = []
        reader = LongReader(dsn, traffic.hold, events).begin()
        await asyncio.sleep(0.5)
        space = PeakSampler(dsn, TABLE)
        space.start()
        t0 = time.time()
        handle = await start_migration(
            client,
            MigrationInput(
                target=target,
                migration=migration_of(scenario),
                options=MigrationOptions(
                    parallelism=traffic.parallelism,
                    lock=LockPolicy(lock_timeout_ms=traffic.lock_timeout_ms),
                    throttle=Throttle(
                        reclaim_every=traffic.reclaim_every,
                        spread=traffic.spread,
                        max_rows_per_second=traffic.max_rows_per_second,
                        target_batch_ms=traffic.target_batch_ms,
                        flush_each_batch=traffic.flush_each_batch,
                    ),
                ),
            ),
        )
        green = False
        while True:
            status: MigrationStatus = await handle.query(STATUS, result_type=MigrationStatus)
            if not green and status.phase not in scenario.green_waits_for:
                load.start("green", writers=traffic.writers, readers=traffic.readers, rate=traffic.rate)
                events.append((time.time(), "green traffic starts"))
                green = True
            if status.waiting_for == "cutover":
                await handle.execute_update(APPROVE, ApproveRequest(gate="cutover"))
            elif status.waiting_for == "contract":
                load.stop("blue")  # old code drained before its views go away
                events.append((time.time(), "blue traffic stops"))
                await handle.execute_update(APPROVE, ApproveRequest(gate="contract"))
            if status.phase in FINAL_PHASES:
                break
            await asyncio.sleep(0.2)
        result = await handle.result()
        t1 = time.time()
        sizes = space.halt()
        reader.join()
        await asyncio.sleep(traffic.cooldown)
        end = time.time()
    finally:
        load.stop()
        waits = sampler.halt()
    if result.phase != "complete":
        raise RuntimeError(f"the migration ended {result.phase}: {result.last_error}")
    lines = summary(waits, {t.at: t.phase for t in result.transitions})
    for line in lines:
        say(f"[{scenario.name}] application waits: {line}")
    events += [(t.at.timestamp(), t.phase) for t in result.transitions if t.phase not in ("starting", "complete")]
    history = await handle.fetch_history()
    report, samples = load.report(origin, end), load.samples(origin, end)
    before = load.report(origin - traffic.warmup, t0)
    path = PathResult("liveshift", origin, t1 - t0, report, samples, events, lines, sizes, before)
    # pg_blocking_pids names the holders and the requests queued ahead: a liveshift session either way
    path.lock_wait = max((w.seconds for w in waits if w.blocker.startswith("liveshift")), default=0.0)
    path.by_phase = latency_by_phase(load, result)
    return path, result, len(history.events), load


def phase_durations(status: MigrationStatus) -> list[tuple[str, float]]:
    steps = status.transitions
    return [(a.phase, (b.at - a.at).total_seconds()) for a, b in itertools.pairwise(steps)]


def latency_by_phase(load: LoadGenerator, status: MigrationStatus) -> list[tuple[str, SideReport]]:
    """The requests started within each phase of the workflow: which phase the change's p99 comes from."""
    steps = status.transitions
    windows = [(a.phase, a.at.timestamp(), b.at.timestamp()) for a, b in itertools.pairwise(steps)]
    return [(phase, summarize(phase, load.samples(a, b))) for phase, a, b in windows if b - a >= 0.05]


def backfill_window(status: MigrationStatus) -> float:
    return dict(phase_durations(status)).get("backfill", 0.0)


def run_scenario(
    stack: BenchStack, scenario: Scenario, rows: int, traffic: Traffic, trigger_s: float
) -> ScenarioResult:
    naive_dsn = stack.targets[f"{scenario.name}_naive"]
    live_target = f"{scenario.name}_live"
    live_dsn = stack.targets[live_target]
    trigger_dsn = stack.targets[f"{scenario.name}_trigger"]
    say(f"[{scenario.name}] loading {rows:,} rows (twice) and {min(rows, 100_000):,} for the trigger measurement")
    load_table(naive_dsn, scenario, rows)
    load_table(live_dsn, scenario, rows)
    load_table(trigger_dsn, scenario, min(rows, 100_000))
    say(f"[{scenario.name}] single UPDATE of the whole table (physical limit)")
    update_s = single_update_seconds(live_dsn, scenario)
    traffic = traffic.for_scenario(scenario)
    say(f"[{scenario.name}] the same UPDATE under the application traffic")
    loaded_s = update_under_traffic_seconds(live_dsn, naive_dsn, scenario, rows, traffic)
    say(f"[{scenario.name}] write throughput and a bulk UPDATE, without / with the dual-write trigger")
    trigger = trigger_cost(trigger_dsn, scenario, min(rows, 100_000), trigger_s)
    say(f"[{scenario.name}] (a) plain ALTER under traffic")
    naive = run_naive(naive_dsn, scenario, rows, traffic)
    say(f"[{scenario.name}] (b) liveshift workflow under traffic")
    live, status, events, load, rss = asyncio.run(run_liveshift(stack, live_dsn, live_target, scenario, rows, traffic))
    lost = load.lost_writes({"final": Version(None, scenario.green_row)})
    return ScenarioResult(
        scenario=scenario,
        rows=rows,
        naive=naive,
        live=live,
        update_seconds=update_s,
        loaded_update_seconds=loaded_s,
        backfill_seconds=backfill_window(status),
        backfill_rows=status.rows_done,
        trigger=trigger,
        history_events=events,
        phases=phase_durations(status),
        acknowledged_writes=load.acknowledged_writes(),
        lost_writes=len(lost),
        lock_timeout_ms=traffic.lock_timeout_ms,
        reclaim_every=traffic.reclaim_every,
        spread=traffic.spread,
        worker_rss_first=rss.first,
        worker_rss_peak=rss.peak,
    )


def scenario_names(value: str) -> list[str]:
    """`--scenarios type_change,bench_cents`: names or aliases, each known."""
    names = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        name = ALIASES.get(part, part)
        if name not in SCENARIOS:
            known = ", ".join([*sorted(ALIASES), *sorted(SCENARIOS)])
            raise argparse.ArgumentTypeError(f"unknown scenario {part!r} (known: {known})")
        names.append(name)
    return names


def say(message: str) -> None:
    print(f"{dt.datetime.now():%H:%M:%S} {message}", flush=True)


# liveshift's throttle options the benchmark passes on: (flag, type, Throttle field, help)
THROTTLE_OPTIONS = (
    ("--reclaim-every", float, "reclaim_every", "vacuum the table after every this fraction of its rows (0: never)"),
    ("--spread", int, "spread", "a batch's key runs this many runs apart (1: consecutive keys)"),
    ("--target-batch-ms", int, "target_batch_ms", "the time a batch aims at (its rows stay locked that long)"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table (default 1,000,000)")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all available")
    parser.add_argument(
        "--scenarios",
        type=scenario_names,
        help=f"comma-separated subset, by name or alias ({', '.join(f'{a}={n}' for a, n in ALIASES.items())})",
    )
    parser.add_argument("--rate", type=float, default=25.0, help="requests/s of each application thread")
    parser.add_argument("--writers", type=int, default=2, help="writer threads per side")
    parser.add_argument("--readers", type=int, default=2, help="reader threads per side")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds the long reader holds the table")
    parser.add_argument("--parallelism", type=int, default=1, help="backfill partitions (liveshift option)")
    parser.add_argument(
        "--lock-timeout-ms", type=int, default=LockPolicy().lock_timeout_ms, help="liveshift's lock_timeout option"
    )
    for flag, kind, name, text in THROTTLE_OPTIONS:
        default = getattr(Throttle(), name)
        parser.add_argument(flag, type=kind, default=default, help=f"liveshift's throttle: {text}")
    parser.add_argument(
        "--max-rows-per-second",
        type=float,
        help="liveshift's throttle: cap the backfill's rows/s (default: no cap), to trade its speed for p99",
    )
    parser.add_argument(
        "--flush-each-batch", action="store_true", help="liveshift's throttle: every batch commits synchronously"
    )
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--cooldown", type=float, default=2.0)
    parser.add_argument("--trigger-seconds", type=float, default=3.0, help="per throughput measurement")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="where benchmark.md and the PNG go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    available = [s for s in SCENARIOS.values() if s.available()]
    names = [*(args.scenario or []), *(args.scenarios or [])]
    chosen = [SCENARIOS[n] for n in dict.fromkeys(names)] if names else available
    traffic = Traffic(
        args.writers,
        args.readers,
        args.rate,
        args.warmup,
        args.cooldown,
        args.hold,
        args.parallelism,
        args.lock_timeout_ms,
        args.reclaim_every,
        args.spread,
        args.max_rows_per_second,
        args.target_batch_ms,
        args.flush_each_batch,
    )
    command = " ".join(["python -m bench.run", *argv])
    stack = BenchStack().start()
    try:
        for s in chosen:
            for suffix in ("naive", "live", "trigger"):
                stack.create_database(f"{s.name}_{suffix}")
        stack.start_worker()
        results = [run_scenario(stack, s, args.rows, traffic, args.trigger_seconds) for s in chosen]
        with psycopg.connect(stack.admin_dsn) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    finally:
        stack.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    plot = args.out / "benchmark-latency.png"
    write_plot(results, plot)
    markdown = args.out / "benchmark.md"
    markdown.write_text(write_markdown(results, traffic, command, machine(version), plot.name))
    say(f"wrote {markdown} and {plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
