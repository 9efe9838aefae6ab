"""psycopg_pool: connections pointed at the router's version when made and at every checkout.

    pool = ConnectionPool(dsn, **pool_callbacks(router))
    with pool.connection() as conn:
        if router.version_of(conn) == "public_users_email_lower": ...

`configure` points each new connection; `check` (run by the pool at every checkout) follows the
flag, so a shift or rollback reaches the next checkout at most `ttl` seconds later. A pool drops
connections whose callbacks raise and retries until its timeout, which would hide why; so these
never raise: a connection that cannot get its version resolves no application relation, and
`router.version_of(conn)` raises the ClientError naming the version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liveshift.client.router import VersionRouter


def pool_callbacks(router: VersionRouter) -> dict[str, Callable[[Any], None]]:
    """`configure` and `check` for psycopg_pool.ConnectionPool (`check` needs psycopg_pool 3.2 or later)."""
    return {"configure": router.prepare, "check": router.prepare}
