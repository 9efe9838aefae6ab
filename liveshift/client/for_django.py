"""Django (psycopg 3 backend): a database setting routes the alias's connections, or transactions, to a version.

    INSTALLED_APPS = [..., "liveshift.client.for_django.LiveshiftClientConfig"]
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", …,
                             "LIVESHIFT": {"schema": "public", "ttl": 2.0, "key": "web-1"}}}

Session pooling (the default): each new connection of an alias with a `LIVESHIFT` entry is pointed at its version
(`connection_created`), and at the start of every request a persistent connection (`CONN_MAX_AGE` > 0) follows the
flag (`request_started`).

Transaction pooling (`"pooling": "transaction"`, PgBouncer in transaction mode): nothing is set in the session; an
execute wrapper routes each transaction at its first statement (`liveshift.use_version`): an atomic block's
transaction, or, in autocommit, each statement in a transaction of its own. Within a request every transaction
keeps the version the request's first one got (its code picked one shape), so a shift mid-request does not split
it. `version_of(alias)` tells the code which shape the alias serves. A ClientError (the version is gone, or the
role may not use it) propagates from the first query of the request, never the physical table.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import psycopg
from django.apps import AppConfig
from django.core.signals import request_finished, request_started
from django.db import connections
from django.db.backends.signals import connection_created
from psycopg.pq import TransactionStatus

from liveshift.client.router import VersionRouter

SETTING = "LIVESHIFT"  # the key in a DATABASES entry
_routers: dict[str, VersionRouter] = {}
_lock = threading.Lock()
# the version each alias holds for the request in progress (None outside a request: each transaction follows the flag)
_held: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("liveshift_django_held", default=None)


def use_router(alias: str, router: VersionRouter) -> None:
    """Give an alias a router made in code (instead of from its `LIVESHIFT` setting)."""
    with _lock:
        _routers[alias] = router


def router_for(alias: str) -> VersionRouter | None:
    """The alias's router: registered with `use_router`, or built once from its `LIVESHIFT` setting."""
    with _lock:
        if alias not in _routers:
            options = connections.settings[alias].get(SETTING)
            if options is None:
                return None
            _routers[alias] = VersionRouter(**options)
        return _routers[alias]


def _route(router: VersionRouter, alias: str, raw: psycopg.Connection) -> str:
    """Route the transaction `raw` begins now: to the version the request holds, else the flag's (then held)."""
    held = _held.get()
    version = router.route(raw, hold=held.get(alias) if held is not None else None)
    if held is not None:
        held[alias] = version
    return version


def route_statement(execute: Any, sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Django execute wrapper (transaction pooling): a statement that begins a transaction routes it first."""
    wrapper = context["connection"]
    router = router_for(wrapper.alias)
    raw: psycopg.Connection = wrapper.connection
    if router is None or raw.info.transaction_status != TransactionStatus.IDLE:
        return execute(sql, params, many, context)  # in a transaction its first statement routed
    if not raw.autocommit:  # an atomic block's first statement: the transaction it begins is routed
        _route(router, wrapper.alias, raw)
        return execute(sql, params, many, context)
    with raw.transaction():  # autocommit: the statement runs in a routed transaction of its own
        _route(router, wrapper.alias, raw)
        return execute(sql, params, many, context)


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    router = router_for(connection.alias)
    if router is None:
        return
    if router.pooling == "transaction":
        if route_statement not in connection.execute_wrappers:
            connection.execute_wrappers.append(route_statement)
        return
    router.point(connection.connection)


def _on_request_started(sender: Any, **kwargs: Any) -> None:
    _held.set({})
    for alias in connections.settings:
        wrapper = connections[alias]
        router = router_for(alias)
        if router is None or router.pooling == "transaction":
            continue
        if wrapper.connection is not None and not wrapper.in_atomic_block:
            router.point(wrapper.connection)


def _on_request_finished(sender: Any, **kwargs: Any) -> None:
    _held.set(None)


def install() -> None:
    """Connect the signal handlers (done by LiveshiftClientConfig.ready; idempotent)."""
    connection_created.connect(_on_connection_created, dispatch_uid="liveshift.client.connection_created")
    request_started.connect(_on_request_started, dispatch_uid="liveshift.client.request_started")
    request_finished.connect(_on_request_finished, dispatch_uid="liveshift.client.request_finished")


def version_of(alias: str = "default") -> str:
    """The version the alias's connection (in this thread) serves; connects it first if need be. Under transaction
    pooling: the current transaction's, else the one the request holds, else the flag's (held from then on)."""
    wrapper = connections[alias]
    wrapper.ensure_connection()
    router = router_for(alias)
    if router is None:
        raise LookupError(f"database {alias!r} has no {SETTING!r} setting and no router from use_router")
    raw: psycopg.Connection = wrapper.connection
    if router.pooling != "transaction" or raw.info.transaction_status != TransactionStatus.IDLE:
        return router.version_of(raw)
    held = _held.get()
    if held is not None and alias in held:
        return held[alias]
    if not raw.autocommit:
        return _route(router, alias, raw)  # in an atomic block: its transaction begins now, routed
    with raw.transaction():
        return _route(router, alias, raw)


class LiveshiftClientConfig(AppConfig):
    name = "liveshift.client"
    label = "liveshift_client"
    verbose_name = "liveshift client"

    def ready(self) -> None:
        install()
