"""alter_column: rename, set or drop the default, change the type or nullability, add CHECK / UNIQUE / FOREIGN KEY.

- Rename and default changes keep the physical column: green sees the new name (and, through its view,
  the new default) during expand; contract renames the column and sets the default.
- Everything else replaces the column by a hidden copy of the new shape (column_swap.py): `up` (default
  `CAST(col AS new type)`) fills it for blue writes and the backfill, `down` (default `CAST(col AS old
  type)`) fills the old column for green writes.
- A single-column primary key (e.g. integer -> bigint) is swapped too, with every foreign key that
  references it: the referencing columns get hidden copies of the new type as well (pk_swap.py).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from psycopg import sql
from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from liveshift.catalog import Catalog, Column, Table
from liveshift.ddl.statements import add_identity_past_max, drop_default, set_default
from liveshift.ddl.steps import qualified
from liveshift.errors import SpecError
from liveshift.operations.base import (
    ExpressionProbe,
    OpContext,
    OperationBase,
    OpPlan,
    hidden_name,
    replace_table,
)
from liveshift.operations.column_swap import Swap, SwapSteps, index_touches, plan_swap, refuse_unsupported
from liveshift.operations.columns import CheckDef, ForeignKeyRef, IdentityDef, UniqueDef, declared_constraints
from liveshift.operations.comment import comment_step
from liveshift.operations.constraints import (
    DeclaredCheck,
    check_name,
    fk_name,
    plan_declared_constraints,
    unique_name,
)
from liveshift.operations.pk_swap import cast, plan_key_swap, referencing_columns, with_referencing_swapped
from liveshift.operations.rename_column import with_renamed_column


class AlterColumn(OperationBase):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    op_name: ClassVar[str] = "alter_column"
    op: Literal["alter_column"] = "alter_column"
    table: str
    column: str
    name: str | None = Field(None, min_length=1, max_length=63, description="new name")
    type: str | None = Field(None, min_length=1)
    up: str | None = None
    down: str | None = None
    nullable: bool | None = None
    default: str | None = Field(None, description="new default; an explicit null drops it")
    check_: CheckDef | None = Field(None, alias="check")
    unique: bool | UniqueDef | None = None
    references: ForeignKeyRef | None = None
    comment: str | None = Field(None, description="COMMENT ON COLUMN at contract; an explicit null removes it")
    identity: Literal["always", "by_default"] | IdentityDef | None = None
    indexes: Literal["expand", "after_backfill"] = Field(
        "expand",
        description="when a type change builds the indexes over the new column: at expand (green's reads by the "
        "column use them from the start), or once after the backfill (no index filled from NULL during it and "
        "rebuilt beside itself: a smaller peak; green's reads by the column scan the table until then)",
    )

    @model_serializer(mode="wrap")
    def _keep_unset_default_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # `default: null` drops the default, a missing `default` leaves it: keep that apart in the record
        data = handler(self)
        if "default" not in self.model_fields_set:
            data.pop("default", None)
        if "comment" not in self.model_fields_set:
            data.pop("comment", None)
        return data

    @property
    def sets_comment(self) -> bool:
        return "comment" in self.model_fields_set

    # what the operation changes

    @property
    def sets_default(self) -> bool:
        return "default" in self.model_fields_set

    def _new_name(self) -> str:
        return self.name or self.column

    def _needs_swap(self, column: Column) -> bool:
        changes_nullability = self.nullable is not None and self.nullable != column.nullable
        return bool(self.type or changes_nullability or self.check_ or self.unique or self.references)

    def _unique_name(self, table: str) -> str | None:
        if not self.unique:
            return None
        if isinstance(self.unique, UniqueDef) and self.unique.name:
            return self.unique.name
        return unique_name(table, self._new_name())

    def _fk_name(self, table: str) -> str:
        return (self.references.name if self.references else None) or fk_name(table, self._new_name())

    def _check_name(self, table: str) -> str | None:
        if self.check_ is None:
            return None
        return self.check_.name or check_name(table, self._new_name())

    def check(self, catalog: Catalog) -> None:  # type: ignore[override]
        table = self.require_table(catalog, self.table)
        column = self.require_column(table, self.column)
        if self.unique is False:
            raise self.fail("unique", "unique: false changes nothing; drop a unique constraint with drop_constraint")
        if self.name is not None and self.name != self.column:
            if table.column(self.name) is not None:
                raise self.fail("name", f"column {self.name!r} already exists in table {self.table!r}")
            if self.name in {c.physical for c in table.columns if c.name != self.column}:
                raise self.fail("name", f"column {self.name!r} is still stored in table {self.table!r} until contract")
        if not self._needs_swap(column):
            if self.up is not None or self.down is not None:
                raise self.fail(
                    "up" if self.up is not None else "down", "up/down apply only to a type or constraint change"
                )
            renames = self.name is not None and self.name != self.column
            if not (renames or self.sets_default or self.sets_comment or self.identity):
                raise self.fail(
                    "column",
                    "nothing to change: give name, type, nullable, default, check, unique, references or identity",
                )
            self._check_identity(table, column)
            return
        if self.identity is not None:
            raise self.fail("identity", "adding an identity goes alone (with name or comment at most)")
        names = {c.name for c in table.constraints} | {i.name for i in table.indexes}
        for fld, name in (("unique", self._unique_name(table.name)), ("check", self._check_name(table.name))):
            if name is not None and name in names:
                raise self.fail(fld, f"a constraint or index named {name!r} already exists on table {self.table!r}")
        if self.references:
            name = self._fk_name(table.name)
            problem = self.references.option_problem([self._new_name()])
            if problem:
                raise self.fail(f"references.{problem[0]}", problem[1])
            if name in names:
                raise self.fail("references", f"a constraint named {name!r} already exists on table {self.table!r}")
            ref = catalog.table(self.references.table)
            if ref is None:
                raise self.fail("references.table", f"table {self.references.table!r} does not exist")
            if ref.column(self.references.column) is None:
                raise self.fail(
                    "references.column", f"column {self.references.column!r} does not exist in table {ref.name!r}"
                )
        self._check_key(catalog, table, column)

    def _check_identity(self, table: Table, column: Column) -> None:
        """An identity is added at contract under one brief lock, restarted past max(column): that maximum must be
        read through an index, and the column must already be an integer NOT NULL column of no identity."""
        if self.identity is None:
            return
        if self.sets_default:
            raise self.fail("identity", "an identity column has no default: give identity or default, not both")
        if column.identity or column.generated:
            raise self.fail("identity", f"column {column.name!r} is an identity or generated column already")
        if column.type.strip().lower() not in ("smallint", "integer", "bigint"):
            raise self.fail("identity", f"an identity column must be smallint, integer or bigint, not {column.type!r}")
        if column.nullable:
            raise self.fail(
                "identity",
                f"column {column.name!r} accepts NULL; an identity column cannot: make it NOT NULL first "
                "(alter_column nullable: false, in a migration of its own)",
            )
        if not any(
            i.columns[:1] in ([column.name], [column.physical]) and i.method == "btree" and i.valid
            for i in table.indexes
        ):
            raise self.fail(
                "identity",
                f"no btree index of {self.table!r} starts with {column.name!r}: the identity is restarted past "
                f"max({column.name}) under ACCESS EXCLUSIVE, which without one is a scan of the table under that "
                "lock; create the index first (create_index, in a migration of its own)",
            )

    def _check_key(self, catalog: Catalog, table: Table, column: Column) -> None:
        """A key column changes only as a single-column primary key, with what references it swapped along."""
        if column.name in table.primary_key and table.primary_key != [column.name]:
            raise self.fail("column", f"column {column.name!r} is part of a composite primary key; not supported")
        for fk in referencing_columns(catalog, table, column):
            source = catalog.table(fk.table)
            if fk.schema_name != catalog.schema_name or source is None:
                raise self.fail(
                    "column", f"foreign key {fk.name!r} of {fk.schema_name}.{fk.table} references it; not supported"
                )
            if column.name not in table.primary_key:
                raise self.fail(
                    "column",
                    f"foreign key {fk.name!r} of table {fk.table!r} references {self.table}.{column.name}, which is "
                    "not the primary key; only a referenced primary key can change here",
                )
            if len(fk.columns) != 1:
                raise self.fail("column", f"foreign key {fk.name!r} of table {fk.table!r} has several columns")
            if fk.columns[0] in source.primary_key or any(
                fk.columns[0] in other.ref_columns for other in source.referenced_by
            ):
                raise self.fail(
                    "column",
                    f"column {fk.table}.{fk.columns[0]} (foreign key {fk.name!r}) is itself a key of its table; "
                    "not supported",
                )

    def _new_column(self, column: Column, hidden: str | None) -> Column:
        update: dict[str, Any] = {"name": self._new_name()}
        if self.type:
            update["type"] = self.type
        if self.nullable is not None:
            update["nullable"] = self.nullable
        if self.sets_default:
            update["default"] = self.default
        identity = IdentityDef(generated=self.identity) if isinstance(self.identity, str) else self.identity
        if identity is not None:
            update.update(default=None, identity="a" if identity.always else "d")
        if hidden:
            update["stored_as"] = hidden
        return column.model_copy(update=update)

    def apply(self, catalog: Catalog) -> Catalog:
        table = catalog.tables[self.table]
        column = table.column(self.column)
        assert column is not None
        swap = self._needs_swap(column)
        if self._new_name() != self.column:
            catalog = with_renamed_column(catalog, self.table, self.column, self._new_name())
            table = catalog.tables[self.table]
        renamed = table.column(self._new_name())
        assert renamed is not None
        new = self._new_column(renamed, hidden_name("new", self._new_name()) if swap else None)
        indexes, constraints = declared_constraints(
            new.name,
            unique=self._unique_name(table.name),
            check=(self._check_name(table.name) or "") if self.check_ else None,
            foreign_key=self._fk_name(table.name),
            references=self.references,
        )
        columns = [new if c.name == new.name else c for c in table.columns]
        new_table = table.model_copy(
            update={
                "columns": columns,
                "indexes": [*table.indexes, *indexes],
                "constraints": [*table.constraints, *constraints],
            }
        )
        catalog = replace_table(catalog, self.table, new_table)
        if swap:
            catalog = with_referencing_swapped(catalog, table, column, self.type or column.type)
        return catalog

    def plan(self, ctx: OpContext) -> OpPlan:
        before = ctx.before.tables[self.table]
        column = before.column(self.column)
        assert column is not None
        plan = OpPlan()
        if self.type:
            plan.types.append(("type", self.type))
        if self.sets_comment:
            stored = ctx.after.tables[self.table].column(self._new_name())
            assert stored is not None
            plan.contract.append(comment_step(ctx, before.physical, ("COLUMN", stored.physical), self.comment))
        if not self._needs_swap(column):
            self._plan_in_place(ctx, plan, before, column)
            return plan
        after = ctx.after.tables[self.table]
        new = after.column(self._new_name())
        assert new is not None
        swap = Swap(
            table=before,
            column=column,
            new=new,
            hidden=new.physical,
            up=self.up if self.up is not None else cast(column.name, new.type),
            down=self.down if self.down is not None else cast(new.name, column.type),
            new_default=self._hidden_default(ctx, before, column),
            indexes_after_backfill=self.indexes == "after_backfill",
        )
        try:
            refuse_unsupported(swap, ctx)
        except SpecError as exc:
            raise self.fail("column", exc.message) from None
        self._check_indexes_after_backfill(swap)
        first = SwapSteps()
        plan_swap(ctx, plan, swap, first)
        if self.sets_default and self.default is not None:
            plan.expressions.append(
                ExpressionProbe("default", before.physical, self.default, tuple(before.columns), new.type)
            )
        self._plan_new_constraints(ctx, plan, swap)
        if column.name in before.primary_key:
            try:
                plan_key_swap(ctx, plan, swap, first, self.type or column.type)
            except SpecError as exc:
                raise self.fail("column", exc.message) from None
        plan.contract_first += first.all()
        return plan

    def _check_indexes_after_backfill(self, swap: Swap) -> None:
        """A unique index over the new column may wait for the backfill only while the old column's checks every
        new value: `up` and `down` plain casts there and back that lose nothing."""
        if not swap.indexes_after_backfill or swap.round_trips():
            return
        column = swap.column
        unique = [i.name for i in swap.table.indexes if i.unique and index_touches(i, column.name, column.physical)]
        if unique:
            raise self.fail(
                "indexes",
                f"after_backfill needs up and down to be plain casts there and back that lose nothing (such as "
                f"{column.name}::bigint and {column.name}::integer): until the backfill ends, {unique[0]!r} over "
                f"the old column is what keeps the new one unique",
            )

    def _hidden_default(self, ctx: OpContext, table: Table, column: Column) -> str | None:
        if self.sets_default:
            return self.default
        if column.identity:
            # the identity's own sequence: green inserts draw from it until contract moves it over
            return (
                sql.SQL("nextval(pg_get_serial_sequence({}, {}))")
                .format(
                    sql.Literal(qualified(ctx.schema, table.physical).as_string(None)), sql.Literal(column.physical)
                )
                .as_string(None)
            )
        return column.default

    def _plan_in_place(self, ctx: OpContext, plan: OpPlan, table: Table, column: Column) -> None:
        """Rename, default and identity changes: the plan renames structurally; green's view shows the default; the
        identity is added at contract (until then inserts of both versions get the column's default, if any)."""
        final_table, final_column = ctx.final_name_of(table.physical, column.physical)
        identity = IdentityDef(generated=self.identity) if isinstance(self.identity, str) else self.identity
        if identity is not None:
            options = identity.sequence_options()
            step = add_identity_past_max(ctx.schema, final_table, final_column, identity.always, options)
            plan.contract.append(step)
        if not self.sets_default:
            return
        if self.default is None:
            plan.contract.append(drop_default(ctx.schema, final_table, final_column))
            return
        plan.contract.append(set_default(ctx.schema, final_table, final_column, self.default))
        plan.expressions.append(
            ExpressionProbe("default", table.physical, self.default, tuple(table.columns), column.type)
        )

    def _plan_new_constraints(self, ctx: OpContext, plan: OpPlan, swap: Swap) -> None:
        check = self._check_name(swap.table.name)
        plan_declared_constraints(
            ctx,
            plan,
            self.table,
            swap.hidden,
            unique=self._unique_name(swap.table.name),
            foreign_key=self._fk_name(swap.table.name),
            references=self.references,
            check=DeclaredCheck(check, self.check_.expression, "check", self.check_.no_inherit)
            if self.check_ and check
            else None,
        )
