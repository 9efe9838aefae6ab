"""The worker's resident memory, sampled from /proc while a migration runs (Linux)."""

from __future__ import annotations

import threading
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """The process's resident set size now (VmRSS), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class RssSampler(threading.Thread):
    """Samples a process's RSS every `every` seconds until stopped: the first sample and the peak."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.every = pid, every
        self.first = self.peak = rss_bytes(pid)
        self.samples = 1
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            self.peak = max(self.peak, rss_bytes(self.pid))
            self.samples += 1

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self.join()
