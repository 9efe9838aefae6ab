"""The session's server is the one asked for (LIVESHIFT_TEST_PG_BINDIR picks its binaries) and is supported."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from liveshift.preflight.server import require_supported_server

pytestmark = pytest.mark.integration


def test_the_server_runs_from_the_binaries_asked_for_and_is_supported(conn: psycopg.Connection) -> None:
    require_supported_server(conn)
    bin_dir = os.environ.get("LIVESHIFT_TEST_PG_BINDIR")
    if bin_dir is None:
        return  # the embedded wheel's server (or LIVESHIFT_TEST_DSN's): nothing more to compare with
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> major 15
    out = subprocess.run([str(Path(bin_dir) / "postgres"), "--version"], capture_output=True, text=True, check=True)
    major = out.stdout.split()[2].split(".")[0]
    row = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()
    assert row is not None and str(row[0]) == major
