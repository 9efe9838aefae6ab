"""Replacing a column by a hidden copy of a new type (pgroll's approach), and what hangs on the old column.

The hidden column `_ls_new_<col>` is filled by `up` for blue writes and the backfill, and feeds the
old column through `down` for green writes. It carries the new constraints from the start (NOT
VALID / CONCURRENTLY); what hung on the old column (indexes, unique constraints, checks, outgoing
foreign keys, the sequence or identity behind its default) is rebuilt on it under temporary names
and takes the old names at contract, after the structural drop of the old column removed the
originals. Nothing of the old shape changes before contract, so rollback only drops what was added.

Definitions of existing objects come from the physical catalog (pg_get_indexdef /
pg_get_constraintdef text); what cannot be rebuilt faithfully is refused up front.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from psycopg import sql

from liveshift.catalog import Column, Constraint, Index, Table
from liveshift.errors import SpecError
from liveshift.operations.base import OpContext, OpPlan, Transform, VerifyCheck, hidden_name
from liveshift.operations.common import (
    create_index_concurrently,
    drop_constraint,
    not_null_check_name,
    not_null_steps,
    two_tables,
    validate_constraint,
)
from liveshift.shape import user_expression
from liveshift.steps import (
    ACCESS_EXCLUSIVE_BRIEF,
    SHARE_ROW_EXCLUSIVE_BRIEF,
    Step,
    column_exists,
    column_missing,
    constraint_exists,
    constraint_missing,
    qualified,
    relation_missing,
)

_FK = re.compile(r"^FOREIGN KEY \((?P<cols>.+?)\) REFERENCES (?P<ref>.+?)\((?P<refcols>[^()]*)\)(?P<tail>.*)$", re.S)
_ACTION = r"(?:NO ACTION|RESTRICT|CASCADE|SET NULL|SET DEFAULT)"
_FK_TAIL = re.compile(
    rf"^(?: MATCH FULL)?(?: ON UPDATE {_ACTION})?(?: ON DELETE {_ACTION})?(?: DEFERRABLE)?(?: INITIALLY DEFERRED)?$"
)
_BARE_IDENT = re.compile(r"[a-z_][a-z0-9_$]*")


def mentions(text: str | None, name: str) -> bool:
    """Whether catalog SQL text may refer to column `name` (conservative: a false yes only refuses)."""
    if not text:
        return False
    quoted = '"' + name.replace('"', '""') + '"'
    return quoted in text or re.search(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])", text) is not None


def _parse_ident_list(text: str) -> list[str] | None:
    """`a, "B c", d` -> ['a', 'B c', 'd']; None when anything else (ordering, opclass, collation) is there."""
    names: list[str] = []
    pos = 0
    while True:
        if text.startswith('"', pos):
            end = pos + 1
            buf = []
            while True:
                q = text.find('"', end)
                if q < 0:
                    return None
                buf.append(text[end:q])
                if text.startswith('""', q):
                    buf.append('"')
                    end = q + 2
                    continue
                pos = q + 1
                break
            names.append("".join(buf))
        else:
            m = _BARE_IDENT.match(text, pos)
            if not m:
                return None
            names.append(m.group(0))
            pos = m.end()
        if pos == len(text):
            return names
        if not text.startswith(", ", pos):
            return None
        pos += 2


def plain_index_columns(index: Index) -> list[str] | None:
    """The key columns of an index over plain columns with default options, else None."""
    marker = f" USING {index.method} ("
    start = index.definition.find(marker)
    if start < 0 or None in index.columns:
        return None
    body = index.definition[start + len(marker) - 1 :]
    if index.predicate:
        suffix = f" WHERE {index.predicate}"
        if not body.endswith(suffix):
            return None
        body = body[: -len(suffix)]
    if not (body.startswith("(") and body.endswith(")")):
        return None
    names = _parse_ident_list(body[1:-1])
    return names if names == index.columns else None


def fk_tail(constraint: Constraint) -> str | None:
    """The options of a foreign key (MATCH, ON UPDATE/DELETE, DEFERRABLE) as PostgreSQL prints them."""
    m = _FK.match(constraint.definition.removesuffix(" NOT VALID"))
    if not m or not _FK_TAIL.match(m.group("tail")):
        return None
    return m.group("tail")


def check_expression(constraint: Constraint) -> str | None:
    """`CHECK ((a > 0))` -> `(a > 0)`; None for NO INHERIT and the like."""
    definition = constraint.definition.removesuffix(" NOT VALID")
    if not definition.startswith("CHECK (") or not definition.endswith(")") or "NO INHERIT" in definition:
        return None
    return definition[len("CHECK ") :]


def add_foreign_key(
    schema: str,
    table: str,
    name: str,
    columns: list[str],
    ref_schema: str,
    ref_table: str,
    ref_columns: list[str],
    options: str,
) -> Step:
    """FOREIGN KEY … NOT VALID with the options of the key it rebuilds (catalog text, not user input)."""
    return two_tables(
        Step(
            f"add foreign key {name} on {table} ({', '.join(columns)}) -> {ref_table} NOT VALID",
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){} NOT VALID").format(
                qualified(schema, table),
                sql.Identifier(name),
                sql.SQL(", ").join(sql.Identifier(c) for c in columns),
                qualified(ref_schema, ref_table),
                sql.SQL(", ").join(sql.Identifier(c) for c in ref_columns),
                sql.SQL(options),
            ),
            lock=SHARE_ROW_EXCLUSIVE_BRIEF,
            skip_if=constraint_exists(schema, table, name),
        )
    )


def rename_constraint(schema: str, table: str, old: str, new: str) -> Step:
    return Step(
        f"rename constraint {old} on {table} to {new}",
        sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
            qualified(schema, table), sql.Identifier(old), sql.Identifier(new)
        ),
        skip_if=constraint_missing(schema, table, old),
    )


def _while_hidden(schema: str, table: str, hidden: str, done: sql.Composable) -> sql.Composable:
    """skip_if for contract_first steps: done, or the hidden column already renamed (a re-run after it)."""
    return sql.SQL("SELECT NOT ({}) OR ({})").format(column_exists(schema, table, hidden), done)


@dataclass
class Swap:
    """One column replaced by a hidden copy: the table and column before, and the new column's shape."""

    table: Table  # logical table the operation reads
    column: Column  # logical column before
    new: Column  # logical column after (its name, type, nullability, default), stored in `hidden`
    hidden: str
    up: str
    down: str
    spec_field: str = "type"
    up_field: str = "up"
    down_field: str = "down"
    new_default: str | None = None  # expression for the hidden column's default
    skip_foreign_keys: set[str] = field(default_factory=set)  # outgoing keys handled elsewhere (the key swap)
    note: str = ""  # why this column is replaced, shown in the plan


@dataclass
class SwapSteps:
    """Contract-first steps of all swaps of one operation, kept in the order they must run."""

    set_not_null: list[Step] = field(default_factory=list)
    key_swap: list[Step] = field(default_factory=list)
    sequences: list[Step] = field(default_factory=list)
    release_old: list[Step] = field(default_factory=list)

    def all(self) -> list[Step]:
        return self.set_not_null + self.key_swap + self.sequences + self.release_old


def refuse_unsupported(swap: Swap, ctx: OpContext) -> None:
    """Raise SpecError for what hangs on the column that a swap cannot rebuild faithfully."""
    col, table = swap.column, swap.table
    stored = ctx.physical.tables.get(table.physical)
    old = col.physical
    where = f"column {col.name!r} of table {table.name!r}"
    if stored is None or stored.column(old) is None or old.startswith("_ls_"):
        raise SpecError(f"{where} is created or changed earlier in this migration; alter it in a later one")
    if col.generated:
        raise SpecError(f"{where} is a generated column; liveshift cannot change it")
    for other in stored.columns:
        if other.generated and other.name != old and mentions(other.default, old):
            raise SpecError(f"generated column {other.name!r} depends on {where}; liveshift cannot change it")
    for index in table.indexes:
        if index.primary or not _index_touches(index, col.name, old):
            continue
        if not index.definition:
            raise SpecError(f"index {index.name!r} is created in this migration; alter {where} in a later one")
        if None in index.columns or mentions(index.predicate, old):
            raise SpecError(
                f"index {index.name!r} has an expression or a partial-index predicate over {where}; "
                "drop it first (drop_index) and create it again after this migration"
            )
        con = table.constraint(index.constraint) if index.constraint else None
        if con is not None and con.kind == "exclusion":
            raise SpecError(f"exclusion constraint {con.name!r} uses {where}; liveshift cannot rebuild it")
        if plain_index_columns(index) is None:
            raise SpecError(
                f"index {index.name!r} on {where} has options liveshift does not rebuild (ordering, operator "
                f"class, collation, INCLUDE, NULLS NOT DISTINCT): {index.definition}"
            )
    for con in table.constraints:
        if col.name not in con.columns:
            continue
        if not con.definition:
            raise SpecError(f"constraint {con.name!r} is added in this migration; alter {where} in a later one")
        if con.kind == "exclusion":
            raise SpecError(f"exclusion constraint {con.name!r} uses {where}; liveshift cannot rebuild it")
        if con.kind == "check":
            if check_expression(con) is None:
                raise SpecError(f"check constraint {con.name!r} on {where} cannot be rebuilt: {con.definition}")
            for used in con.columns:
                used_col = table.column(used)
                physical = used_col.physical if used_col else used
                final = _final_column(ctx, table, swap, physical)
                if final != physical:
                    raise SpecError(
                        f"check constraint {con.name!r} names column {physical!r}, which this migration renames; "
                        "rename in a separate migration"
                    )
        if con.kind == "foreign_key" and con.name not in swap.skip_foreign_keys and fk_tail(con) is None:
            raise SpecError(f"foreign key {con.name!r} on {where} cannot be rebuilt: {con.definition}")


def _final_column(ctx: OpContext, table: Table, swap: Swap, physical: str) -> str:
    if physical == swap.column.physical:
        return ctx.final_name_of(table.physical, swap.hidden)[1]
    return ctx.final_name_of(table.physical, physical)[1]


def _index_touches(index: Index, logical: str, physical: str) -> bool:
    """Whether dropping the column drops the index: a key column, or named in an expression or predicate."""
    if logical in index.columns or mentions(index.predicate, physical):
        return True
    return None in index.columns and mentions(index.definition, physical)


def _physical_cols(table: Table, logical: list[str | None], swap: Swap) -> list[str]:
    out = []
    for name in logical:
        assert name is not None
        if name == swap.column.name:
            out.append(swap.hidden)
        else:
            col = table.column(name)
            out.append(col.physical if col else name)
    return out


def plan_swap(ctx: OpContext, plan: OpPlan, swap: Swap, first: SwapSteps) -> None:
    """Steps, transforms and checks replacing `swap.column` by its hidden copy (see the module doc)."""
    schema, table, col, new = ctx.schema, swap.table, swap.column, swap.new
    physical, old, hidden = table.physical, col.physical, swap.hidden
    stored = ctx.physical.tables[physical]
    final_table, final_column = ctx.final_name_of(physical, hidden)
    target = qualified(schema, physical)
    note = f" ({swap.note})" if swap.note else ""
    plan.structure.append(
        Step(
            f"add hidden column {hidden} ({new.type}) to {physical} for {col.name}{note}",
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(target, sql.Identifier(hidden), sql.SQL(new.type)),
            skip_if=column_exists(schema, physical, hidden),
        )
    )
    if swap.new_default is not None:
        plan.expand.append(
            Step(
                f"set default of {physical}.{hidden}",
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                    target, sql.Identifier(hidden), user_expression(swap.new_default)
                ),
            )
        )
    if not new.nullable:
        nn = not_null_check_name(new.name)
        expand, validate, contract = not_null_steps(schema, physical, hidden, nn, physical, hidden)
        plan.expand += expand
        plan.validate += validate
        first.set_not_null += [
            replace(s, skip_if=_while_hidden(schema, physical, hidden, s.skip_if)) for s in contract if s.skip_if
        ]
    if not col.nullable:
        # green writes reach the old column through the trigger until it is dropped; once it is gone
        # (between the trigger's and the column's drop) the old column must accept NULL
        first.release_old.append(
            Step(
                f"drop NOT NULL of the old {physical}.{old} (dropped below; green no longer writes it)",
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(target, sql.Identifier(old)),
                skip_if=sql.SQL("SELECT NOT ({}) OR NOT coalesce(({}), false) OR ({})").format(
                    column_exists(schema, physical, hidden),
                    sql.SQL(
                        "SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = to_regclass({}) AND a.attname = {}"
                    ).format(sql.Literal(target.as_string(None)), sql.Literal(old)),
                    column_missing(schema, physical, old),
                ),
            )
        )
    if col.identity or (col.default or "").startswith("nextval("):
        first.sequences.append(_move_sequence_step(schema, physical, old, hidden, new.type, col.identity))
    # indexes over the old column, rebuilt on the hidden one; unique constraints re-attached at contract
    for index in table.indexes:
        if index.primary or not _index_touches(index, col.name, old):
            continue
        orig = stored.index(index.name)
        assert orig is not None
        temp = hidden_name("ix", index.name)
        columns = [hidden if c == old else c for c in plain_index_columns(orig) or []]
        plan.expand.append(
            create_index_concurrently(
                schema, physical, temp, columns, unique=orig.unique, method=orig.method, where=orig.predicate
            )
        )
        con = stored.constraint(orig.constraint) if orig.constraint else None
        if con is not None and con.kind == "unique":
            plan.contract.append(
                Step(
                    f"attach rebuilt index {temp} as unique constraint {con.name}",
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}").format(
                        qualified(schema, final_table), sql.Identifier(con.name), sql.Identifier(temp)
                    ),
                    skip_if=relation_missing(schema, temp),
                )
            )
        else:
            plan.contract.append(
                Step(
                    f"rename rebuilt index {temp} to {index.name}",
                    sql.SQL("ALTER INDEX {} RENAME TO {}").format(qualified(schema, temp), sql.Identifier(index.name)),
                    skip_if=relation_missing(schema, temp),
                )
            )
    after = tuple(c if c.name != col.name else new.model_copy(update={"stored_as": hidden}) for c in table.columns)
    for con in table.constraints:
        if col.name not in con.columns:
            continue
        orig = stored.constraint(con.name)
        assert orig is not None
        if con.kind == "check":
            expression = check_expression(orig)
            assert expression is not None
            plan.checks.append(VerifyCheck(physical, f"check {con.name}", expression, after, field=swap.spec_field))
            plan.contract.append(
                Step(
                    f"add check {con.name} again on {final_table}.{final_column} NOT VALID",
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK {} NOT VALID").format(
                        qualified(schema, final_table), sql.Identifier(con.name), sql.SQL(expression)
                    ),
                    skip_if=constraint_exists(schema, final_table, con.name),
                )
            )
            if orig.validated:
                plan.contract.append(validate_constraint(schema, final_table, con.name))
        elif con.kind == "foreign_key" and con.name not in swap.skip_foreign_keys:
            temp = hidden_name("fk", con.name)
            plan.expand.append(
                add_foreign_key(
                    schema,
                    physical,
                    temp,
                    [hidden if c == old else c for c in orig.columns],
                    orig.ref_schema or schema,
                    orig.ref_table or "",
                    orig.ref_columns,
                    fk_tail(orig) or "",
                )
            )
            if orig.validated:
                plan.validate.append(validate_constraint(schema, physical, temp))
            plan.contract.append(rename_constraint(schema, final_table, temp, con.name))
    plan.transforms.append(
        Transform("up", physical, hidden, new.type, swap.up, tuple(table.columns), ctx.index, field=swap.up_field)
    )
    plan.transforms.append(
        Transform("down", physical, old, col.type, swap.down, after, ctx.index, field=swap.down_field)
    )
    if len(f"{final_table}_{final_column}_not_null".encode()) <= 63:
        plan.contract.append(_rename_not_null_step(schema, final_table, final_column))


_INTEGER_TYPES = {"smallint", "integer", "bigint", "int2", "int4", "int8", "int"}


def _move_sequence_step(schema: str, table: str, old: str, hidden: str, new_type: str, identity: str) -> Step:
    """Hand the old column's own sequence (serial) or identity to the hidden column, current value kept.

    serial: the sequence becomes OWNED BY the hidden column (so dropping the old column keeps it) and is
    widened to the new integer type. identity: under a brief table lock, the old column's identity is
    dropped and the hidden column becomes an identity of the same kind, with a sequence of the same name
    starting after the old one's current value. A sequence not owned by the column is left alone.
    """
    rel = sql.Literal(qualified(schema, table).as_string(None))
    widen = new_type.strip().lower() in _INTEGER_TYPES
    if identity:
        kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
        body = sql.SQL(
            "DECLARE seq text := pg_get_serial_sequence({rel}, {old}); nxt bigint; seqname text; "
            "BEGIN IF seq IS NULL THEN RETURN; END IF; "
            "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; "
            "EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s', seq) "
            "INTO nxt; "
            "SELECT c.relname INTO seqname FROM pg_class c WHERE c.oid = seq::regclass; "
            "ALTER TABLE {table} ALTER COLUMN {hidden} DROP DEFAULT; "
            "ALTER TABLE {table} ALTER COLUMN {oldi} DROP IDENTITY; "
            "EXECUTE format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED {kind} AS IDENTITY "
            "(SEQUENCE NAME %I.%I START WITH %s)', {rel}, {hid}, {schema}, seqname, nxt); END"
        ).format(
            rel=rel,
            old=sql.Literal(old),
            table=qualified(schema, table),
            hidden=sql.Identifier(hidden),
            oldi=sql.Identifier(old),
            kind=sql.SQL(kind),
            hid=sql.Literal(hidden),
            schema=sql.Literal(schema),
        )
    else:
        body = sql.SQL(
            "DECLARE seq text := pg_get_serial_sequence({rel}, {old}); "
            "BEGIN IF seq IS NULL THEN RETURN; END IF; {widen}"
            "EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', seq, {rel}, {hid}); END"
        ).format(
            rel=rel,
            old=sql.Literal(old),
            hid=sql.Literal(hidden),
            widen=sql.SQL("EXECUTE format('ALTER SEQUENCE %s AS {}', seq); ").format(sql.SQL(new_type))
            if widen
            else sql.SQL(""),
        )
    return Step(
        f"move the {'identity' if identity else 'sequence'} of {table}.{old} to {hidden}"
        + (f", widened to {new_type}" if widen else ""),
        sql.SQL("DO {}").format(sql.Literal(body.as_string(None))),
        lock=ACCESS_EXCLUSIVE_BRIEF,
        tables=((schema, table),),
        skip_if=sql.SQL("SELECT NOT ({}) OR NOT ({}) OR pg_get_serial_sequence({}, {}) IS NULL").format(
            column_exists(schema, table, hidden), column_exists(schema, table, old), rel, sql.Literal(old)
        ),
    )


def _rename_not_null_step(schema: str, table: str, column: str) -> Step:
    """PostgreSQL 18 names NOT NULL constraints after the column: give the renamed column's the plain name."""
    want = f"{table}_{column}_not_null"
    body = sql.SQL(
        "DECLARE have text; BEGIN SELECT con.conname INTO have FROM pg_constraint con "
        "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] "
        "WHERE con.conrelid = to_regclass({rel}) AND con.contype::text = 'n' AND a.attname = {col}; "
        "IF have IS NULL OR have = {want} OR EXISTS (SELECT 1 FROM pg_constraint "
        "WHERE conrelid = to_regclass({rel}) AND conname = {want}) THEN RETURN; END IF; "
        "EXECUTE format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I', {rel}, have, {want}); END"
    ).format(rel=sql.Literal(qualified(schema, table).as_string(None)), col=sql.Literal(column), want=sql.Literal(want))
    return Step(
        f"name the NOT NULL constraint of {table}.{column} as plain DDL would",
        sql.SQL("DO {}").format(sql.Literal(body.as_string(None))),
        skip_if=constraint_exists(schema, table, want),
        tables=((schema, table),),
    )


def drop_foreign_key_while_hidden(schema: str, table: str, name: str, hidden: str) -> Step:
    """Drop an old foreign key at contract_first; never its successor of the same name after a re-run."""
    step = two_tables(drop_constraint(schema, table, name))
    return replace(step, skip_if=_while_hidden(schema, table, hidden, constraint_missing(schema, table, name)))
