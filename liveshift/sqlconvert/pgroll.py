"""`liveshift convert` of pgroll migration files: each pgroll operation becomes the liveshift operation(s) that
make the same change; pgroll's own `sql` operation becomes raw_sql (at expand, or at contract for `onComplete`).

pgroll's files are read with pydantic models of its operations (pgroll_models.py), so a field pgroll does not
have is refused naming the file, the operation and the field. A field pgroll has and liveshift does not (or a
value liveshift's operation treats differently) is never dropped silently: it is a REVIEW of the converted file,
as convert's other candidates are. An `up` or `down` that is the column itself (pgroll's way of saying "the
value as it is") is what liveshift does without one, so it is left out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream
from pydantic import ValidationError

from liveshift.errors import SpecError
from liveshift.operations import OPERATION_TYPES
from liveshift.sqlconvert.convert import Conversion, finish
from liveshift.sqlconvert.draft import Draft, State
from liveshift.sqlconvert.pgroll_models import (
    PGROLL_OPERATIONS,
    Column,
    CreateConstraint,
    CreateIndex,
    CreateTable,
    PgrollMigration,
    Sql,
    TableConstraint,
)
from liveshift.sqlconvert.statements import SqlInputError

PGROLL_SUFFIXES = (".yaml", ".yml", ".json")


def supports(op: str, field: str | None = None) -> bool:
    """Whether this liveshift has operation `op` (and its field `field`): pgroll's primary keys, identity columns
    and constraints with up/down map onto operations that may not be in every build."""
    types = {t.op_name: t for t in OPERATION_TYPES}  # type: ignore[attr-defined]
    if op not in types:
        return False
    return (
        field is None
        or field in types[op].model_fields
        or any(f.alias == field for f in types[op].model_fields.values())
    )


def column_supports(field: str) -> bool:
    from liveshift.operations.columns import ColumnDef

    return field in ColumnDef.model_fields


def expression(text: str) -> str:
    """pgroll's up/down may be written `SELECT <expression>` (it runs them as a query): the expression itself,
    which is what liveshift takes; anything else as given."""
    try:
        statements = parse_sql(text)
    except ParseError:
        return text
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        return text
    select = statements[0].stmt
    plain = not any(getattr(select, f) for f in ("fromClause", "whereClause", "groupClause", "havingClause"))
    if plain and select.targetList and len(select.targetList) == 1 and select.targetList[0].name is None:
        return str(RawStream()(select.targetList[0].val))
    return f"({text})"  # a query with FROM: a scalar subquery


def _same(column: str, value: str | None) -> bool:
    """pgroll's "the value as it is": up/down naming the column itself."""
    return value is not None and value.strip().strip('"') == column


class _Op:
    """One pgroll operation being converted: its drafts, and its reviews (put on the first draft)."""

    def __init__(self, name: str, index: int, line: int) -> None:
        self.name, self.index, self.line = name, index, line
        self.drafts: list[Draft] = []
        self.reviews: list[tuple[str, str]] = []

    def add(self, op: dict[str, Any]) -> dict[str, Any]:
        self.drafts.append(Draft(op, self.line, f"pgroll {self.name} (operations[{self.index}])"))
        return op

    def lacks(self, field: str, message: str) -> None:
        self.reviews.append((field, f"pgroll's {field}: {message}"))

    def done(self) -> list[Draft]:
        first = self.drafts[0]
        first.reviews += self.reviews
        return self.drafts


# -- columns and constraints ------------------------------------------------------------------------------------


def _storage(text: str | None) -> dict[str, str | int | float | bool]:
    """`fillfactor = 70, deduplicate_items = off` as create_index's storage_parameters."""
    params: dict[str, str | int | float | bool] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, _, value = item.partition("=")
        value = value.strip()
        params[key.strip()] = int(value) if re.fullmatch(r"-?\d+", value) else value
    return params


def _references(ref: Any, op: _Op, field: str, many: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"table": ref.table}
    if many:
        out["columns"] = ref.columns
        if ref.name:  # the constraint's own `name` names it
            op.lacks(f"{field}.name", "the constraint's `name` names the key; this second name is left out")
    else:
        out["column"] = ref.column
        if ref.name:
            out["name"] = ref.name
    options = {"on_delete": ref.on_delete, "on_update": ref.on_update}
    out.update({k: v.upper() for k, v in options.items() if v and v.upper() != "NO ACTION"})
    if getattr(ref, "on_delete_set_columns", None):
        out["on_delete_columns"] = ref.on_delete_set_columns
    if ref.match_type and ref.match_type.upper() != "SIMPLE":
        if ref.match_type.upper() == "PARTIAL":
            op.lacks(f"{field}.match_type", "MATCH PARTIAL is not implemented by PostgreSQL itself; left out")
        else:
            out["match"] = ref.match_type.lower()
    return out


def _identity(column: Column, op: _Op, field: str) -> str | dict[str, Any] | None:
    """`always` or `by_default`, or with sequence options liveshift's identity map (its fields)."""
    identity = column.generated.identity if column.generated else None
    if identity is None:
        return None
    generated = "always" if (identity.user_specified_values or "ALWAYS").upper() == "ALWAYS" else "by_default"
    if not identity.sequence_options:
        return generated
    options = _sequence_options(identity.sequence_options)
    if options is None:
        field = f"{field}.generated.identity.sequence_options"
        op.lacks(field, "only START, INCREMENT, MINVALUE, MAXVALUE, CACHE and [NO] CYCLE are taken; left out")
        return generated
    return {"generated": generated, **options}


_SEQUENCE_FIELDS = {"start": "start", "increment": "increment", "minvalue": "min_value", "maxvalue": "max_value"}
_SEQUENCE_FIELDS |= {"cache": "cache", "cycle": "cycle"}


def _sequence_options(text: str) -> dict[str, Any] | None:
    """pgroll's `sequence_options` (CREATE SEQUENCE's options as text, read with pglast) as liveshift identity
    fields; None when it says something else (AS type, OWNED BY, a value liveshift's fields do not take)."""
    try:
        (raw,) = parse_sql(f"CREATE SEQUENCE s {text}")
    except (ParseError, ValueError):
        return None
    options: dict[str, Any] = {}
    for element in raw.stmt.options or ():
        if element.defname not in _SEQUENCE_FIELDS:
            return None
        arg = element.arg
        value = arg.boolval if isinstance(arg, ast.Boolean) else getattr(arg, "ival", None)
        if value is None:  # NO MINVALUE, or a value past an integer's range
            return None
        options[_SEQUENCE_FIELDS[element.defname]] = bool(value) if element.defname == "cycle" else value
    return options


def column_def(column: Column, op: _Op, field: str) -> dict[str, Any]:
    """A pgroll column as liveshift's: pgroll's columns are NOT NULL unless `nullable: true`."""
    out: dict[str, Any] = {"name": column.name, "type": column.type, "nullable": bool(column.nullable)}
    if column.pk:
        out["primary_key"] = True
    if column.default is not None:
        out["default"] = column.default
    if column.unique:
        out["unique"] = True
    if column.check is not None:
        check = {"name": column.check.name, "expression": column.check.constraint}
        out["check"] = check | ({"no_inherit": True} if column.check.no_inherit else {})
    if column.references is not None:
        out["references"] = _references(column.references, op, f"{field}.references", many=False)
    if column.comment is not None:
        out["comment"] = column.comment
    identity = _identity(column, op, field)
    if identity is not None and _has_column_field(op, "identity", field):
        out["identity"] = identity
    if column.generated and column.generated.expression and _has_column_field(op, "generated", field):
        out["generated"] = column.generated.expression
    return out


def _has_column_field(op: _Op, name: str, field: str) -> bool:
    if column_supports(name):
        return True
    op.lacks(f"{field}.generated", f"this liveshift's columns have no '{name}' (identity and generated); left out")
    return False


_EXCLUDE_ELEMENT = re.compile(r'^\s*("?[A-Za-z_][A-Za-z0-9_$]*"?)\s+WITH\s+(\S+)\s*$', re.IGNORECASE)


def _exclude(constraint: TableConstraint, op: _Op, field: str) -> dict[str, Any]:
    spec = constraint.exclude
    assert spec is not None
    elements = []
    for element in (spec.elements or "").split(","):
        match = _EXCLUDE_ELEMENT.match(element)
        if match is None:
            raise SpecError(
                f"exclude element {element.strip()!r}: liveshift's exclusion constraints take `column WITH operator`",
                field=f"{field}.exclude.elements",
            )
        elements.append({"column": match.group(1).strip('"'), "operator": match.group(2)})
    out: dict[str, Any] = {"exclude": elements}
    if spec.index_method:
        out["method"] = spec.index_method.lower()
    if spec.predicate:
        out["where"] = spec.predicate
    return out


def table_constraint(table: str, constraint: TableConstraint, op: _Op, field: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": constraint.name, "type": constraint.type}
    if constraint.type in ("unique", "foreign_key") and constraint.columns:
        out["columns"] = constraint.columns
    if constraint.type == "check":
        out["check"] = constraint.check
        if constraint.no_inherit:
            out["no_inherit"] = True
    if constraint.nulls_not_distinct:
        out["nulls_not_distinct"] = True
    if constraint.type == "foreign_key" and constraint.references is not None:
        out["references"] = _references(constraint.references, op, f"{field}.references", many=True)
        if constraint.deferrable:  # a foreign key says it in its references
            out["references"] |= {"deferrable": True, "initially_deferred": bool(constraint.initially_deferred)}
    elif constraint.deferrable:
        out |= {"deferrable": True, "initially_deferred": bool(constraint.initially_deferred)}
    if constraint.type == "exclude":
        out |= _exclude(constraint, op, field)
    params = constraint.index_parameters
    if params is not None:
        if params.include_columns:
            out["include"] = params.include_columns
        for name in ("storage_parameters", "tablespace"):
            if getattr(params, name):
                op.lacks(f"{field}.index_parameters.{name}", "create_table's constraints have no such option; left out")
    return out


# -- operations ---------------------------------------------------------------------------------------------------


def _create_table(spec: CreateTable, op: _Op) -> None:
    out: dict[str, Any] = {"op": "create_table", "table": spec.name}
    out["columns"] = [column_def(c, op, f"columns[{i}]") for i, c in enumerate(spec.columns)]
    constraints = []
    for i, constraint in enumerate(spec.constraints or []):
        if constraint.type == "primary_key":
            out["primary_key"] = constraint.columns
            if constraint.name != f"{spec.name}_pkey":
                out["primary_key_name"] = constraint.name
            continue
        constraints.append(table_constraint(spec.name, constraint, op, f"constraints[{i}]"))
    keyed = [c for c in out["columns"] if c.pop("primary_key", False)]
    if len(keyed) == 1 and "primary_key" not in out:
        keyed[0]["primary_key"] = True
    elif keyed:  # a key over several columns is create_table's `primary_key` list
        out["primary_key"] = [c["name"] for c in keyed]
    if constraints:
        out["constraints"] = constraints
    if spec.comment is not None:
        out["comment"] = spec.comment
    op.add(out)


def _add_column(spec: Any, op: _Op) -> None:
    out: dict[str, Any] = {"op": "add_column", "table": spec.table, "column": column_def(spec.column, op, "column")}
    if spec.up is not None:
        out["up"] = expression(spec.up)
    op.add(out)


_ALTER_FIELDS = ("name", "type", "nullable", "default", "comment")


def _alter_column(spec: Any, op: _Op) -> None:
    """pgroll's alter_column, name included (a rename is alter_column's `name` in liveshift too)."""
    out: dict[str, Any] = {"op": "alter_column", "table": spec.table, "column": spec.column}
    for name in _ALTER_FIELDS:
        if name in spec.model_fields_set:  # an explicit null (default, comment) removes it, as in pgroll
            out[name] = getattr(spec, name)
    if spec.unique is not None:
        out["unique"] = {"name": spec.unique.name} if spec.unique.name else True
    if spec.check is not None:
        out["check"] = {"name": spec.check.name, "expression": spec.check.constraint}
        if spec.check.no_inherit:
            out["check"]["no_inherit"] = True
    if spec.references is not None:
        out["references"] = _references(spec.references, op, "references", many=False)
    for name in ("up", "down"):
        value = getattr(spec, name)
        if value is not None and not _same(spec.column, value):
            out[name] = expression(value)
    op.add(out)


def _up_down(spec: CreateConstraint) -> tuple[dict[str, str], dict[str, str]]:
    """A multi-column up/down without the entries that keep the value as it is."""
    up = {c: expression(v) for c, v in (spec.up or {}).items() if not _same(c, v)}
    down = {c: expression(v) for c, v in (spec.down or {}).items() if not _same(c, v)}
    return up, down


def _create_constraint(spec: CreateConstraint, op: _Op) -> None:
    columns = list(spec.columns or [])
    up, down = _up_down(spec)
    if spec.type == "primary_key":
        if not supports("add_primary_key"):
            raise SpecError("this liveshift has no add_primary_key operation", field="type")
        op.add({"op": "add_primary_key", "table": spec.table, "columns": columns, "name": spec.name})
        if up or down:
            op.lacks("up", "add_primary_key proves the columns NOT NULL and unique as they are; no up/down")
        return
    if (up or down) and not supports("add_constraint", "up"):
        op.lacks("up", "this liveshift's add_constraint takes no up/down (rows that violate it fail it); left out")
        up, down = {}, {}
    up = {c: up.get(c, c) for c in columns if c in up or c in down}  # down maps back what up fixed
    out: dict[str, Any] = {"op": "add_constraint", "table": spec.table, "name": spec.name, "type": spec.type}
    if spec.type == "check":
        out["check"] = spec.check
        if spec.no_inherit:
            op.lacks("no_inherit", "add_constraint has no NO INHERIT; left out")
    if spec.type in ("unique", "foreign_key") or up:
        # with up, a check's columns are those up fixes (the others keep their values)
        out["columns"] = list(up) if spec.type == "check" else columns
    if spec.references is not None:
        refs = _references(spec.references, op, "references", many=True)
        out["references"] = refs
        for extra in sorted(set(refs) - {"table", "columns"}):
            if not _references_field(extra):  # the foreign key options this liveshift's add_constraint takes
                refs.pop(extra)
                op.lacks(f"references.{extra}", "add_constraint's references have no such option; left out")
    out |= {"up": up} if up else {}
    out |= {"down": down} if down else {}
    op.add(out)


def _references_field(name: str) -> bool:
    from liveshift.operations.add_constraint import References

    return name in References.model_fields


def _create_index(spec: CreateIndex, op: _Op) -> None:
    out: dict[str, Any] = {"op": "create_index", "table": spec.table, "name": spec.name}
    columns: list[Any] = []
    for i, col in enumerate(spec.index_columns()):
        entry: dict[str, Any] = {"name": col.column}
        if col.opclass is not None:
            entry["opclass"] = col.opclass.name
            if col.opclass.params:
                op.lacks(f"columns[{i}].opclass.params", "create_index's operator classes take no parameters")
        if col.collate:
            entry["collation"] = col.collate
        if col.sort:
            entry["order"] = col.sort.lower()
        if col.nulls:
            entry["nulls"] = col.nulls.lower()
        columns.append(entry if len(entry) > 1 else col.column)
    out["columns"] = columns
    if spec.unique:
        out["unique"] = True
    if spec.method and spec.method.lower() != "btree":
        out["method"] = spec.method.lower()
    if spec.predicate:
        out["where"] = spec.predicate
    if spec.storage_parameters:
        out["storage_parameters"] = _storage(spec.storage_parameters)
    op.add(out)


def _drop_constraint(spec: Any, op: _Op) -> None:
    """drop_constraint and drop_multicolumn_constraint: liveshift keeps the constraint for both versions until
    contract drops it, so green's writes must satisfy it meanwhile; pgroll maps them with `down` instead."""
    op.add({"op": "drop_constraint", "table": spec.table, "name": spec.name})
    ups = spec.up if isinstance(spec.up, dict) else {"": spec.up} if spec.up else {}
    downs = spec.down if isinstance(spec.down, dict) else {"": spec.down} if spec.down else {}
    for name, values in (("up", ups), ("down", downs)):
        for column, value in values.items():
            if (column and _same(column, value)) or (not column and _names_a_column(value)):
                continue
            op.lacks(
                name if not column else f"{name}.{column}",
                "liveshift keeps the constraint on the column for both versions until contract (green's writes "
                "must satisfy it until then), so there is nothing to map; left out",
            )


def _names_a_column(value: str | None) -> bool:
    """A single-column drop_constraint's up/down that is a bare column name: pgroll's "as it is" (the file does
    not say which column the constraint covers; pgroll requires its up/down to be over that one column)."""
    return value is None or re.fullmatch(r'\s*"?[A-Za-z_][A-Za-z0-9_$]*"?\s*', value) is not None


def _sql(spec: Sql, op: _Op) -> None:
    out: dict[str, Any] = {"op": "raw_sql"}
    if spec.onComplete:
        out["on_complete"] = spec.up
    else:
        out["up"] = spec.up
    if spec.down is not None:
        out["down"] = spec.down
    op.add(out)


def _simple(spec: Any, op: _Op) -> None:
    kind = op.name
    if kind == "rename_table":
        op.add({"op": "rename_table", "table": spec.from_, "to": spec.to})
    elif kind == "rename_column":
        op.add({"op": "rename_column", "table": spec.table, "column": spec.from_, "to": spec.to})
    elif kind == "drop_table":
        op.add({"op": "drop_table", "table": spec.name})
    elif kind == "drop_index":
        op.add({"op": "drop_index", "name": spec.name})
    elif kind == "drop_column":
        out = {"op": "drop_column", "table": spec.table, "column": spec.column}
        op.add(out | ({"down": expression(spec.down)} if spec.down is not None else {}))
    elif kind == "rename_constraint":
        op.add({"op": "rename_constraint", "table": spec.table, "name": spec.from_, "to": spec.to})
    elif kind == "set_replica_identity":
        out = {"op": "set_replica_identity", "table": spec.table, "identity": spec.identity.type.lower()}
        op.add(out | ({"index": spec.identity.index} if spec.identity.index else {}))


_CONVERTERS = {
    "create_table": _create_table,
    "add_column": _add_column,
    "alter_column": _alter_column,
    "create_constraint": _create_constraint,
    "create_index": _create_index,
    "drop_constraint": _drop_constraint,
    "drop_multicolumn_constraint": _drop_constraint,
    "sql": _sql,
}


# -- files --------------------------------------------------------------------------------------------------------


def is_pgroll(data: Any) -> bool:
    """pgroll's shape: a mapping whose `operations` is a list of single-key maps keyed by pgroll's op names."""
    if not isinstance(data, dict) or not isinstance(data.get("operations"), list) or not data["operations"]:
        return False
    if set(data) - {"name", "operations", "version_schema"}:
        return False
    return all(isinstance(o, dict) and len(o) == 1 and next(iter(o)) in PGROLL_OPERATIONS for o in data["operations"])


def read_pgroll(path: Path) -> tuple[Any, list[int]]:
    """The file's data, and each operation's 1-based line (JSON is YAML too, so YAML's reader gives its lines)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SqlInputError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        node = yaml.compose(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise SqlInputError(f"not valid {kind}: {exc}", file=str(path)) from None
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "operations" and isinstance(value, yaml.SequenceNode):
                lines = [item.start_mark.line + 1 for item in value.value]
    return data, lines


def _parse(data: Any, file: str) -> PgrollMigration:
    try:
        return PgrollMigration.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        index = int(loc[1]) if len(loc) > 1 and loc[0] == "operations" and loc[1].isdigit() else None
        op = loc[2] if index is not None and len(loc) > 2 else None
        field = ".".join(loc[3:]) if index is not None else ".".join(loc)
        where = SpecError(f"pgroll: {err['msg']}", index=index, op=op, field=field or None)
        raise SqlInputError(str(where), file=file) from None


def migration_name(path: Path, spec: PgrollMigration) -> str:
    """pgroll names a migration after its file (or `name`); liveshift's names take lower case letters, digits,
    _ and -: `01_create_tables` stays as it is."""
    name = re.sub(r"[^a-z0-9_-]+", "_", (spec.name or path.stem).lower()).strip("_-") or "converted"
    return name[:100]


def convert_pgroll(path: str | Path, name: str | None = None, data: Any = None) -> Conversion:
    """Convert the pgroll migration file at `path` (`data`: its content, when the caller has it already)."""
    path = Path(path)
    read, lines = read_pgroll(path)
    file = str(path)
    data = read if data is None else data
    if not is_pgroll(data):
        raise SqlInputError(_not_pgroll(data), file=file)
    spec = _parse(data, file)
    state, notes = State(), []
    for index, wrapped in enumerate(spec.operations):
        kind, body = wrapped.only()
        op = _Op(kind, index, lines[index] if index < len(lines) else 1)
        try:
            _CONVERTERS.get(kind, _simple)(body, op)
        except SpecError as exc:
            where = SpecError(exc.message, index=index, op=kind, field=exc.field)
            raise SqlInputError(f"pgroll operation not converted: {where}", file=file, line=op.line) from None
        state.drafts += op.done()
    migration = name or migration_name(path, spec)
    if spec.version_schema:
        # liveshift's green schema is <schema>_<migration name>, as pgroll's is <schema>_<version_schema>
        migration = name or migration_name(path, spec.model_copy(update={"name": spec.version_schema}))
        notes.append(f"{file}: version_schema {spec.version_schema!r} is the migration's name (its green version)")
    header = f"# converted from pgroll's {file} by `liveshift convert`"
    return finish(state, notes, file, migration, header)


def _not_pgroll(data: Any) -> str:
    ops = data.get("operations") if isinstance(data, dict) else None
    if isinstance(ops, list) and ops and all(isinstance(o, dict) and "op" in o for o in ops):
        return "a liveshift migration already (its operations say `op:`): nothing to convert"
    known = ", ".join(PGROLL_OPERATIONS)
    return (
        "not a pgroll migration: expected a mapping with `operations` (and optionally `name`, `version_schema`), "
        f"a list of single-key maps, each one of: {known}"
    )


def pgroll_files(directory: Path) -> list[Path]:
    """A directory's pgroll migrations in pgroll's order: its `.ledger` (one migration name a line) where it has
    one, else file-name order."""
    files = sorted(p for p in directory.iterdir() if p.suffix in PGROLL_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise SqlInputError("no .yaml, .yml or .json migration in the directory", file=str(directory))
    ledger = directory / ".ledger"
    if not ledger.is_file():
        return files
    by_name = {p.name: p for p in files} | {p.stem: p for p in files}
    order = [line.strip() for line in ledger.read_text().splitlines() if line.strip()]
    missing = [n for n in order if n not in by_name]
    if missing:
        raise SqlInputError(f".ledger names {missing[0]!r}, which is not in the directory", file=str(ledger))
    listed = [by_name[n] for n in order]
    return listed + [p for p in files if p not in listed]
