"""A real Prometheus server (Debian's `prometheus`) on loopback, scraping exporters the test starts."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, start_http_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_exporter(registry: CollectorRegistry) -> int:
    """Serve `registry` on a loopback port (a daemon thread, ends with the test process)."""
    port = free_port()
    start_http_server(port, addr="127.0.0.1", registry=registry)
    return port


def _wait_ready(url: str, proc: subprocess.Popen, deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {proc.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("prometheus did not become ready")


@contextlib.contextmanager
def prometheus_server(targets: list[int], scrape_interval_s: int = 1) -> Iterator[str]:
    """Start Prometheus scraping 127.0.0.1:PORT for each of `targets`; yields its base URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("Debian's prometheus is not installed: .ci/system-deps installs it")
    work = Path(tempfile.mkdtemp(prefix="liveshift-prom-"))
    statics = ", ".join(f"'127.0.0.1:{p}'" for p in targets)
    (work / "prometheus.yml").write_text(
        f"global:\n  scrape_interval: {scrape_interval_s}s\n  evaluation_interval: {scrape_interval_s}s\n"
        f"scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [{statics}]\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
