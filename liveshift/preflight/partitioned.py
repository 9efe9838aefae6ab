"""What liveshift cannot yet do on a partitioned table, refused at plan, naming the table and the reason.

Most operations on a partitioned table run as on any table: PostgreSQL carries a column, a default, a CHECK, NOT
NULL, a rename and the dual-write triggers from the partitioned table to every partition, and the backfill and
verify walk its leaf partitions (plan.BackfillTarget.parent). What it does not carry is read here from the
statements the plan would run (pglast), whichever operation planned them, so that nothing plan accepts fails
later on one: an index built CONCURRENTLY on the partitioned table itself, a constraint attached USING INDEX (the
operations build both per partition instead: operations/partitioned_index.py; these refusals catch a path that
does not), a foreign key left NOT VALID on it before PostgreSQL 18 (a validated one is validated per partition
and attached: operations/partitioned_foreign_key.py; a NOT VALID one rebuilt by a column swap stays NOT VALID),
a change to a column of a partition key.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from liveshift.catalog import Table
from liveshift.ddl.steps import Step
from liveshift.errors import SpecError
from liveshift.operations.partitioned_foreign_key import NOT_VALID_FOREIGN_KEY_SINCE
from liveshift.plan import MigrationPlan

# the first release with DETACH PARTITION … CONCURRENTLY
DETACH_CONCURRENTLY_SINCE = 140000
# the operations that attach, detach or create a partition (operations/partition_lifecycle.py)
LIFECYCLE = {"attach_partition", "detach_partition", "create_partition"}


def _steps(plan: MigrationPlan) -> Iterator[Step]:
    """Every step of every phase: the operations' own and the structural ones (a column swap's drop at contract)."""
    yield from plan.expand_steps()
    yield from plan.validate_steps()
    yield from plan.contract_steps()
    yield from plan.rollback_steps()


def _operation_of(plan: MigrationPlan, step: Step, table: str) -> tuple[int, str]:
    """(index, name) of the operation that planned `step`, else of the first that changes `table`."""
    for op, ctx, p in plan.ops:
        lists = (p.structure, p.expand, p.validate, p.contract_first, p.contract, p.rollback_first, p.rollback)
        if any(step in steps for steps in lists):
            return ctx.index, op.op_name
    changes = [(ctx.index, op.op_name) for op, ctx, _ in plan.ops if table in op.tables()]
    return changes[0] if changes else (0, plan.ops[0][0].op_name)


def _statements(step: Step) -> list[object]:
    try:
        return [raw.stmt for raw in parse_sql(step.statement.as_string(None))]
    except ParseError:  # a DO block: nothing it does on a partitioned table is here
        return []


class _Reader:
    """Why one statement cannot run on the partitioned tables of the plan's schema, or None."""

    def __init__(self, plan: MigrationPlan, server_version: int) -> None:
        self.schema = plan.schema
        self.server_version = server_version
        self.tables = {t.name: t for t in plan.physical.tables.values() if t.partitioning is not None}
        self.indexes = {i.name: t.name for t in self.tables.values() for i in t.indexes}

    def partitioned(self, relation: ast.RangeVar) -> Table | None:
        if (relation.schemaname or self.schema) != self.schema:
            return None
        return self.tables.get(relation.relname)

    def refusal(self, stmt: object) -> tuple[str, str] | None:
        """(the partitioned table, why) when `stmt` cannot run on it."""
        if isinstance(stmt, ast.IndexStmt) and stmt.concurrent and (table := self.partitioned(stmt.relation)):
            return table.name, (
                f"it builds index {stmt.idxname!r} CONCURRENTLY on partitioned table {table.name!r}, which PostgreSQL "
                "cannot do (liveshift builds create_index's, add_constraint's and a column swap's indexes partition "
                "by partition, not this one)"
            )
        if isinstance(stmt, ast.DropStmt) and stmt.removeType == enums.ObjectType.OBJECT_INDEX and stmt.concurrent:
            dropped = [(names[-1].sval, self.indexes.get(names[-1].sval)) for names in stmt.objects]
            for index, table_name in dropped:
                if table_name is not None:
                    return table_name, (
                        f"it drops index {index!r} of partitioned table {table_name!r} CONCURRENTLY, which PostgreSQL "
                        "cannot do"
                    )
        if isinstance(stmt, ast.AlterTableStmt) and self._detaches_concurrently(stmt):
            return stmt.relation.relname, (
                f"it detaches a partition of {stmt.relation.relname!r} CONCURRENTLY, which PostgreSQL supports "
                f"from version 14 (this server is {self.server_version // 10000})"
            )
        if isinstance(stmt, ast.AlterTableStmt) and stmt.objtype == enums.ObjectType.OBJECT_TABLE:
            table = self.partitioned(stmt.relation)
            reasons = (self._command(table, cmd) for cmd in stmt.cmds) if table is not None else iter(())
            reason = next(filter(None, reasons), None)
            if table is not None and reason is not None:
                return table.name, reason
        return None

    def _detaches_concurrently(self, stmt: ast.AlterTableStmt) -> bool:
        """DETACH PARTITION … CONCURRENTLY on a server without it."""
        if self.server_version >= DETACH_CONCURRENTLY_SINCE:
            return False
        return any(isinstance(c.def_, ast.PartitionCmd) and c.def_.concurrent for c in stmt.cmds)

    def _command(self, table: Table, cmd: ast.AlterTableCmd) -> str | None:
        assert table.partitioning is not None
        subtype, constraint = cmd.subtype, cmd.def_
        changes = (enums.AlterTableType.AT_DropColumn, enums.AlterTableType.AT_AlterColumnType)
        if subtype in changes and cmd.name in table.partitioning.key_columns():
            return (
                f"it drops or retypes column {cmd.name!r}, which is in a partition key of partitioned table "
                f"{table.name!r}: PostgreSQL allows neither"
            )
        if subtype != enums.AlterTableType.AT_AddConstraint or not isinstance(constraint, ast.Constraint):
            return None
        if constraint.indexname:
            return (
                f"it adds constraint {constraint.conname!r} to partitioned table {table.name!r} USING INDEX, which "
                "PostgreSQL cannot do on a partitioned table (a unique index including the partition key can be "
                "built with create_index, unique: true)"
            )
        foreign = constraint.contype == enums.ConstrType.CONSTR_FOREIGN
        if foreign and constraint.skip_validation and self.server_version < NOT_VALID_FOREIGN_KEY_SINCE:
            return (
                f"it adds foreign key {constraint.conname!r} NOT VALID to partitioned table {table.name!r}, which "
                f"PostgreSQL supports from version 18 (this server is {self.server_version // 10000}); a key left "
                "NOT VALID (as this one was before the change) cannot be attached to its partitions' keys, so it "
                "would be validated under a lock held for a scan of every partition (validate it first)"
            )
        return None


def _check_lifecycle(plan: MigrationPlan, file: str | None) -> None:
    """A partition attached, detached or created by a migration that also changes the partitioned table: its
    helper columns and constraints would have to be on the attached table before the attach, and its backfill
    would have to know of a partition the snapshot does not hold. One migration each."""
    lifecycle = [(op, ctx) for op, ctx, _ in plan.ops if op.op_name in LIFECYCLE]
    for op, ctx in lifecycle:
        for other, other_ctx, _ in plan.ops:
            shared = set(op.tables()) & set(other.tables())
            if other is not op and shared and other.op_name not in LIFECYCLE:
                raise SpecError(
                    f"operation {other_ctx.index} ({other.op_name}) changes table {sorted(shared)[0]!r} too: "
                    f"{op.op_name} runs in a migration that changes no partitioned table it touches (give the "
                    "change a migration of its own)",
                    file=file,
                    index=ctx.index,
                    op=op.op_name,
                    field="table",
                )


def check_partitioned(plan: MigrationPlan, server_version: int, file: str | None = None) -> None:
    """Refuse, naming the table and the reason, what the plan would do to a partitioned table that cannot run."""
    _check_lifecycle(plan, file)
    reader = _Reader(plan, server_version)
    if not reader.tables:
        return
    for step in _steps(plan):
        for stmt in _statements(step):
            refused = reader.refusal(stmt)
            if refused is not None:
                index, op = _operation_of(plan, step, refused[0])
                raise SpecError(f"{step.description}: {refused[1]}", file=file, index=index, op=op, field="table")
    for name in plan.marker_tables():
        partitioning = plan.physical.tables[name].partitioning
        foreign = [f"{p.schema_name}.{p.name}" for p in partitioning.partitions] if partitioning else []
        foreign = [q for q in foreign if not q.startswith(f"{plan.schema}.")]
        if foreign:
            index, op = plan.filled_by(name)
            raise SpecError(
                f"partitioned table {name!r} has partitions outside schema {plan.schema!r} ({', '.join(foreign)}): "
                "its backfill walks the partitions of the table's own schema only",
                file=file,
                index=index,
                op=op,
                field="table",
            )
