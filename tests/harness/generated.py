"""Generated schemas and migration files over them, for the differential property test (test_generated.py): one
table of a few typed columns with rows, maybe a view over some of them and an index, and a migration of one or two
operations with the plain statements it stands for. Built with hypothesis's strategies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

# type -> (value of row g, an `up` over a column c of it, a constant default)
TYPES: dict[str, tuple[str, str, str]] = {
    "integer": ("(g * 7) % 1000", "{c} * 2", "0"),
    "bigint": ("g * 1000003", "{c} + 1", "1"),
    "text": ("'v' || g", "upper({c})", "'none'"),
    "varchar(20)": ("'s' || (g % 97)", "lower({c})", "'x'"),
    "boolean": ("g % 2 = 0", "NOT {c}", "false"),
    "numeric(10,2)": ("g / 3.0", "{c} * 1.5", "0.5"),
}
# a type change PostgreSQL casts by itself, and the type it goes to
WIDER = {"integer": "bigint", "varchar(20)": "varchar(50)", "bigint": "numeric(20,0)", "numeric(10,2)": "numeric(12,2)"}


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    nullable: bool


@dataclass
class Case:
    columns: list[Col]
    rows: int
    view: list[str]  # the columns a view `v` reads ([] for no view)
    index: str | None  # a column with an index of its own
    operations: list[dict[str, Any]] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)

    def setup(self) -> str:
        cols = ", ".join(f"{c.name} {c.type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns)
        values = ", ".join(TYPES[c.type][0] for c in self.columns)
        names = ", ".join(c.name for c in self.columns)
        out = [f"CREATE TABLE t (id bigserial PRIMARY KEY, {cols})"]
        out.append(f"INSERT INTO t ({names}) SELECT {values} FROM generate_series(1, {self.rows}) g")
        if self.index:
            out.append(f"CREATE INDEX t_{self.index}_idx ON t ({self.index})")
        if self.view:
            out.append(self.view_sql())
        return ";\n".join(out)

    def view_sql(self) -> str:
        return f"CREATE VIEW v AS SELECT id, {', '.join(self.view)} FROM t"

    def migration(self) -> dict[str, Any]:
        return {"name": "generated", "schema": "public", "operations": self.operations}

    def plain_sql(self) -> str:
        return ";\n".join(self.plain)


@st.composite
def schemas(draw: st.DrawFn) -> Case:
    types = draw(st.lists(st.sampled_from(sorted(TYPES)), min_size=1, max_size=4))
    columns = [Col(f"c{i}", t, draw(st.booleans())) for i, t in enumerate(types)]
    in_view = draw(st.lists(st.booleans(), min_size=len(columns), max_size=len(columns)))
    view = [c.name for c, shown in zip(columns, in_view, strict=True) if shown]
    index = draw(st.none() | st.sampled_from([c.name for c in columns]))
    return Case(columns, draw(st.integers(0, 300)), view, index)


def _add_column(draw: st.DrawFn, case: Case) -> None:
    type_ = draw(st.sampled_from(sorted(TYPES)))
    source = draw(st.none() | st.sampled_from([c for c in case.columns if c.type == type_] or [None]))
    default = draw(st.booleans())
    column: dict[str, Any] = {"name": "added", "type": type_}
    plain = f"ALTER TABLE t ADD COLUMN added {type_}"
    if default:
        column["default"] = TYPES[type_][2]
        plain += f" DEFAULT {TYPES[type_][2]}"
    op: dict[str, Any] = {"op": "add_column", "table": "t", "column": column}
    case.plain.append(plain)
    if source is not None:
        op["up"] = TYPES[type_][1].format(c=source.name)
        case.plain.append(f"UPDATE t SET added = {op['up']}")
    case.operations.append(op)


def _around_view(case: Case, column: str, statement: str) -> None:
    """`statement` as plain SQL: PostgreSQL refuses to change a column a view reads, so the view goes and comes."""
    if column in case.view:
        case.plain += ["DROP VIEW v", statement, case.view_sql()]
    else:
        case.plain.append(statement)


def _alter_column(draw: st.DrawFn, case: Case) -> None:
    candidates = [c for c in case.columns if c.type in WIDER]
    if not candidates:
        return _add_column(draw, case)
    col = draw(st.sampled_from(candidates))
    case.operations.append({"op": "alter_column", "table": "t", "column": col.name, "type": WIDER[col.type]})
    _around_view(case, col.name, f"ALTER TABLE t ALTER COLUMN {col.name} TYPE {WIDER[col.type]}")
    return None


def _rename_column(draw: st.DrawFn, case: Case) -> None:
    col = draw(st.sampled_from(case.columns))
    case.operations.append({"op": "rename_column", "table": "t", "column": col.name, "to": f"{col.name}_renamed"})
    case.plain.append(f"ALTER TABLE t RENAME COLUMN {col.name} TO {col.name}_renamed")


def _drop_column(draw: st.DrawFn, case: Case) -> None:
    col = draw(st.sampled_from(case.columns))
    op: dict[str, Any] = {"op": "drop_column", "table": "t", "column": col.name}
    if col.name in case.view:
        op["drop_dependents"] = True
    if not col.nullable:  # blue still inserts rows without it until contract
        op["down"] = TYPES[col.type][2]
    case.operations.append(op)
    case.plain.append(f"ALTER TABLE t DROP COLUMN {col.name}{' CASCADE' if col.name in case.view else ''}")


def _create_index(draw: st.DrawFn, case: Case) -> None:
    col = draw(st.sampled_from(case.columns))
    case.operations.append({"op": "create_index", "name": "t_new_idx", "table": "t", "columns": [col.name]})
    case.plain.append(f"CREATE INDEX t_new_idx ON t ({col.name})")


def _add_check(draw: st.DrawFn, case: Case) -> None:
    col = draw(st.sampled_from(case.columns))
    check = f"{col.name} IS NOT NULL OR id > 0"
    case.operations.append({"op": "add_constraint", "table": "t", "name": "t_check", "type": "check", "check": check})
    case.plain.append(f"ALTER TABLE t ADD CONSTRAINT t_check CHECK ({check})")


OPERATIONS = [_add_column, _alter_column, _rename_column, _drop_column, _create_index, _add_check]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A schema and a migration of one operation over it (each kind of operation, each kind of column)."""
    case = draw(schemas())
    draw(st.sampled_from(OPERATIONS))(draw, case)
    return case
