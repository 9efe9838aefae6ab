"""remove_enum_value: an enum type without one of its values, by a type swap with dual write.

PostgreSQL cannot remove a value from an enum type. Expand creates a hidden enum type (`_ls_enum_<name>`) of
the remaining values, and every column of the type (listed in `columns`, so that the migration names its
tables before it reads the catalog) is replaced by a hidden column of the new type through the column swap
(column_swap.py): blue's writes and the backfill map the removed value to `replacement` (or NULL), green's
writes reach the old column as they are (each remaining value exists in the old type). Contract drops the old
columns, then the old type, and renames the new type into its place; rollback drops the hidden columns, then
the hidden type. What the swap cannot carry is refused at plan: an array of the type, a CHECK or an index
predicate over the column, a default that is not a plain value, or anything else using the type.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import ClassVar, Literal

from psycopg import sql
from pydantic import Field

from liveshift.catalog import Catalog, Column, Table
from liveshift.catalog.text import mentions
from liveshift.ddl.statements import create_enum, drop_type, rename_type
from liveshift.errors import SpecError
from liveshift.operations.base import OpContext, OperationBase, OpPlan, hidden_name, replace_table
from liveshift.operations.column_swap import Swap, SwapSteps, plan_swap, refuse_unsupported
from liveshift.operations.enum_types import enum_columns, require_enum, require_label

# a default PostgreSQL prints for an enum value: 'label'::type
_LABEL_DEFAULT = re.compile(r"^'((?:[^']|'')*)'::.+$", re.DOTALL)


class RemoveEnumValue(OperationBase):
    op_name: ClassVar[str] = "remove_enum_value"
    changes_types: ClassVar[bool] = True
    op: Literal["remove_enum_value"] = "remove_enum_value"
    enum: str = Field(min_length=1, max_length=63)
    value: str = Field(min_length=1)
    replacement: str | None = Field(None, description="the value rows holding the removed one get; null: NULL")
    columns: list[str] = Field(min_length=1, description="every column of the type, as table.column")

    def tables(self) -> list[str]:
        return sorted({c.split(".", 1)[0] for c in self.columns})

    # the hidden type, and the columns

    def _hidden_type(self) -> str:
        return hidden_name("enum", self.enum)

    def _listed(self) -> list[tuple[str, str]]:
        return [tuple(c.split(".", 1)) for c in self.columns]  # type: ignore[misc]

    def check(self, catalog: Catalog) -> None:
        labels = require_enum(catalog, self.enum, self.op_name)
        require_label(labels, self.value, self.enum, self.op_name, "value")
        if len(labels) == 1:
            raise self.fail("value", f"{self.value!r} is the only value of enum type {self.enum!r}; drop it instead")
        if self.replacement is not None:
            require_label(labels, self.replacement, self.enum, self.op_name, "replacement")
            if self.replacement == self.value:
                raise self.fail("replacement", "the replacement is the value removed")
        others = catalog.enum_dependents.get(self.enum, [])
        if others:
            raise self.fail("enum", f"enum type {self.enum!r} is also used by {', '.join(others)}; not supported")
        self._check_columns(catalog)

    def _check_columns(self, catalog: Catalog) -> None:
        used = enum_columns(catalog, self.enum)
        for table, column, array in used:
            if array:
                raise self.fail("columns", f"column {table}.{column} is an array of {self.enum!r}; not supported")
        listed, found = set(self.columns), {f"{t}.{c}" for t, c, _ in used}
        for i, name in enumerate(self.columns):
            if "." not in name:
                raise self.fail(f"columns[{i}]", f"{name!r}: give table.column")
            if name not in found:
                raise self.fail(f"columns[{i}]", f"{name!r} is no column of enum type {self.enum!r}")
        missing = sorted(found - listed)
        if missing:
            raise self.fail("columns", f"enum type {self.enum!r} is used by {', '.join(missing)} too: list them")
        for i, (table_name, column_name) in enumerate(self._listed()):
            table = catalog.tables[table_name]
            column = table.column(column_name)
            assert column is not None
            self._check_column(table, column, f"columns[{i}]")

    def _check_column(self, table: Table, column: Column, field_name: str) -> None:
        where = f"column {table.name}.{column.name}"
        for con in table.constraints:
            if con.kind == "check" and column.name in con.columns:
                raise self.fail(field_name, f"check {con.name!r} reads {where}; drop it first, add it again after")
        for index in table.indexes:
            if mentions(index.predicate, column.physical) or (None in index.columns and column.name in index.columns):
                raise self.fail(field_name, f"index {index.name!r} has a predicate or expression over {where}")
        if not column.nullable and self.replacement is None:
            raise self.fail("replacement", f"{where} is NOT NULL: give the value its rows holding {self.value!r} get")
        if column.default is not None:
            label = self._default_label(column.default)
            if label is None:
                raise self.fail(field_name, f"the default of {where} ({column.default}) is not a plain enum value")
            if label == self.value and self.replacement is None:
                raise self.fail("replacement", f"the default of {where} is {self.value!r}, the value removed")

    @staticmethod
    def _default_label(default: str) -> str | None:
        found = _LABEL_DEFAULT.match(default.strip())
        return found.group(1).replace("''", "'") if found else None

    def _labels(self, catalog: Catalog) -> list[str]:
        return [label for label in catalog.enums[self.enum] if label != self.value]

    def apply(self, catalog: Catalog) -> Catalog:
        new_type = sql.Identifier(catalog.schema_name, self._hidden_type()).as_string(None)
        for table_name, column_name in self._listed():
            table = catalog.tables[table_name]
            columns = [
                c.model_copy(update={"type": new_type, "stored_as": hidden_name("new", c.name)})
                if c.name == column_name
                else c
                for c in table.columns
            ]
            catalog = replace_table(catalog, table_name, table.model_copy(update={"columns": columns}))
        enums = {**catalog.enums, self.enum: self._labels(catalog), self._hidden_type(): self._labels(catalog)}
        return catalog.model_copy(update={"enums": enums})

    def plan(self, ctx: OpContext) -> OpPlan:
        schema, hidden = ctx.schema, self._hidden_type()
        plan = OpPlan(structure=[create_enum(schema, hidden, self._labels(ctx.before), f" (for {self.enum})")])
        first = SwapSteps()
        for i, (table_name, column_name) in enumerate(self._listed()):
            swap = self._swap(ctx, table_name, column_name)
            try:
                refuse_unsupported(swap, ctx)
            except SpecError as exc:
                raise self.fail(f"columns[{i}]", exc.message) from None
            plan_swap(ctx, plan, swap, first)
        plan.contract_first += first.all()
        # each transform is liveshift's own, over the hidden type expand creates: not probed before it exists
        plan.transforms = [replace(t, generated=True) for t in plan.transforms]
        plan.contract += [
            drop_type(schema, self.enum, f" (replaced by {hidden})", done_once_gone=hidden),
            rename_type(schema, hidden, self.enum),
        ]
        plan.rollback_last.append(drop_type(schema, hidden, " created by expand"))
        return plan

    def _swap(self, ctx: OpContext, table_name: str, column_name: str) -> Swap:
        table = ctx.before.tables[table_name]
        column = table.column(column_name)
        new = ctx.after.tables[table_name].column(column_name)
        assert column is not None and new is not None
        as_text = sql.SQL("CAST({} AS text)").format(sql.Identifier(column.name))
        mapped = sql.SQL("CASE {} WHEN {} THEN {} ELSE {} END").format(
            as_text, sql.Literal(self.value), sql.Literal(self.replacement), as_text
        )
        up = sql.SQL("CAST({} AS {})").format(mapped, sql.SQL(new.type))
        down = sql.SQL("CAST(CAST({} AS text) AS {})").format(
            sql.Identifier(column.name), sql.Identifier(ctx.schema, self.enum)
        )
        default = None
        if column.default is not None:
            label = self._default_label(column.default)
            label = self.replacement if label == self.value else label
            default = sql.SQL("CAST({} AS {})").format(sql.Literal(label), sql.SQL(new.type)).as_string(None)
        return Swap(
            table=table,
            column=column,
            new=new,
            hidden=new.physical,
            up=up.as_string(None),
            down=down.as_string(None),
            spec_field="columns",
            up_field="replacement",
            down_field="value",
            new_default=default,
            note=f"enum {self.enum} without {self.value!r}",
        )
