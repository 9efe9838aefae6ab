"""One module per operation, all behind `OperationBase` (see base.py).

Every module in this package that defines an `OperationBase` subclass with a literal `op`
field is part of the file format; adding an operation is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from liveshift.operations.base import OperationBase

_SUPPORT = {
    "base",
    "columns",
    "constraints",
    "constraint_fix",
    "column_swap",
    "enum_types",
    "partition_lifecycle",
    "pk_swap",
}


def _discover() -> tuple[type[OperationBase], ...]:
    found: list[type[OperationBase]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _SUPPORT:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, OperationBase)
                and value is not OperationBase
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return tuple(found)


OPERATION_TYPES: tuple[type[OperationBase], ...] = _discover()
