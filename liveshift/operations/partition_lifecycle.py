"""What the partition lifecycle operations share (attach_partition, detach_partition, create_partition): the bound
a migration file gives, the CHECK constraints that prove it, and the steps that attach and detach a partition
without a long lock.

Attaching a partition makes PostgreSQL prove two things, by a scan under a lock unless a validated CHECK already
proves it: that every row of the new partition is within its bound (the scan runs under ACCESS EXCLUSIVE on the
new partition), and, when the partitioned table has a DEFAULT partition, that no row of the DEFAULT partition is
within it (ACCESS EXCLUSIVE on the DEFAULT partition, which every query of the partitioned table reads: the trap).
So the CHECKs are added NOT VALID (catalog only) and validated (a scan under SHARE UPDATE EXCLUSIVE: reads and
writes continue), the ATTACH then scans nothing, and the CHECKs, redundant once attached, are dropped. The CHECK
expressions are written in the form PostgreSQL derives from a bound (its partition constraint), which is what its
proof (predtest) matches them against.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Annotated

from psycopg import sql
from pydantic import BeforeValidator, ConfigDict, Field

from liveshift.catalog import Catalog, PartitionOf, Table
from liveshift.ddl.statements import (
    add_check_not_valid,
    attach_partition,
    detach_partition,
    detach_partition_concurrently,
    drop_checks_except,
    drop_constraint,
    finalize_detach,
    validate_constraint,
)
from liveshift.ddl.steps import Step, either, partition_attached
from liveshift.operations.base import OperationBase, hidden_name, replace_table


def _as_text(value: object) -> object:
    """A bound value as SQL text: YAML reads 2026-01-01 as a date, 10 as a number."""
    if isinstance(value, datetime.date | int | float) and not isinstance(value, bool):
        return value.isoformat() if isinstance(value, datetime.date) else str(value)
    return value


BoundValue = Annotated[str, BeforeValidator(_as_text)]


class PartitionBoundOp(OperationBase):
    """An operation on partitioned `table` naming one partition and, for a new one, its bound: `from`/`to` for a
    range partition (either may be left out: MINVALUE, MAXVALUE), `in` for a list partition."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    table: str = Field(min_length=1, max_length=63)
    partition: str = Field(min_length=1, max_length=63)

    def tables(self) -> list[str]:
        return [self.table]

    def partitioned(self, catalog: Catalog) -> Table:
        table = self.require_table(catalog, self.table)
        if table.partitioning is None:
            raise self.fail("table", f"table {self.table!r} is not partitioned")
        return table


class NewPartitionOp(PartitionBoundOp):
    from_: BoundValue | None = Field(None, alias="from")
    to: BoundValue | None = None
    in_: list[BoundValue | None] | None = Field(None, alias="in", min_length=1)

    def check_bound(self, table: Table) -> None:
        """The bound fits the table's partitioning: one key column, range or list, the fields of its strategy."""
        partitioning = table.partitioning
        assert partitioning is not None
        if partitioning.strategy == "hash" or len(partitioning.key) != 1 or partitioning.key[0] is None:
            raise self.fail(
                "table",
                f"table {self.table!r} is partitioned by {partitioning.strategy} over "
                f"{len(partitioning.key)} key part(s): {self.op_name} handles range and list partitioning by one "
                "column, so far",
            )
        if partitioning.strategy == "range":
            if self.in_ is not None:
                raise self.fail("in", f"table {self.table!r} is partitioned by range: give 'from' and 'to'")
            if self.from_ is None and self.to is None:
                raise self.fail("to", "a range partition needs 'from', 'to' or both")
        elif self.in_ is None or self.from_ is not None or self.to is not None:
            raise self.fail("in", f"table {self.table!r} is partitioned by list: give the partition's values as 'in'")

    def key(self, table: Table) -> tuple[sql.Identifier, str]:
        """The key column (its physical name) and its type."""
        assert table.partitioning is not None
        column = self.require_column(table, table.partitioning.key[0] or "", "table")
        return sql.Identifier(column.physical), column.type

    def _value(self, value: str | None, type_: str) -> sql.Composable:
        return sql.SQL("NULL") if value is None else sql.SQL("{}::{}").format(sql.Literal(value), sql.SQL(type_))

    def bound(self, table: Table) -> sql.Composable:
        """FOR VALUES …"""
        _, type_ = self.key(table)
        if self.in_ is not None:
            values = sql.SQL(", ").join(self._value(v, type_) for v in self.in_)
            return sql.SQL("FOR VALUES IN ({})").format(values)
        low = self._value(self.from_, type_) if self.from_ is not None else sql.SQL("MINVALUE")
        high = self._value(self.to, type_) if self.to is not None else sql.SQL("MAXVALUE")
        return sql.SQL("FOR VALUES FROM ({}) TO ({})").format(low, high)

    def bound_text(self) -> str:
        """The bound as the snapshot records it (approximately as pg_get_expr prints it)."""
        if self.in_ is not None:
            return "FOR VALUES IN (" + ", ".join("NULL" if v is None else repr(v) for v in self.in_) + ")"
        low = repr(self.from_) if self.from_ is not None else "MINVALUE"
        high = repr(self.to) if self.to is not None else "MAXVALUE"
        return f"FOR VALUES FROM ({low}) TO ({high})"

    def within(self, table: Table) -> sql.Composable:
        """The new partition's constraint, as PostgreSQL derives it from the bound."""
        column, type_ = self.key(table)
        if self.in_ is not None:
            values = [v for v in self.in_ if v is not None]
            listed = sql.SQL("{} = ANY (ARRAY[{}])").format(
                column, sql.SQL(", ").join(self._value(v, type_) for v in values)
            )
            if None in self.in_:
                if not values:
                    return sql.SQL("({} IS NULL)").format(column)
                return sql.SQL("(({} IS NULL) OR ({}))").format(column, listed)
            return sql.SQL("(({} IS NOT NULL) AND ({}))").format(column, listed)
        parts = [sql.SQL("({} IS NOT NULL)").format(column)]
        if self.from_ is not None:
            parts.append(sql.SQL("({} >= {})").format(column, self._value(self.from_, type_)))
        if self.to is not None:
            parts.append(sql.SQL("({} < {})").format(column, self._value(self.to, type_)))
        return sql.SQL("({})").format(sql.SQL(" AND ").join(parts))

    def outside(self, table: Table) -> sql.Composable:
        """Its negation, in the form PostgreSQL proves the DEFAULT partition's rows against (NOT pushed down)."""
        column, type_ = self.key(table)
        if self.in_ is not None:
            values = [v for v in self.in_ if v is not None]
            unlisted = sql.SQL("({} <> ALL (ARRAY[{}]))").format(
                column, sql.SQL(", ").join(self._value(v, type_) for v in values)
            )
            if None in self.in_:
                if not values:
                    return sql.SQL("({} IS NOT NULL)").format(column)
                return sql.SQL("(({} IS NOT NULL) AND {})").format(column, unlisted)
            return sql.SQL("(({} IS NULL) OR {})").format(column, unlisted)
        parts = [sql.SQL("({} IS NULL)").format(column)]
        if self.from_ is not None:
            parts.append(sql.SQL("({} < {})").format(column, self._value(self.from_, type_)))
        if self.to is not None:
            parts.append(sql.SQL("({} >= {})").format(column, self._value(self.to, type_)))
        return sql.SQL("({})").format(sql.SQL(" OR ").join(parts))

    def misplaced(self, table: Table, attached: str | None) -> list[tuple[str, sql.Composable]]:
        """(relation, predicate) whose rows would stop the migration: rows of `attached` (the table to attach)
        outside the bound, rows of the DEFAULT partition within it. Plan looks for them (preflight)."""
        found = [(attached, sql.SQL("NOT {}").format(self.within(table)))] if attached else []
        default = default_partition(table)
        return found + ([(default, self.within(table))] if default else [])

    def with_partition(self, catalog: Catalog, table: Table) -> Catalog:
        """`catalog` with the new partition under `table` (it holds rows: a leaf)."""
        assert table.partitioning is not None
        new = PartitionOf(schema_name=catalog.schema_name, name=self.partition, parent=table.physical)
        new = new.model_copy(update={"bound": self.bound_text()})
        partitions = [*table.partitioning.partitions, new]
        partitioning = table.partitioning.model_copy(update={"partitions": partitions})
        return replace_table(catalog, table.name, table.model_copy(update={"partitioning": partitioning}))

    def attach_steps(self, schema: str, table: Table, checks: list[str] | None = None) -> tuple[list[Step], list[Step]]:
        """(expand, rollback) attaching the existing table `partition` to partitioned `table`, scanning nothing under
        a lock: its bound (and, with a DEFAULT partition, the DEFAULT partition's exclusion of it) proven first.
        `checks`: the CHECKs the table had before, for a rollback that puts it back as it was."""
        parent, default = table.physical, default_partition(table)
        attached = partition_attached(schema, parent, self.partition)
        proofs = [(self.partition, hidden_name("bound", self.partition), self.within(table))]
        if default is not None:
            proofs.append((default, hidden_name("not", self.partition), self.outside(table)))
        add = [_until(attached, add_check_not_valid(schema, on, name, expression)) for on, name, expression in proofs]
        validate = [_until(attached, validate_constraint(schema, on, name)) for on, name, _ in proofs]
        attach = attach_partition(schema, parent, self.partition, self.bound(table), default)
        drop = [drop_constraint(schema, on, name) for on, name, _ in proofs]  # redundant once attached
        detach = detach_steps(schema, table, self.partition)
        if checks is not None and default is None:  # detached CONCURRENTLY: PostgreSQL adds the bound as a CHECK
            detach.append(drop_checks_except(schema, self.partition, checks))
        return [*add, *validate, attach, *drop], [*detach, *drop]


def _until(attached: sql.Composable, step: Step) -> Step:
    """`step`, skipped once done or once the partition is attached (its proof is then dropped: a re-run after the
    attach must not add it again)."""
    assert step.skip_if is not None
    return replace(step, skip_if=either(step.skip_if, attached))


def default_partition(table: Table) -> str | None:
    """The partitioned table's own DEFAULT partition (a sub-level's is not in the way of its new partitions)."""
    assert table.partitioning is not None
    return next((p.name for p in table.partitioning.partitions if p.default and p.parent == table.physical), None)


def detach_steps(schema: str, table: Table, partition: str) -> list[Step]:
    """Detach `partition` from partitioned `table` holding no long lock: CONCURRENTLY, a pending detach (an
    interrupted one) finalized before and after it; with a DEFAULT partition, where PostgreSQL refuses CONCURRENTLY,
    a plain DETACH, catalog only, under a brief ACCESS EXCLUSIVE."""
    parent, default = table.physical, default_partition(table)
    if default is not None:
        return [detach_partition(schema, parent, partition, None if default == partition else default)]
    return [
        finalize_detach(schema, parent, partition),
        detach_partition_concurrently(schema, parent, partition),
        finalize_detach(schema, parent, partition),
    ]
