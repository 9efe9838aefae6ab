"""The CLI as an operator runs it, in subprocesses: `liveshift …` from the checkout, and `liveshift dev`'s whole
stack (embedded PostgreSQL, Temporal dev server with its UI, a worker) with commands run against it."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
COMMAND_TIMEOUT = 120


def liveshift(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liveshift.cli.main", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def cli_env(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
    env["LIVESHIFT_CONFIG"] = str(config)
    return env


class DevStack:
    """A `liveshift dev --json` subprocess and what its ready line says."""

    def __init__(self, data_dir: Path, port: int, ui_port: int) -> None:
        self.data_dir, self.port, self.ui_port = data_dir, port, ui_port
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 120, extra_args: tuple[str, ...] = ()) -> DevStack:
        cmd = [sys.executable, "-m", "liveshift.cli.main", "dev", "--json", "--data-dir", str(self.data_dir)]
        cmd += ["--port", str(self.port), "--ui-port", str(self.ui_port), *extra_args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESHIFT_")}
        self.log = (self.data_dir.parent / f"{self.data_dir.name}.stderr").open("w")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=env)
        try:
            self.info = json.loads(self._ready_line(timeout))
        except BaseException:
            self.stop()
            raise
        return self

    def _ready_line(self, timeout: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + timeout
        buffer = b""
        while b"\n" not in buffer:
            if self.process.poll() is not None:
                raise AssertionError(f"liveshift dev exited {self.process.returncode}; see {self.log.name}")
            assert time.monotonic() < deadline, f"liveshift dev --json printed no ready line; see {self.log.name}"
            if select.select([self.process.stdout], [], [], 0.2)[0]:
                buffer += os.read(self.process.stdout.fileno(), 65536)
        return buffer.decode().splitlines()[0]

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def cli(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "liveshift.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=cli_env(Path(self.info["config"])),
            cwd=ROOT,
        )

    def cli_json(self, *args: str) -> Any:
        result = self.cli(*args, "--json")
        assert result.stdout.strip(), result.stderr
        return json.loads(result.stdout.splitlines()[-1])

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.info["postgres_dsn"], autocommit=True) as conn:
            conn.execute(statement)

    def wait_for(self, workflow_id: str, predicate: Any, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.cli_json("status", workflow_id)
            if predicate(status):
                return status
            assert time.monotonic() < deadline, f"timed out; last status {status}"
            time.sleep(0.5)
