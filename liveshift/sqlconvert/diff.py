"""`liveshift diff`: the migration from the current schema to a desired one, as liveshift operations.

The two catalogs (diff_read.py) are compared table by table; each difference is written as the plain statement
that makes it (the SQL a person would write), and those statements are converted exactly as `liveshift
convert` converts them, knowing every current column: add_column, alter_column, drop_column, create_index,
add_constraint, create_table, drop_table, … run expand/contract, and `liveshift plan` carries (or refuses) the
views and other objects that read what changes. What the catalogs cannot tell is marked REVIEW: a column
dropped while one of the same type is added, or a table dropped while one with the same columns is added, is
proposed as a rename (never turned silently into a drop and an add, which loses the data); a way back or a
value for existing rows that is not a plain widening or a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from liveshift.catalog import Catalog, Column, Index, Table
from liveshift.dependents import Dependent
from liveshift.expressions.casts import WIDER
from liveshift.sqlconvert.convert import Conversion, convert_drafts, finish
from liveshift.sqlconvert.diff_read import live_catalog, scratch_catalog
from liveshift.sqlconvert.draft import KnownColumn, State
from liveshift.sqlconvert.knowledge import binary_coercible, normal_type
from liveshift.sqlconvert.statements import SqlInputError, split_sql

RENAME_REVIEW = "the desired schema drops {old} and adds {new} ({what}): proposed as a rename, which keeps the data"


@dataclass
class Change:
    """One difference as the plain statement that makes it, and what the conversion should know about it."""

    sql: str
    reviews: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inferred: bool = False  # a widening: the cast up and the cast down are the way, nothing to review


def _q(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def widening(old: str, new: str) -> bool:
    (ob, _), (nb, nm) = normal_type(old), normal_type(new)
    return binary_coercible(old, new, utc=False) or (ob, nb) in WIDER or (ob == nb and not nm)


def _column_sql(c: Column) -> str:
    text = f"{_q(c.name)} {c.type}"
    if c.default is not None:
        text += f" DEFAULT {c.default}"
    return text + ("" if c.nullable else " NOT NULL")


def _alter_column(table: str, old: Column, new: Column) -> Change | None:
    cmds, change = [], Change("")
    prefix = f"ALTER COLUMN {_q(new.name)}"
    if normal_type(old.type) != normal_type(new.type):
        cmds.append(f"{prefix} TYPE {new.type}")
        change.inferred = widening(old.type, new.type)
        if change.inferred:
            change.notes.append(f"{old.type} to {new.type} widens: up and down are casts (down fails for a value")
            change.notes[-1] += " green writes beyond the old type until contract)"
    if old.default != new.default:
        cmds.append(f"{prefix} SET DEFAULT {new.default}" if new.default is not None else f"{prefix} DROP DEFAULT")
    if old.nullable != new.nullable:
        cmds.append(f"{prefix} {'DROP' if new.nullable else 'SET'} NOT NULL")
    if not cmds:
        return None
    change.sql = f"ALTER TABLE {_q(table)} " + ", ".join(cmds)
    return change


def _pair_renames(dropped: list[Column], added: list[Column]) -> list[tuple[Column, Column]]:
    """Each added column with the first dropped one of the same type and nullability (in table order)."""
    pairs, left = [], list(dropped)
    for new in added:
        shape = (normal_type(new.type), new.nullable)
        match = next((d for d in left if (normal_type(d.type), d.nullable) == shape), None)
        if match is not None:
            left.remove(match)
            pairs.append((match, new))
    return pairs


def _columns(table: str, old: Table, new: Table, out: dict[str, list[Change]]) -> None:
    current = {c.name: c for c in old.columns}
    desired = {c.name: c for c in new.columns}
    dropped = [c for c in old.columns if c.name not in desired]
    added = [c for c in new.columns if c.name not in current]
    for d, a in _pair_renames(dropped, added):
        review = RENAME_REVIEW.format(old=d.name, new=a.name, what=f"both {a.type}")
        statement = f"ALTER TABLE {_q(table)} RENAME COLUMN {_q(d.name)} TO {_q(a.name)}"
        out["rename"].append(Change(statement, [("to", review)]))
        dropped.remove(d)
        added.remove(a)
        current[a.name] = d.model_copy(update={"name": a.name})
    for c in added:
        out["add"].append(Change(f"ALTER TABLE {_q(table)} ADD COLUMN {_column_sql(c)}"))
    for c in dropped:
        out["drop_column"].append(Change(f"ALTER TABLE {_q(table)} DROP COLUMN {_q(c.name)}"))
    for name, new_col in desired.items():
        if name in current and (change := _alter_column(table, current[name], new_col)) is not None:
            out["alter"].append(change)


def _index_key(index: Index) -> str:
    """An index's definition without its name and table's, for a table whose name changes (PostgreSQL keeps the
    names of its indexes and constraints)."""
    return f"{index.unique} {index.definition.split(' USING ', 1)[-1]}"


def _indexes(table: str, old: Table, new: Table, out: dict[str, list[Change]], by_definition: bool) -> None:
    def own(t: Table) -> dict[str, Index]:
        return {(_index_key(i) if by_definition else i.name): i for i in t.indexes if i.constraint is None}

    current, desired = own(old), own(new)
    for key, index in current.items():
        if key not in desired or (desired[key].definition != index.definition and not by_definition):
            out["drop_index"].append(Change(f"DROP INDEX {_q(index.name)}"))
    for key, index in desired.items():
        if key not in current or (current[key].definition != index.definition and not by_definition):
            out["index"].append(Change(index.definition))


def _constraints(table: str, old: Table, new: Table, out: dict[str, list[Change]], by_definition: bool) -> None:
    def own(t: Table) -> dict[str, tuple[str, str]]:
        return {(c.definition if by_definition else c.name): (c.name, c.definition) for c in t.constraints}

    current, desired = own(old), own(new)
    for key, (name, definition) in current.items():
        if key not in desired or desired[key][1] != definition:
            out["drop_constraint"].append(Change(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}"))
    for key, (name, definition) in desired.items():
        if key not in current or current[key][1] != definition:
            out["constraint"].append(Change(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}"))


def _same_columns(a: Table, b: Table) -> bool:
    return [(c.name, normal_type(c.type), c.nullable) for c in a.columns] == [
        (c.name, normal_type(c.type), c.nullable) for c in b.columns
    ]


def _create_table(t: Table, new_tables: set[str], out: dict[str, list[Change]]) -> None:
    """CREATE TABLE with its constraints (a one-column foreign key on its column, as create_table takes it); a
    foreign key to another new table is added after both exist."""
    later = [c for c in t.constraints if c.kind == "foreign_key" and c.ref_table in new_tables]
    inline = {c.columns[0]: c for c in t.constraints if c.kind == "foreign_key" and len(c.columns) == 1}
    columns = []
    for column in t.columns:
        fk = inline.get(column.name)
        on_column = f" CONSTRAINT {_q(fk.name)} {fk.definition.split(') ', 1)[1]}" if fk and fk not in later else ""
        columns.append(_column_sql(column) + on_column)
    skip = [*later, *inline.values()]
    columns += [f"CONSTRAINT {_q(c.name)} {c.definition}" for c in t.constraints if c not in skip]
    out["table"].append(Change(f"CREATE TABLE {_q(t.name)} ({', '.join(columns)})"))
    out["index"] += [Change(i.definition) for i in t.indexes if i.constraint is None]
    out["constraint"] += [Change(f"ALTER TABLE {_q(t.name)} ADD CONSTRAINT {_q(c.name)} {c.definition}") for c in later]


def _tables(current: Catalog, desired: Catalog, out: dict[str, list[Change]]) -> None:
    dropped = [t for name, t in current.tables.items() if name not in desired.tables]
    added = [t for name, t in desired.tables.items() if name not in current.tables]
    renamed: dict[str, Table] = {}  # new name -> current table
    for new in added:
        old = next((t for t in dropped if _same_columns(t, new)), None)
        if old is not None:
            review = RENAME_REVIEW.format(old=old.name, new=new.name, what="the same columns")
            out["rename"].append(Change(f"ALTER TABLE {_q(old.name)} RENAME TO {_q(new.name)}", [("to", review)]))
            dropped.remove(old)
            renamed[new.name] = old
    created = {t.name for t in added if t.name not in renamed}
    for new in added:
        if new.name in created:
            _create_table(new, created, out)
    out["drop_table"] += [Change(f"DROP TABLE {_q(t.name)}") for t in dropped]
    for name, new in desired.tables.items():
        old = current.tables.get(name) or renamed.get(name)
        if old is None:
            continue
        if new.partitioning != old.partitioning:
            raise SqlInputError(f"table {name}: its partitioning differs (diff does not repartition)", file=PLAIN)
        _columns(name, old, new, out)
        _indexes(name, old, new, out, by_definition=name in renamed)
        _constraints(name, old, new, out, by_definition=name in renamed)


def _views(current: Catalog, desired: Catalog, out: dict[str, list[Change]]) -> None:
    def views(c: Catalog) -> dict[str, Dependent]:
        return {d.name: d for d in c.dependents if d.kind in ("view", "materialized_view")}

    old, new = views(current), views(desired)
    for name, view in old.items():
        if name not in new or new[name].definition != view.definition or new[name].kind != view.kind:
            out["drop_view"].append(Change(f"DROP {_view_kind(view)} {view.identity}"))
    for name, view in new.items():
        if name not in old or old[name].definition != view.definition or old[name].kind != view.kind:
            out["view"].append(Change(f"CREATE {_view_kind(view)} {view.identity} AS {view.definition.rstrip(';')}"))


def _view_kind(view: Dependent) -> str:
    return "MATERIALIZED VIEW" if view.kind == "materialized_view" else "VIEW"


# expand/contract order: what later operations need comes first (tables, renames, columns), what removes last
ORDER = [
    "drop_view",
    "table",
    "rename",
    "add",
    "alter",
    "drop_constraint",
    "drop_index",
    "index",
    "constraint",
    "drop_column",
    "drop_table",
    "view",
]


def changes(current: Catalog, desired: Catalog) -> list[Change]:
    """Every difference from `current` to `desired`, in the order the migration makes them."""
    out: dict[str, list[Change]] = {key: [] for key in ORDER}
    _tables(current, desired, out)
    _views(current, desired, out)
    return [change for key in ORDER for change in out[key]]


def _known(current: Catalog) -> State:
    state = State()
    for name, table in current.tables.items():
        state.known.tables[name] = {
            c.name: KnownColumn(type=c.type, nullable=c.nullable, default=c.default) for c in table.columns
        }
    return state


PLAIN = "<diff>"  # the label of the plain statements (`liveshift diff --sql` prints them, one a line)


def plain_sql(found: list[Change]) -> str:
    return "".join(f"{c.sql};\n" for c in found)


@dataclass
class Diff:
    conversion: Conversion
    sql: str  # the plain statements the operations were converted from (<diff>:N is line N)


def migration(current: Catalog, desired: Catalog, name: str, described: str) -> Diff | None:
    """The migration from `current` to `desired` (None: nothing differs). `described` says what was compared."""
    found = changes(current, desired)
    if not found:
        return None
    statements = split_sql(plain_sql(found), PLAIN)
    state, notes = convert_drafts(statements, PLAIN, _known(current))
    by_line, line = {}, 1
    for change in found:
        by_line[line] = change
        line += change.sql.count("\n") + 1
    for draft in state.drafts:
        change = by_line[draft.line]
        if change.inferred:
            draft.reviews = [(f, m) for f, m in draft.reviews if f not in ("up", "down")]
        draft.reviews += change.reviews
        draft.notes += change.notes
    if current.schema_name != "public":
        state.schemas.add(current.schema_name)
    header = f"# {described}, by `liveshift diff` (`--sql` prints the plain statements {PLAIN}:N cites)"
    return Diff(finish(state, notes, PLAIN, name, header), plain_sql(found))


def diff(dsn: str, desired: list[str], schema: str, name: str, current: list[str] | None = None) -> Diff | None:
    """The migration from the live `schema` at `dsn` (or, with `current`, the schema those files build) to the
    schema the `desired` files build. The database is read only (the files run in a rolled-back transaction)."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            before = scratch_catalog(conn, current, schema) if current else live_catalog(conn, schema)
            after = scratch_catalog(conn, desired, schema)
    except psycopg.OperationalError as exc:
        raise SqlInputError(f"cannot read the catalog: {str(exc).strip()}", file="--dsn") from None
    if not current and not before.tables and not before.dependents:
        raise SqlInputError(f"schema {schema!r} holds no table: is it the right database and --schema?", file="--dsn")
    what = " and ".join(current) if current else f"schema {schema} of the live database"
    return migration(before, after, name, f"from {what} to {' and '.join(desired)}")
