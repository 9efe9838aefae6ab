"""Which PostgreSQL servers liveshift runs on: refuse the others before anything is planned or written."""

from __future__ import annotations

import psycopg

from liveshift.errors import SpecError

# the oldest server the catalog queries, triggers and DDL are written for (PostgreSQL 13)
MINIMUM_VERSION_NUM = 130000
# the versions the test suite runs against (the embedded wheel's and Debian's)
TESTED_MAJOR_VERSIONS = (15, 18)


def describe(version_num: int) -> str:
    """`server_version_num` as people write it: 150018 -> 15.18 (10 and later: major * 10000 + minor)."""
    return f"{version_num // 10000}.{version_num % 10000}"


def check_version(version_num: int, file: str | None = None) -> None:
    if version_num < MINIMUM_VERSION_NUM:
        tested = ", ".join(str(v) for v in TESTED_MAJOR_VERSIONS)
        raise SpecError(
            f"PostgreSQL {describe(version_num)} is not supported: liveshift needs PostgreSQL "
            f"{describe(MINIMUM_VERSION_NUM)} or later (tested on {tested})",
            file=file,
        )


def require_supported_server(conn: psycopg.Connection, file: str | None = None) -> None:
    """Refuse a server older than PostgreSQL 13, naming its version."""
    row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    check_version(int(row[0]) if row else 0, file)
