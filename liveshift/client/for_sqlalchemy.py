"""SQLAlchemy (psycopg 3 driver): engine events point every connection at the router's version.

    engine = create_engine("postgresql+psycopg://…")
    attach(engine, router)
    with engine.begin() as conn:
        if version_of(router, conn) == "public_users_email_lower": ...

`connect` points each new DBAPI connection, `checkout` follows the flag at every checkout. A
ClientError (the version is gone, or the role may not use it) propagates from `engine.connect()`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event

from liveshift.client.router import VersionRouter


def _driver_connection(dbapi_connection: Any) -> Any:
    return getattr(dbapi_connection, "driver_connection", dbapi_connection)


def attach(engine: Engine, router: VersionRouter) -> None:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        router.point(_driver_connection(dbapi_connection))

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        router.point(_driver_connection(dbapi_connection))

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkout", on_checkout)


def version_of(router: VersionRouter, connection: Connection) -> str:
    """The version a SQLAlchemy connection serves."""
    return router.version_of(connection.connection.driver_connection)
