"""Django (psycopg 3 backend): a database setting points the alias's connections at a version.

    INSTALLED_APPS = [..., "liveshift.client.for_django.LiveshiftClientConfig"]
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", …,
                             "LIVESHIFT": {"schema": "public", "ttl": 2.0, "key": "web-1"}}}

Each new connection of an alias with a `LIVESHIFT` entry is pointed at its version
(`connection_created`), and at the start of every request a persistent connection
(`CONN_MAX_AGE` > 0) follows the flag (`request_started`). `version_of(alias)` tells the code
which shape the alias's connection serves. A ClientError (the version is gone, or the role may
not use it) propagates from the first query of the request, never the physical table.
"""

from __future__ import annotations

import threading
from typing import Any

from django.apps import AppConfig
from django.core.signals import request_started
from django.db import connections
from django.db.backends.signals import connection_created

from liveshift.client.router import VersionRouter

SETTING = "LIVESHIFT"  # the key in a DATABASES entry
_routers: dict[str, VersionRouter] = {}
_lock = threading.Lock()


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


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    router = router_for(connection.alias)
    if router is not None:
        router.point(connection.connection)


def _on_request_started(sender: Any, **kwargs: Any) -> None:
    for alias in connections.settings:
        wrapper = connections[alias]
        router = router_for(alias)
        if router is not None and wrapper.connection is not None and not wrapper.in_atomic_block:
            router.point(wrapper.connection)


def install() -> None:
    """Connect the signal handlers (done by LiveshiftClientConfig.ready; idempotent)."""
    connection_created.connect(_on_connection_created, dispatch_uid="liveshift.client.connection_created")
    request_started.connect(_on_request_started, dispatch_uid="liveshift.client.request_started")


def version_of(alias: str = "default") -> str:
    """The version the alias's connection (in this thread) serves; connects it first if need be."""
    wrapper = connections[alias]
    wrapper.ensure_connection()
    router = router_for(alias)
    if router is None:
        raise LookupError(f"database {alias!r} has no {SETTING!r} setting and no router from use_router")
    return router.version_of(wrapper.connection)


class LiveshiftClientConfig(AppConfig):
    name = "liveshift.client"
    label = "liveshift_client"
    verbose_name = "liveshift client"

    def ready(self) -> None:
        install()
