"""How liveshift opens its database connections: none of them waits forever on a network gone silent.

A partition between the worker and PostgreSQL (a dead NAT entry, a failed-over load balancer, a host
that vanished) sends no reset and no FIN: without a bound, a backfill batch or a DDL step waits on its
answer forever while the activity goes on heartbeating, and the migration is stuck. So every connection:
- probes an idle connection (libpq TCP keepalives: e.g. while a long CREATE INDEX CONCURRENTLY runs, the
  server's kernel answers them; a silent network does not), and
- gives up on data the server's kernel has not acknowledged within `tcp_user_timeout` (a query sent into
  the silence).
Either ends the connection with an error; the activity fails and Temporal retries it on a new connection.
The server end of such a connection may sit idle in a transaction, holding its row or table locks,
until the server notices (its own keepalives, by default after hours): `guard_session` bounds that.
A DSN's own settings win over these defaults (`?keepalives_idle=…`, `options=-c idle_in_transaction…`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# an idle connection is probed after 30 s, then every 10 s; 3 probes unanswered end it (within 60 s);
# data unacknowledged for 30 s ends it. A busy server still acknowledges at the TCP level: no long
# statement is cut by these, only silence.
TCP_DEFAULTS = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",
}
# liveshift never idles inside a transaction longer than one round trip: a session that does lost its client
IDLE_IN_TRANSACTION_TIMEOUT = "10s"


def tcp_settings(dsn: str) -> dict[str, str]:
    """The keepalive and user-timeout defaults the DSN does not set itself."""
    given = conninfo_to_dict(dsn)
    return {key: value for key, value in TCP_DEFAULTS.items() if key not in given}


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection:
    """`psycopg.connect` with the TCP defaults (the DSN's values, then `kwargs`, win)."""
    return psycopg.connect(dsn, **{**tcp_settings(dsn), **kwargs})


def guard_session(conn: psycopg.Connection) -> None:
    """The server ends this session when it idles in a transaction (its client gone silent mid-transaction)
    beyond `IDLE_IN_TRANSACTION_TIMEOUT`, releasing its locks; unless the role, database or DSN set a bound."""
    conn.execute(
        "SELECT set_config('idle_in_transaction_session_timeout', %s, false) "
        "WHERE current_setting('idle_in_transaction_session_timeout') = '0'",
        (IDLE_IN_TRANSACTION_TIMEOUT,),
    )


def open_session(dsn: str, **kwargs: Any) -> psycopg.Connection:
    """A session of the core: autocommit (each step manages its transactions), bounded against a network gone
    silent at both ends (TCP keepalives and tcp_user_timeout here, idle-in-transaction on the server)."""
    conn = connect(dsn, autocommit=True, application_name="liveshift", **kwargs)
    try:
        guard_session(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def sessions_like(conn: psycopg.Connection) -> Callable[[], psycopg.Connection]:
    """Opens more sessions as `conn` was opened: its connection options as libpq holds them, the password
    included (which `conn.info.dsn` leaves out)."""
    options = {o.keyword.decode(): o.val.decode() for o in conn.pgconn.info if o.val is not None}
    dsn = make_conninfo(**options)
    return lambda: open_session(dsn)
