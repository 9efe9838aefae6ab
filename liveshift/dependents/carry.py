"""What happens to each dependent (dependents.py) of what contract removes: carried through, dropped, or refused.

Contract drops the physical columns the final shape no longer uses and the tables it no longer has
(plan.py). An object that reads such a column would make that drop fail (or, a statistics object, vanish
silently). Decided at plan, from the stored snapshot, for every dependent of a removed or renamed column or
table, transitively through the views that are built again:

- a column replaced by a hidden copy (a type or constraint change, a key swap): the object is carried through.
  A view, a trigger, a rule or a statistics object is dropped and built again from its saved definition over
  the new column (owner, grants, comments, options, enabled state kept); a function with an SQL-standard body
  and a policy keep their identity (oid, owner, grants, comments, what calls them): a body or expressions that
  read nothing stand in while the column is swapped, then the saved ones are planned again. All of it runs in
  the one transaction that drops the old column and renames the new one into its place (`contract_groups`),
  so either everything happened or nothing did. A foreign key of another table is rebuilt by the key swap.
- a column dropped by drop_column: refused, naming the objects, unless the operation says `drop_dependents:
  true`; then they are dropped in the transaction that drops the column, at contract, never before.
- a table dropped by drop_table: refused, naming the objects.
- a column or table renamed: PostgreSQL follows the rename (objects hold column numbers and oids).

Refused even when carried through: a materialized view (building it again WITH DATA would read the whole
table under contract's ACCESS EXCLUSIVE lock; WITH NO DATA leaves it unreadable until a refresh), a
publication's column list or row filter, a stored generated column (a virtual one reading a swapped column follows
the swap: column_swap.py), an object that uses a rebuilt view's row type,
grants that were not given by the object's owner, and anything else PostgreSQL records that liveshift cannot
rebuild. Pure: no database access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from psycopg import sql

from liveshift.catalog import Catalog
from liveshift.ddl import statements
from liveshift.ddl.locks import ACCESS_EXCLUSIVE, Lock
from liveshift.ddl.steps import Step
from liveshift.dependents import Dependent
from liveshift.errors import SpecError

Action = Literal["rebuilt", "rebound", "dropped", "follows_rename", "rebuilt_by_key_swap"]

WHAT_HAPPENS: dict[Action, str] = {
    "rebuilt": "dropped and built again from its saved definition over the new shape, in contract's transaction",
    "rebound": "kept (same object); its body or expressions are planned again over the new shape in contract's "
    "transaction",
    "dropped": "dropped at contract, in the transaction that drops the column (drop_dependents)",
    "follows_rename": "kept as it is: PostgreSQL follows the rename",
    "rebuilt_by_key_swap": "rebuilt on the new key column by the key swap",
}
_REBUILT = {"view", "trigger", "rule", "statistics"}
_REBOUND = {"function", "policy"}
_DROPPABLE = {"view", "materialized_view", "function", "policy", "trigger", "rule", "statistics", "publication"}
_REFUSED = {
    "materialized_view": "building it again WITH DATA would read the whole table under contract's ACCESS EXCLUSIVE "
    "lock (and WITH NO DATA would leave it unreadable)",
    "publication": "changing a publication's column list or row filter under a running subscription is not "
    "something liveshift does",
    "generated_column": "liveshift cannot change what a generated column reads",
}


# (physical table, column) pairs contract renames; (table, None) for a renamed table
Renamed = set[tuple[str, str | None]]


@dataclass(frozen=True)
class Removal:
    """One physical column (or a whole table) contract removes for an operation, and what takes its place."""

    op_index: int
    op: str
    table: str  # physical
    column: str | None  # None: the table
    successor: str | None = None  # the hidden column renamed into its place
    drop_dependents: bool = False


@dataclass
class Carried:
    """What happens to one dependent, and why."""

    dependent: Dependent
    action: Action
    because: str
    tables: set[str] = field(default_factory=set)  # physical tables whose contract transaction carries it
    depth: int = 0  # 0: reads a table; n: reads something at depth n - 1 (a view on a view is rebuilt after it)

    @property
    def steps_needed(self) -> bool:
        return self.action in ("rebuilt", "rebound", "dropped")


@dataclass
class _Need:
    """What a dependent must undergo, from what it reads: the strongest need wins (refuse > drop > carry)."""

    dependent: Dependent
    level: int  # 0 follows a rename, 1 carry, 2 drop, 3 refuse
    because: str
    removal: Removal | None
    tables: set[str] = field(default_factory=set)
    depth: int = 0


def _merge(needs: dict[str, _Need], new: _Need) -> bool:
    """Record `new`, or fold it into what the dependent already needs; whether anything changed."""
    have = needs.get(new.dependent.key)
    if have is None:
        needs[new.dependent.key] = new
        return True
    before = (have.level, len(have.tables), have.depth)
    if new.level > have.level:
        have.level, have.because, have.removal = new.level, new.because, new.removal
    have.tables |= new.tables
    have.depth = max(have.depth, new.depth)
    return (have.level, len(have.tables), have.depth) != before


def _seed(needs: dict[str, _Need], d: Dependent, schema: str, removals: list[Removal], renamed: Renamed) -> None:
    """What `d` needs for what it reads of the tables themselves. What belongs to a table that is dropped goes
    with it, as a table's own foreign keys go with (or are rebuilt on) its own columns (the operations see to it)."""
    if d.schema_name == schema and d.on in {r.table for r in removals if r.column is None}:
        return
    for read in (r for r in d.reads if r.schema_name == schema):
        where = f"{schema}.{read.relation}" + (f".{read.column}" if read.column else "")
        if (read.relation, read.column) in renamed or (read.relation, None) in renamed:
            _merge(needs, _Need(d, 0, f"reads {where}, which contract renames", None))
        for r in removals:
            if r.table != read.relation or (r.column is not None and (r.column != read.column or read.row_type)):
                continue
            if d.kind == "foreign_key" and d.on == r.table:
                continue
            what = f"{schema}.{r.table}" + (f".{r.column}" if r.column else "")
            if r.column is None:
                level, verb = 3, "drops"
            elif r.successor is not None:
                level, verb = 1, "replaces"
            else:
                level, verb = (2 if r.drop_dependents else 3), "drops"
            _merge(needs, _Need(d, level, f"reads {what}, which {r.op} (operation {r.op_index}) {verb}", r, {r.table}))


_FATE_OF_PARENT = {1: "is rebuilt", 2: "is dropped", 3: "must go first"}


def _inherits(parent: _Need, d: Dependent) -> bool:
    """Whether `d` shares its parent's fate: it reads a view being rebuilt, or an object being dropped (or refused:
    the refusal then names everything that stands in the way)."""
    p = parent.dependent
    reads_it = p.relation is not None and d.reads_relation(*p.relation)
    if parent.level == 1:
        return reads_it and p.kind == "view"
    return parent.level >= 2 and (reads_it or p.key in d.uses)


def _propagate(needs: dict[str, _Need], dependents: list[Dependent]) -> None:
    """What reads a view that is rebuilt is carried too, and what reads an object that is dropped dropped too."""
    changed = True
    while changed:
        changed = False
        for parent in list(needs.values()):
            for d in dependents:
                if d.key == parent.dependent.key or not _inherits(parent, d):
                    continue
                rebuilt = parent.level == 1
                level = 3 if rebuilt and _by_row_type(d, parent.dependent) else parent.level
                because = f"reads {parent.dependent.key}, which {_FATE_OF_PARENT[parent.level]}"
                because += ", through its row type" if level == 3 else f" ({parent.because})"
                new = _Need(d, level, because, parent.removal, set(parent.tables), parent.depth + 1)
                changed = _merge(needs, new) or changed


def _by_row_type(d: Dependent, view: Dependent) -> bool:
    return any(r.row_type and (r.schema_name, r.relation) == view.relation for r in d.reads)


def _refusal(need: _Need) -> str | None:
    d = need.dependent
    if need.level == 3:
        return need.because
    if need.level == 2:
        return None if d.kind in _DROPPABLE else f"{need.because}; liveshift cannot drop a {d.kind.replace('_', ' ')}"
    if need.level == 1:
        if d.kind in _REFUSED:
            return f"{need.because}; {_REFUSED[d.kind]}"
        if d.kind not in _REBUILT | _REBOUND | {"foreign_key"}:
            return f"{need.because}; liveshift cannot rebuild it"
        foreign = sorted({g.grantor for g in d.grants if g.grantor != d.owner})
        if d.kind in _REBUILT and foreign:
            return f"{need.because}; it holds privileges granted by {', '.join(foreign)}, not by its owner"
    return None


def _action(need: _Need) -> Action:
    kind = need.dependent.kind
    if need.level == 0:
        return "follows_rename"
    if need.level == 2:
        return "dropped"
    if kind == "foreign_key":
        return "rebuilt_by_key_swap"
    return "rebound" if kind in _REBOUND else "rebuilt"


def _way_out(need: _Need) -> str:
    r = need.removal
    if r is not None and r.column is not None and r.successor is None and need.dependent.kind in _DROPPABLE:
        return "drop it first, or set drop_dependents: true on the operation to drop it at contract"
    if need.dependent.kind == "materialized_view":
        return "drop it before this migration and create it again after contract (then REFRESH it)"
    return "drop it before this migration (and create it again after contract)"


def plan_dependents(schema: str, physical: Catalog, final: Catalog, removals: list[Removal]) -> list[Carried]:
    """The fate of every dependent of what contract removes or renames; SpecError for one that cannot go on."""
    renamed = _renamed(physical, final)
    needs: dict[str, _Need] = {}
    for d in physical.dependents:
        _seed(needs, d, schema, removals, renamed)
    _propagate(needs, physical.dependents)
    for key in [k for k, need in needs.items() if _follows_the_swap(need, physical)]:
        del needs[key]
    refused = [(need, refusal) for need in needs.values() if (refusal := _refusal(need)) is not None]
    if refused:
        refused.sort(key=lambda item: (item[0].removal.op_index if item[0].removal else 0, item[0].dependent.key))
        r = refused[0][0].removal
        raise SpecError(
            "; ".join(f"{need.dependent.key} {refusal}: {_way_out(need)}" for need, refusal in refused),
            index=r.op_index if r else None,
            op=r.op if r else None,
            field="column" if r and r.column else "table",
        )
    carried: list[Carried] = []
    for key in sorted(needs):
        need = needs[key]
        if need.dependent.kind in ("constraint", "column_default") and need.level == 1:
            continue  # calls a function kept in place
        carried.append(Carried(need.dependent, _action(need), need.because, need.tables, need.depth))
    return carried


def _follows_the_swap(need: _Need, physical: Catalog) -> bool:
    """A virtual generated column reading a column a swap replaces: the swap moves it onto the successor at contract
    (column_swap.py; nothing stored, so nothing recomputed). A stored one stays refused."""
    d, removal = need.dependent, need.removal
    if d.kind != "generated_column" or need.level != 1 or removal is None or removal.successor is None:
        return False
    table = physical.tables.get(d.on or "")
    column = table.column(d.name) if table else None
    return bool(column and column.virtual and d.schema_name == physical.schema_name)


def _renamed(physical: Catalog, final: Catalog) -> Renamed:
    """(physical table, column) pairs contract renames, and (table, None) for renamed tables."""
    out: set[tuple[str, str | None]] = set()
    for table in final.tables.values():
        before = physical.tables.get(table.physical)
        if before is None:
            continue
        if table.physical != table.name:
            out.add((table.physical, None))
        out |= {
            (table.physical, c.physical) for c in table.columns if c.physical != c.name and before.column(c.physical)
        }
    return out


# -- contract: one transaction per group of tables their dependents link -----------------------------------


def _components(carried: list[Carried]) -> list[set[str]]:
    groups: list[set[str]] = []
    for c in carried:
        if not c.steps_needed or not c.tables:
            continue
        joined = [g for g in groups if g & c.tables]
        merged = set(c.tables).union(*joined)
        groups = [g for g in groups if not g & c.tables] + [merged]
    return sorted(groups, key=sorted)


def contract_groups(
    schema: str, final: Catalog, carried: list[Carried], removals: list[Removal], drops: dict[str, list[Step]]
) -> tuple[list[Step], set[str]]:
    """One step per group of tables (their dependents' detaching, the tables' drops and renames, the rebuilding)
    and the physical tables it covers, whose drops and renames the caller leaves out."""
    steps: list[Step] = []
    covered: set[str] = set()
    for tables in _components(carried):
        members = [c for c in carried if c.steps_needed and c.tables & tables]
        steps.append(_group(schema, final, tables, members, removals, drops))
        covered |= tables
    return steps, covered


def _group(
    schema: str,
    final: Catalog,
    tables: set[str],
    members: list[Carried],
    removals: list[Removal],
    drops: dict[str, list[Step]],
) -> Step:
    """Detach (deepest first), drop the old columns, put each successor under its old column's name, rebuild
    (shallowest first) over it, then rename to the final names: the saved definitions name the old columns, and
    PostgreSQL carries what was rebuilt along the renames, as it would after a plain ALTER COLUMN … TYPE."""
    order = sorted(members, key=lambda c: (c.depth, c.dependent.key))
    detach = [
        statements.drop_dependent(c.dependent) if c.action == "dropped" else statements.detach_dependent(c.dependent)
        for c in reversed(order)
    ]
    reattach = [statements.reattach_dependent(c.dependent) for c in order if c.action != "dropped"]
    structural = [s for t in sorted(tables) for s in drops.get(t, [])]
    into_place, renames = _renames(schema, final, tables, removals)
    parts = detach + structural + into_place + reattach + renames
    locks = [p.lock for p in parts if p.lock is not None]
    locked = tuple(dict.fromkeys(t for lock in locks for t in lock.tables))
    if len(locked) > 1:
        # an application transaction may hold one of them while it waits for another we hold
        parts = [statements.short_lock_waits(), *parts]
    guards = [p.skip_if for p in structural + into_place + renames if p.skip_if is not None]
    return Step(
        f"on {', '.join(sorted(tables))} with what reads them, in one transaction: "
        + "; ".join(p.description for p in parts),
        sql.SQL(";\n").join(p.statement for p in parts),
        lock=Lock(ACCESS_EXCLUSIVE, locked, linked=any(lock.linked for lock in locks)),
        skip_if=sql.SQL("SELECT {}").format(
            sql.SQL(" AND ").join(sql.SQL("coalesce(({}), false)").format(g) for g in guards)
        ),
        parts=tuple(parts),
    )


def _renames(schema: str, final: Catalog, tables: set[str], removals: list[Removal]) -> tuple[list[Step], list[Step]]:
    """(successors renamed into their old column's name, then every rename to a final name) for `tables`."""
    old_of = {(r.table, r.successor): r.column for r in removals if r.successor and r.column}
    into_place: list[Step] = []
    renames: list[Step] = []
    for table in final.tables.values():
        if table.physical not in tables:
            continue
        for c in table.columns:
            if c.physical == c.name:
                continue
            old = old_of.get((table.physical, c.physical))
            if old is None:
                renames.append(statements.rename_column(schema, table.physical, c.physical, c.name))
                continue
            into_place.append(statements.rename_column(schema, table.physical, c.physical, old))
            if old != c.name:
                renames.append(statements.rename_column(schema, table.physical, old, c.name))
    return into_place, renames
