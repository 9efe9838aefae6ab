"""The migration file: YAML or JSON, validated by pydantic and discriminated on `op`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from liveshift.errors import SpecError
from liveshift.operations import OPERATION_TYPES
from liveshift.versions.schemas import BASE_VERSION

Operation = Annotated[Union[OPERATION_TYPES], Field(discriminator="op")]  # type: ignore[valid-type]  # noqa: UP007


class Migration(BaseModel):
    """One migration: its name is also the green version's name."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(
        pattern=r"^[a-z0-9_][a-z0-9_-]*$",
        max_length=100,
        description="Version name: lower case letters, digits, _ and - (e.g. 01_create_tables); also names the "
        "green schema, <schema>_<name>, shortened with a hash past 63 bytes",
    )
    schema_name: str = Field(
        "public", alias="schema", min_length=1, max_length=20, description="The schema holding the tables"
    )
    operations: list[Operation] = Field(min_length=1)  # type: ignore[valid-type]

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == BASE_VERSION:
            raise ValueError(
                f"'{BASE_VERSION}' names the version liveshift creates for the shape before "
                "the first migration; choose another name"
            )
        return value

    def tables(self) -> list[str]:
        return sorted({t for op in self.operations for t in op.tables()})


def _field_path(loc: tuple[Any, ...]) -> tuple[int | None, str]:
    """('operations', 2, 'add_column', 'column', 'type') -> (2, 'column.type')."""
    if len(loc) >= 2 and loc[0] == "operations" and isinstance(loc[1], int):
        # a union's branch (a model's name, or `str`) is no field of the file: left out
        rest = [str(p) for p in loc[2:] if not (isinstance(p, str) and (p[:1].isupper() or p == "str"))]
        if rest and rest[0] in {t.op_name for t in OPERATION_TYPES}:  # type: ignore[attr-defined]
            rest = rest[1:]
        return loc[1], ".".join(rest)
    return None, ".".join(str(p) for p in loc)


def parse_migration(data: Any, file: str = "<input>") -> Migration:
    try:
        return Migration.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        index, field = _field_path(tuple(err["loc"]))
        message = err["msg"]
        if err["type"] in ("union_tag_not_found", "union_tag_invalid"):  # the discriminator itself is wrong
            field = field or "op"
            known = ", ".join(sorted(t.op_name for t in OPERATION_TYPES))  # type: ignore[attr-defined]
            tag = (err.get("ctx") or {}).get("tag")
            message = f"unknown operation {tag!r}" if err["type"] == "union_tag_invalid" else "Field required"
            message += f"; one of: {known}"
        op = None
        if index is not None and isinstance(data, dict):
            ops = data.get("operations") or []
            if index < len(ops) and isinstance(ops[index], dict):
                op = ops[index].get("op")
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise SpecError(message + more, file=file, index=index, op=op, field=field or None) from None


def load_migration(path: str | Path) -> Migration:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise SpecError("a migration file holds a mapping with 'name' and 'operations'", file=str(path))
    return parse_migration(data, file=str(path))


def json_schema() -> dict[str, Any]:
    return Migration.model_json_schema(by_alias=True)
