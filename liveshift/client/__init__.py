"""liveshift.client: the application side of the blue/green flag.

An application that ships code for both shapes holds a `VersionRouter`; its connections are pointed
at the version `liveshift.version_for` gives the application's client key (search_path = that
version schema and pg_catalog, no fallback to the physical tables), re-read at most `ttl` seconds
after a cutover, shift or rollback. Integrations: `liveshift.client.for_psycopg_pool`,
`liveshift.client.for_sqlalchemy`, `liveshift.client.for_django`. See docs/client.md.
"""

from liveshift.client.errors import ClientError, NoVersion, VersionUnavailable
from liveshift.client.flag import DEFAULT_TTL, VersionFlag, read_version
from liveshift.client.router import VersionRouter

__all__ = [
    "DEFAULT_TTL",
    "ClientError",
    "NoVersion",
    "VersionFlag",
    "VersionRouter",
    "VersionUnavailable",
    "read_version",
]
