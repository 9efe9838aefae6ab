"""SQLAlchemy (psycopg 3 driver): engine events route every connection, or every transaction, to a version.

    engine = create_engine("postgresql+psycopg://…")
    attach(engine, router)
    with engine.begin() as conn:
        if version_of(router, conn) == "public_users_email_lower": ...

Session pooling (a direct connection, a session pooler): `connect` points each new DBAPI connection, `checkout`
follows the flag at every checkout. Transaction pooling (`VersionRouter(pooling="transaction")`, PgBouncer in
transaction mode): nothing is set in the session; the `begin` event routes each transaction as it begins
(`liveshift.use_version`, its first statement). A ClientError (the version is gone, or the role may not use it)
propagates from `engine.connect()`, or from `engine.begin()` / the transaction's first statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event

from liveshift.client.errors import ClientError
from liveshift.client.router import VersionRouter


def _driver_connection(dbapi_connection: Any) -> Any:
    return getattr(dbapi_connection, "driver_connection", dbapi_connection)


def attach(engine: Engine, router: VersionRouter) -> None:
    """Route `engine`'s connections (session pooling) or transactions (transaction pooling) with `router`."""
    if router.pooling == "transaction":
        _attach_per_transaction(engine, router)
        return

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        router.point(_driver_connection(dbapi_connection))

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        router.point(_driver_connection(dbapi_connection))

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkout", on_checkout)


def _attach_per_transaction(engine: Engine, router: VersionRouter) -> None:
    def on_begin(connection: Connection) -> None:
        # SQLAlchemy's begin (explicit, or the autobegin of a first statement) sends nothing: psycopg opens the
        # transaction with its first statement, so use_version is the transaction's first statement
        driver = connection.connection.driver_connection
        try:
            router.route(driver)
        except ClientError:
            driver.rollback()  # the failed use_version aborted the transaction: leave the connection clean
            raise

    event.listen(engine, "begin", on_begin)


def version_of(router: VersionRouter, connection: Connection) -> str:
    """The version a SQLAlchemy connection serves. Under transaction pooling: its transaction's, begun (and so
    routed) now if none is, as its first statement would (commit it with `connection.commit()`)."""
    if router.pooling == "transaction" and not connection.in_transaction():
        connection.begin()
    return router.version_of(connection.connection.driver_connection)
