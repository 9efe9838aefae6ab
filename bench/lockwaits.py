"""Where the application's stalls come from: pg_locks and pg_stat_activity sampled during a run.

Every `every_s` the sampler reads the application backends (application_name `loadgen…`) that wait for a lock,
when the wait began (pg_locks.waitstart), what kind of lock (a row: `transactionid`/`tuple`; a table:
`relation`) and the backends blocking it (pg_blocking_pids) with their application_name, first query line and
what the blocker itself waits on at that moment, if anything (e.g. WAL I/O while it holds the rows).
It also reads every application statement running for longer than 20 ms and what it waits on, if anything
(pg_stat_activity.wait_event: e.g. WAL writes, I/O), and "cpu" if nothing, so a stall that is no lock wait
is named too. A wait shorter than the sampling interval may be missed; one longer is measured to within it.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import psycopg

_QUERY = """
SELECT l.pid, l.waitstart, extract(epoch FROM clock_timestamp() - l.waitstart)::float8, l.locktype, l.mode,
       b.application_name, left(split_part(coalesce(b.query, ''), E'\\n', 1), 80)
       || coalesce(' [the blocker waits on ' || b.wait_event_type || ':' || b.wait_event || ']', '')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
CROSS JOIN LATERAL unnest(pg_blocking_pids(l.pid)) AS blocking(pid)
JOIN pg_stat_activity b ON b.pid = blocking.pid
WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.application_name LIKE 'loadgen%'
"""

# statements running long that no heavyweight lock holds up: keyed by the statement's start, like a lock wait;
# with the I/O other processes do meanwhile (the checkpointer syncing data files, a backend creating a WAL
# segment), which is what an application's WAL flush waits behind
_SLOW = """
SELECT a.pid, a.query_start, extract(epoch FROM clock_timestamp() - a.query_start)::float8,
       coalesce(a.wait_event_type || ':' || a.wait_event, 'cpu (no wait event)'), '', '',
       left(split_part(a.query, ' ', 1), 12) || coalesce(' [meanwhile: ' || (
           SELECT string_agg(DISTINCT o.backend_type || coalesce(' ' || nullif(o.application_name, ''), '')
                             || ' ' || o.wait_event, ', ')
           FROM pg_stat_activity o
           WHERE o.pid <> a.pid AND o.wait_event_type = 'IO' AND coalesce(o.application_name, '') NOT LIKE 'loadgen%'
       ) || ']', '')
FROM pg_stat_activity a
WHERE a.application_name LIKE 'loadgen%' AND a.state = 'active' AND a.wait_event_type IS DISTINCT FROM 'Lock'
  AND a.query_start < clock_timestamp() - interval '20 milliseconds'
"""


@dataclass
class Wait:
    pid: int
    began: datetime
    seconds: float
    locktype: str
    mode: str
    blocker: str  # application_name of a blocking backend
    blocker_query: str


class LockWaitSampler(threading.Thread):
    def __init__(self, dsn: str, every_s: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.dsn, self.every_s = dsn, every_s
        self.stop = threading.Event()
        self.waits: dict[tuple[int, datetime, str], Wait] = {}  # one per wait and blocker, its longest sample

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True, application_name="bench-lock-sampler") as conn:
            while not self.stop.wait(self.every_s):
                try:
                    rows = conn.execute(_QUERY).fetchall() + conn.execute(_SLOW).fetchall()
                except psycopg.OperationalError:  # the server went away (e.g. the demo's, at its end): what we have
                    return
                for pid, began, seconds, locktype, mode, blocker, query in rows:
                    key = (pid, began, blocker)
                    if key not in self.waits or self.waits[key].seconds < seconds:
                        self.waits[key] = Wait(pid, began, seconds, locktype, mode, blocker, query)

    def halt(self) -> list[Wait]:
        self.stop.set()
        self.join(10)
        return sorted(self.waits.values(), key=lambda w: -w.seconds)


def summary(waits: list[Wait], phase_at: dict[datetime, str], over_s: float = 0.02) -> list[str]:
    """Waits longer than `over_s`, grouped by phase, lock type (or wait event) and blocker: count and longest."""
    groups: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    starts = sorted(phase_at)
    for w in waits:
        if w.seconds < over_s:
            continue
        phase = next((phase_at[t] for t in reversed(starts) if t <= w.began), "before")
        groups[(phase, w.locktype, w.blocker, w.blocker_query)].append(w.seconds)
    lines = []
    for (phase, locktype, blocker, query), seconds in sorted(groups.items(), key=lambda g: -max(g[1])):
        what = f"{locktype} lock held by {blocker} ({query})" if blocker else f"no lock: {locktype} ({query})"
        lines.append(
            f"{len(seconds):4d} waits > {over_s * 1000:.0f} ms, longest {max(seconds) * 1000:6.0f} ms, "
            f"in {phase}: {what}"
        )
    return lines


def main() -> None:
    """Sample a database the application and a migration run in (e.g. `liveshift demo`'s) for `--seconds`, then
    print every application wait over 20 ms with when it began."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("dsn")
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    sampler = LockWaitSampler(args.dsn)
    sampler.start()
    time.sleep(args.seconds)
    for w in sampler.halt():
        if w.seconds >= 0.02:
            cause = f"{w.locktype} lock held by {w.blocker}" if w.blocker else f"no lock: {w.locktype}"
            print(f"{w.began:%H:%M:%S.%f} {w.seconds * 1000:5.0f} ms  {cause} ({w.blocker_query})")


if __name__ == "__main__":
    main()
