"""Per-request client keys, without reaching for a driver connection.

    with using_key(str(user.id)):
        ...  # every transaction the router routes meanwhile, in this thread or task, uses this key

A context variable, so it follows the request wherever the integration routes (SQLAlchemy's `begin` event,
Django's execute wrapper), and a request that ends takes its key with it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("liveshift_client_key", default=None)


@contextlib.contextmanager
def using_key(key: str) -> Iterator[None]:
    """Route the transactions begun inside the block with `key` (the router's own key outside it)."""
    token = _key.set(key)
    try:
        yield
    finally:
        _key.reset(token)


def current_key() -> str | None:
    """The key of the enclosing `using_key` block, if any."""
    return _key.get()
