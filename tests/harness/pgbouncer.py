"""A real PgBouncer (Debian's package, .ci/system-deps) in transaction pooling, in front of the test's server.

Its own config file, port and log in a directory of its own; listening on loopback only; trust auth against
its own auth file (the server behind it trusts loopback too). PgBouncer refuses to run as root, so as root it
runs as the embedded server's system user, like the server. Few server connections and many clients: every
client's transactions then share server connections, which is where session state leaks.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from liveshift.cli.stack.postgres import SERVER_USER, free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
START_TIMEOUT_S = 30.0


def _config(server: dict[str, str], port: int, folder: Path, pool_size: int) -> str:
    return f"""[databases]
* = host={server.get("host", "127.0.0.1")} port={server.get("port", "5432")}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
"""


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {proc.returncode}: {log.read_text() if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port} within {START_TIMEOUT_S}s")


@contextlib.contextmanager
def pgbouncer(dsn: str, users: list[str], pool_size: int = 2) -> Iterator[str]:
    """Run PgBouncer (transaction pooling, `pool_size` server connections per database and user) in front of
    `dsn`'s server; yields `dsn` through it. `users` may log in (with any password: trust)."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    folder = Path(tempfile.mkdtemp(prefix="liveshift-pgbouncer-"))
    port = free_port()
    (folder / "users.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    (folder / "pgbouncer.ini").write_text(_config({k: str(v) for k, v in params.items()}, port, folder, pool_size))
    run_as: dict[str, object] = {}
    if os.geteuid() == 0:  # pgbouncer will not run as root
        entry = pwd.getpwnam(SERVER_USER)
        for path in (folder, *folder.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    proc = subprocess.Popen(
        [PGBOUNCER, str(folder / "pgbouncer.ini")],
        cwd="/",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **run_as,  # type: ignore[arg-type]
    )
    try:
        _wait_listening(port, proc, folder / "pgbouncer.log")
        yield psycopg.conninfo.make_conninfo(dsn, host="127.0.0.1", port=str(port))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
