"""Turns a migration plus a catalog snapshot into the full list of steps, phase by phase.

Pure: no database access. `liveshift plan` prints it; phases.py runs it. Contract and
rollback are derived structurally (make the physical shape match the final logical one, or
remove what expand added) plus each operation's own finishing steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from liveshift.catalog import Catalog, Column, Table
from liveshift.ddl import statements
from liveshift.ddl.grouping import group_steps, merged
from liveshift.ddl.locks import NO_TABLE_LOCK as NO_LOCK
from liveshift.ddl.statements import (
    add_row_marker,
    create_trigger_steps,
    create_version_steps,
    drop_column,
    drop_table,
    drop_trigger_steps,
    drop_version_steps,
    mirror_views_step,
    triggers_lock,
    view_default_step,
)
from liveshift.ddl.steps import Step
from liveshift.dependents.carry import Carried, Removal, contract_groups, plan_dependents
from liveshift.errors import SpecError
from liveshift.expressions import columns_read
from liveshift.expressions.qualify import qualify
from liveshift.expressions.volatility import is_volatile
from liveshift.operations.base import (
    ExpressionProbe,
    OpContext,
    OperationBase,
    OpPlan,
    Transform,
    VerifyCheck,
)
from liveshift.spec import Migration
from liveshift.versions.schemas import BASE_VERSION, version_schema
from liveshift.versions.triggers import MARKER


@dataclass(frozen=True)
class BackfillTarget:
    table: str  # physical table
    # keyset columns (physical); () for a table with neither a primary key nor a unique NOT NULL key, whose
    # rows are walked by physical block ranges instead (ctid_backfill.py)
    key: tuple[str, ...]
    key_types: tuple[str, ...]
    ups: tuple[Transform, ...] = ()  # the table's `up` transforms, in operation order
    # the backfill UPDATE computes the new columns itself (see direct_backfill); else it marks rows and the
    # dual-write trigger computes them
    direct: bool = False
    # a leaf partition of this partitioned table (physical name), whose transforms and checks the leaf's rows run:
    # a partitioned table is backfilled and verified partition by partition, each with its own checkpoints
    parent: str | None = None

    @property
    def source(self) -> str:
        """The table whose transforms and checks apply: the partitioned table for one of its partitions."""
        return self.parent or self.table

    @property
    def path(self) -> str:
        return "direct" if self.direct else "trigger"

    @property
    def batches(self) -> str:
        return "key ranges" if self.key else "ctid block ranges"


def direct_backfill(ups: Sequence[Transform]) -> bool:
    """Whether one UPDATE assigning every `up` target from the row as stored gives what the trigger gives.

    The trigger runs the transforms in operation order, each seeing the values earlier ones assigned;
    the expressions of one UPDATE's SET all see the row before it. The two agree unless a transform
    reads (by physical column) a column an earlier transform assigns, or two assign the same column.
    What an expression reads comes from PostgreSQL's parser: every column of the shape it is evaluated
    over is a variable, but only those it names are inputs (all of them when the parser cannot tell).
    """
    assigned: set[str] = set()
    for transform in ups:
        if transform.target in assigned or any(v.physical in assigned for v in _inputs(transform)):
            return False
        assigned.add(transform.target)
    return True


def _inputs(transform: Transform) -> tuple[Column, ...]:
    names = columns_read(transform.expression)
    if names is None:
        return transform.variables
    return tuple(v for v in transform.variables if v.name in names)


@dataclass
class MigrationPlan:
    migration: Migration
    physical: Catalog
    final: Catalog
    blue: str  # version schema old applications use
    green: str  # version schema this migration creates
    create_blue: bool
    ops: list[tuple[OperationBase, OpContext, OpPlan]] = field(default_factory=list)
    # the objects that read what contract removes or renames, and what happens to each (carry.py)
    removals: list[Removal] = field(default_factory=list)
    carried: list[Carried] = field(default_factory=list)

    @property
    def schema(self) -> str:
        return self.migration.schema_name

    @property
    def transforms(self) -> list[Transform]:
        return [t for _, _, p in self.ops for t in p.transforms]

    @property
    def checks(self) -> list[VerifyCheck]:
        return [c for _, _, p in self.ops for c in p.checks]

    def trigger_tables(self) -> dict[str, list[Transform]]:
        by_table: dict[str, list[Transform]] = {}
        for t in self.transforms:
            by_table.setdefault(t.table, []).append(t)
        return by_table

    def marker_tables(self) -> list[str]:
        """Tables whose existing rows need a backfill: they carry an `up` transform and existed before."""
        return sorted({t.table for t in self.transforms if t.direction == "up" and t.table in self.physical.tables})

    def backfill_targets(self) -> list[BackfillTarget]:
        targets = []
        by_table = self.trigger_tables()
        for name in self.marker_tables():
            table = self.physical.tables[name]
            key = table.backfill_key()
            types = tuple(next(c.type for c in table.columns if c.name == k) for k in key)
            ups = tuple(t for t in by_table[name] if t.direction == "up")
            target = BackfillTarget(name, tuple(key), types, ups, direct_backfill(ups))
            if table.partitioning is None:
                targets.append(target)
                continue
            # its leaves, which hold its rows (each has the partitioned table's columns and its key's index)
            targets += [replace(target, table=leaf.name, parent=name) for leaf in table.partitioning.leaves]
        return targets

    def filled_by(self, table: str) -> tuple[int, str]:
        """(index, op name) of the first operation whose `up` fills physical `table`: where an error about
        backfilling it points."""
        return next(
            (ctx.index, op.op_name)
            for op, ctx, p in self.ops
            if any(t.table == table and t.direction == "up" for t in p.transforms)
        )

    def changed_tables(self) -> set[str]:
        """Every table name (logical and physical) the migration changes, creates, drops or renames: the tables its
        operations name, those it fills or triggers, and those whose shape differs at its end."""
        names = set(self.migration.tables()) | set(self.marker_tables()) | set(self.trigger_tables())
        for table in self.physical.tables.values():
            final = self.logical_table_of(table.name)
            if final is None or final != table:
                names |= {table.name} | ({final.name} if final is not None else set())
        for table in self.final.tables.values():
            if table.physical not in self.physical.tables:
                names |= {table.name, table.physical}
        return names

    def logical_table_of(self, physical: str) -> Table | None:
        return next((t for t in self.final.tables.values() if t.physical == physical), None)

    def abandoned_columns(self, physical: Table) -> list[str]:
        """Hidden columns an operation adds to `physical` that a later one drops (a column changed, then dropped):
        neither in the table before the migration nor in its final shape, so contract and rollback drop them."""
        existing = {c.name for c in physical.columns}
        final = self.logical_table_of(physical.name)
        kept = {c.physical for c in final.columns} if final is not None else set()
        hidden = {
            c.physical
            for _, ctx, _ in self.ops
            for table in ctx.after.tables.values()
            if table.physical == physical.name
            for c in table.columns
        }
        return sorted(hidden - existing - kept)

    # phases

    def expand_steps(self) -> list[Step]:
        steps: list[Step] = []
        if self.create_blue:
            steps += statements.create_blue_steps(self.blue, self.schema, self.physical)
        # the tables and columns the dual write fills, then the triggers, then the rest: a constraint on a
        # new column (NOT NULL's CHECK is enforced for new rows even NOT VALID) must not exist before the
        # trigger fills the column, or application writes fail in between
        for _, _, op_plan in self.ops:
            steps += op_plan.structure
        steps += [add_row_marker(self.schema, table) for table in self.marker_tables()]
        markers = set(self.marker_tables())
        for table, transforms in self.trigger_tables().items():
            steps += create_trigger_steps(
                self.schema, table, self.migration.name, self.green, transforms, marker=table in markers
            )
        for _, _, op_plan in self.ops:
            steps += op_plan.expand
        steps += create_version_steps(self.green, self.schema, self.final)
        steps += self._green_view_defaults()
        return steps

    def _green_view_defaults(self) -> list[Step]:
        """A new default on a column that keeps its physical storage shows on green's view until contract.

        (A dropped default cannot be shown this way: a view column without a default uses the table's.)
        """
        steps: list[Step] = []
        for table in self.final.tables.values():
            stored = self.physical.tables.get(table.physical)
            for column in table.columns if stored else []:
                physical = stored.column(column.physical) if stored else None
                if physical is not None and column.default is not None and column.default != physical.default:
                    steps.append(view_default_step(self.green, table.name, column.name, column.default))
        return steps

    def validate_steps(self) -> list[Step]:
        return [s for _, _, p in self.ops for s in p.validate]

    def _drop_dual_write(self, mirrors: dict[str, Step] | None = None) -> list[Step]:
        """The triggers and row markers; at contract, each table's trigger drop in one transaction with showing the
        table in its final shape to the other in-flight versions (`mirrors`): a write through one of them goes to
        the old columns, which the trigger carries over, until that moment, and to the final ones after it."""
        steps: list[Step] = []
        for table in self.trigger_tables():
            drop_trigger, *rest = drop_trigger_steps(self.schema, table, self.migration.name)
            mirror = (mirrors or {}).get(table)
            steps += [merged([mirror, drop_trigger]) if mirror else drop_trigger, *rest]
        for table in self.marker_tables():
            steps.append(drop_column(self.schema, table, MARKER))
        return steps

    def _drop_hidden_checks(self) -> list[Step]:
        """Before rollback drops the trigger: once it is gone, blue writes leave hidden columns NULL, and a
        CHECK on them (the NOT NULL proof expand added NOT VALID) would refuse those writes until the
        columns themselves are dropped."""
        steps: list[Step] = []
        for final in self.final.tables.values():
            before = self.physical.tables.get(final.physical)
            hidden = [c.physical for c in final.columns if before is not None and before.column(c.physical) is None]
            if not hidden:
                continue
            steps.append(statements.drop_checks_on_columns(self.schema, final.physical, hidden))
        return steps

    def _mirror_steps(self) -> dict[str, Step]:
        """Per physical table the migration changes: the step that shows it as contract leaves it (or drops it)
        in the other in-flight versions of the schema (statements.mirror_views_step)."""
        changed, schema, name = self.changed_tables(), self.schema, self.migration.name
        out: dict[str, Step] = {}
        for table in self.physical.tables.values():
            if table.name in changed and self.logical_table_of(table.name) is None:
                gone = [table.name]
                out[table.name] = mirror_views_step(schema, name, self.green, table.name, None, gone, NO_LOCK)
        for table in self.final.tables.values():
            if table.name in changed or table.physical in changed:
                lock = triggers_lock(schema, table.physical) if table.physical in self.trigger_tables() else NO_LOCK
                old = [table.physical] if table.physical in self.physical.tables else []
                out[table.physical] = mirror_views_step(schema, name, self.green, table.physical, table, old, lock)
        return out

    def contract_steps(self) -> list[Step]:
        steps = drop_version_steps(self.blue)
        mirrors = self._mirror_steps()
        triggered = self.trigger_tables()
        steps += [step for table, step in mirrors.items() if table not in triggered]
        for _, _, op_plan in self.ops:
            steps += op_plan.contract_first
        steps += self._drop_dual_write(mirrors)
        schema = self.schema
        drops: dict[str, list[Step]] = {}
        for physical in self.physical.tables.values():
            final = self.logical_table_of(physical.name)
            if final is None:
                if self.final.partitioned_table_of(physical.name) is None:  # a table attached as a partition stays
                    steps.append(drop_table(schema, physical.name))
                continue
            kept = {c.physical for c in final.columns}
            # a column whose name a renamed one takes over: once that rename ran, the name is the new column's
            successor = {c.name: c.physical for c in final.columns if c.physical != c.name}
            drops[physical.name] = [
                drop_column(schema, physical.name, c.name, successor.get(c.name))
                for c in physical.columns
                if c.name not in kept
            ] + [drop_column(schema, physical.name, name) for name in self.abandoned_columns(physical)]
        # tables with objects that read what is dropped: their drops and renames in one transaction with those
        groups, grouped = contract_groups(schema, self.final, self.carried, self.removals, drops)
        steps += groups
        steps += [step for table, table_drops in drops.items() if table not in grouped for step in table_drops]
        for final in self.final.tables.values():
            steps += [
                statements.rename_column(schema, final.physical, c.physical, c.name)
                for c in final.columns
                if c.physical != c.name and final.physical not in grouped
            ]
        for final in self.final.tables.values():
            if final.physical != final.name:
                steps.append(statements.rename_table(schema, final.physical, final.name))
        for _, _, op_plan in self.ops:
            steps += op_plan.contract
        return steps

    def rollback_steps(self) -> list[Step]:
        steps = drop_version_steps(self.green)
        steps += self._drop_hidden_checks()
        for _, _, op_plan in reversed(self.ops):
            steps += op_plan.rollback_first
        steps += self._drop_dual_write()
        for _, _, op_plan in reversed(self.ops):
            steps += op_plan.rollback
        schema = self.schema
        for final in self.final.tables.values():
            before = self.physical.tables.get(final.physical)
            if before is None:
                steps.append(drop_table(schema, final.physical, " created by expand"))
                continue
            existing = {c.name for c in before.columns}
            steps += [
                drop_column(schema, final.physical, c.physical) for c in final.columns if c.physical not in existing
            ]
        for before in self.physical.tables.values():
            steps += [drop_column(schema, before.name, name) for name in self.abandoned_columns(before)]
        for _, _, op_plan in reversed(self.ops):
            steps += op_plan.rollback_last
        if self.create_blue:
            steps += drop_version_steps(self.blue)
            steps.append(statements.forget_version(schema, self.blue))
        return steps

    def phases(self) -> dict[str, list[Step]]:
        """The steps the phases run, as `liveshift plan` shows them: one lock acquisition per table where the
        order allows (grouping.py)."""
        return {
            "expand": group_steps(self.expand_steps()),
            "validate": self.validate_steps(),
            "contract": group_steps(self.contract_steps()),
            "rollback": group_steps(self.rollback_steps()),
        }

    def probes(self) -> list[tuple[int, str, OperationBase, ExpressionProbe | tuple[str, str]]]:
        """Everything to compile against the live database before expand: (op index, field, op, probe)."""
        out: list[tuple[int, str, OperationBase, ExpressionProbe | tuple[str, str]]] = []
        for op, ctx, p in self.ops:
            for fld, typ in p.types:
                out.append((ctx.index, fld, op, (fld, typ)))
            for t in (t for t in p.transforms if not t.generated):
                # an `up` can be tried on real rows before anything runs (columns an earlier operation of
                # this migration adds are NULL in that trial)
                sample = t.sample and t.direction == "up" and t.table in self.physical.tables
                probe = ExpressionProbe(t.field, t.table, t.expression, t.variables, t.target_type, sample=sample)
                out.append((ctx.index, t.field, op, probe))
            for c in p.checks:
                out.append(
                    (ctx.index, c.field, op, ExpressionProbe(c.field, c.table, c.predicate, c.variables, "boolean"))
                )
            for e in p.expressions:
                out.append((ctx.index, e.field, op, e))
        return out


def _pinned_transforms(op_plan: OpPlan, schema: str, physical: Catalog) -> OpPlan:
    """The transforms run in the dual-write trigger, under the pinned search_path: their unqualified names of
    the schema are qualified from the snapshot (qualify.py), so the trigger, the backfill, verify and the probes
    all evaluate the same text in every phase; and whether each is volatile, from the snapshot too."""
    qualified = [replace(t, expression=qualify(t.expression, schema, physical.names)) for t in op_plan.transforms]
    op_plan.transforms = [
        replace(t, volatile=is_volatile(t.expression, physical.volatile_functions)) for t in qualified
    ]
    return op_plan


def build_plan(
    migration: Migration, physical: Catalog, current_version: str | None, file: str | None = None
) -> MigrationPlan:
    """Check every operation against the catalog the previous one produced, then plan each.

    `current_version` is the version schema applications use now (None before the first migration).
    """
    schema = migration.schema_name
    staged: list[tuple[OperationBase, Catalog, Catalog]] = []
    logical = physical
    for index, op in enumerate(migration.operations):
        try:
            op.check(logical)
        except SpecError as exc:
            raise exc.located(file=file, index=index, op=op.op_name) from None
        after = op.apply(logical)
        staged.append((op, logical, after))
        logical = after
    green = version_schema(schema, migration.name)
    create_blue = current_version is None
    plan = MigrationPlan(
        migration=migration,
        physical=physical,
        final=logical,
        blue=current_version or version_schema(schema, BASE_VERSION),
        green=green,
        create_blue=create_blue,
    )
    for index, (op, before, after) in enumerate(staged):
        ctx = OpContext(schema, migration.name, index, before, after, physical, logical)
        try:
            plan.ops.append((op, ctx, _pinned_transforms(op.plan(ctx), schema, physical)))
        except SpecError as exc:
            raise exc.located(file=file, index=index, op=op.op_name) from None
    plan.removals = [
        Removal(ctx.index, op.op_name, table, column, successor, p.drop_dependents)
        for op, ctx, p in plan.ops
        for table, column, successor in p.removes
    ]
    try:
        plan.carried = plan_dependents(schema, physical, logical, plan.removals)
    except SpecError as exc:
        raise exc.located(file=file) from None
    return plan
