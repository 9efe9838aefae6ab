"""What the enum operations share: which columns of the schema's tables hold an enum type, and the checks on
the type and its labels (create_enum, drop_enum, add_enum_value, rename_enum_value, remove_enum_value)."""

from __future__ import annotations

from liveshift.catalog import Catalog
from liveshift.errors import SpecError
from liveshift.operations.base import hidden_name


def _bare(type_: str, schema: str) -> str:
    name = type_.strip().replace('"', "")
    return name.removeprefix(f"{schema}.")


def enum_columns(catalog: Catalog, name: str) -> list[tuple[str, str, bool]]:
    """(table, column, whether an array of it) for every column of the schema's tables of enum type `name`."""
    found = []
    for table in catalog.tables.values():
        for column in table.columns:
            bare = _bare(column.type, catalog.schema_name)
            if bare == name or bare == f"{name}[]":
                found.append((table.name, column.name, bare.endswith("[]")))
    return found


def require_enum(catalog: Catalog, name: str, op: str, field: str = "enum") -> list[str]:
    """The labels of enum type `name` of the schema, or a SpecError naming the field."""
    labels = catalog.enums.get(name)
    if labels is None:
        raise SpecError(f"enum type {catalog.schema_name}.{name!r} does not exist", op=op, field=field)
    if hidden_name("enum", name) in catalog.enums:
        raise SpecError(
            f"enum type {name!r} is swapped for a new one by remove_enum_value (here, or in a migration in flight); "
            "change it in a later migration",
            op=op,
            field=field,
        )
    return labels


def require_label(labels: list[str], label: str, enum: str, op: str, field: str) -> None:
    if label not in labels:
        raise SpecError(f"enum type {enum!r} has no value {label!r} (it has: {', '.join(labels)})", op=op, field=field)
