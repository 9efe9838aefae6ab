"""The catalogue of statements: every `Step` a plan contains is built here, and nowhere else.

In the spirit of pgroll's dbactions or Django's schema editor: operations decide *which* statements
a migration needs and in which phase; this module says *what SQL* each one is, with its lock and the
guard (`skip_if`, from steps.py) that makes it idempotent. Each builder declares its step's lock (locks.Lock):
the executor waits and times out by it, `liveshift plan` prints it, and a unit test checks it against what
pglast reads from the SQL (tests/unit/test_statements.py). Names are always composed as identifiers;
user expressions (defaults, checks) go through `shape.user_expression`; catalog text PostgreSQL
printed itself (a CHECK or foreign key being rebuilt) is passed on as it was read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from psycopg import sql

from liveshift.ddl.locks import ACCESS_EXCLUSIVE, NO_TABLE_LOCK, SHARE, SHARE_ROW, SHARE_UPDATE, Lock
from liveshift.ddl.steps import (
    MAX_IDENTIFIER,
    Step,
    column_exists,
    column_is_identity,
    column_missing,
    column_not_null,
    constraint_exists,
    constraint_missing,
    detach_pending,
    either,
    fitted_name,
    partition_attached,
    partition_detached,
    qualified,
    relation_exists,
    relation_missing,
    valid_index_exists,
    while_hidden,
)
from liveshift.dependents import QUALIFIED_PATH, Dependent, Grant
from liveshift.shape import user_expression
from liveshift.versions.schemas import SECURITY_INVOKER_SINCE
from liveshift.versions.triggers import BACKFILL_DIRECT, MARKER, function_body, function_name, trigger_names

if TYPE_CHECKING:
    from liveshift.catalog import Catalog, Table
    from liveshift.operations.base import Transform


def _names(columns: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def _do(body: sql.Composable) -> sql.Composable:
    """A PL/pgSQL block run once, its body quoted as a literal."""
    return sql.SQL("DO {}").format(sql.Literal(body.as_string(None)))


def _regclass_text(schema: str, table: str) -> sql.Literal:
    return sql.Literal(qualified(schema, table).as_string(None))


def _exclusive(schema: str, table: str, *, linked: bool = False) -> Lock:
    """ACCESS EXCLUSIVE on one table for a catalog-only change; `linked`: it drops something (see Lock)."""
    return Lock(ACCESS_EXCLUSIVE, ((schema, table),), linked=linked)


# -- lock waits ------------------------------------------------------------------------------------------

# Prefix of a statement that locks two tables (a foreign key's): an application transaction may hold the
# second while waiting behind our hold on the first. Giving up the wait (and retrying) before
# deadlock_timeout means PostgreSQL's deadlock detector never picks the application as the victim.
SHORT_WAIT_FOR_TWO_TABLES = sql.SQL(
    "SELECT set_config('lock_timeout', (1000 * extract(epoch FROM least(current_setting('lock_timeout')::interval, "
    "current_setting('deadlock_timeout')::interval / 2)))::bigint || 'ms', true); "
)


def short_lock_waits() -> Step:
    """A first part of a transaction over several relations: the parts after it wait for their locks briefly."""
    return Step("short lock waits (several relations)", SHORT_WAIT_FOR_TWO_TABLES, NO_TABLE_LOCK)


def two_tables(step: Step) -> Step:
    """`step` (a transactional statement locking two tables) with the short lock wait above."""
    return replace(step, statement=SHORT_WAIT_FOR_TWO_TABLES + step.statement)


# -- tables ----------------------------------------------------------------------------------------------


def column_definition(
    name: str,
    type_: str,
    *,
    not_null: bool = False,
    default: str | None = None,
    primary_key: bool = False,
    unique: bool = False,
    check: str | None = None,
    references: tuple[sql.Identifier, str, sql.Composable] | None = None,
    names: tuple[str | None, str | None, str | None] = (None, None, None),
    check_no_inherit: bool = False,
    generated: sql.Composable | None = None,
) -> sql.Composable:
    """One column of CREATE TABLE; `references` is (referenced table, its column, the key's options);
    `names`: the unique, check and foreign key constraints' names where given (PostgreSQL's own otherwise);
    `generated`: its identity_clause or generated_clause."""
    unique_name, check_name, fk_name = (
        sql.SQL("CONSTRAINT {} ").format(sql.Identifier(n)) if n else sql.SQL("") for n in names
    )
    parts: list[sql.Composable] = [sql.Identifier(name), sql.SQL(type_)]
    if not_null:
        parts.append(sql.SQL("NOT NULL"))
    if default is not None:
        parts.append(sql.SQL("DEFAULT {}").format(user_expression(default)))
    if generated is not None:
        parts.append(generated)
    if primary_key:
        parts.append(sql.SQL("PRIMARY KEY"))
    if unique:
        parts.append(sql.SQL("{}UNIQUE").format(unique_name))
    if check:
        no_inherit = sql.SQL(" NO INHERIT") if check_no_inherit else sql.SQL("")
        parts.append(sql.SQL("{}CHECK {}{}").format(check_name, user_expression(check), no_inherit))
    if references is not None:
        ref_table, ref_column, options = references
        parts.append(sql.SQL("{}REFERENCES {} ({}){}").format(fk_name, ref_table, sql.Identifier(ref_column), options))
    return sql.SQL(" ").join(parts)


def create_table(
    schema: str,
    table: str,
    items: list[sql.Composable],
    primary_key: list[str] | None,
    referenced: dict[str, str],
    key_name: str | None = None,
) -> Step:
    """CREATE TABLE with its final constraints; a foreign key locks the referenced tables briefly too.
    `referenced`: each table its columns reference, by name, to the physical table, in the columns' order;
    `key_name`: the primary key's name (PostgreSQL's <table>_pkey without it)."""
    if primary_key:
        named = sql.SQL("CONSTRAINT {} ").format(sql.Identifier(key_name)) if key_name else sql.SQL("")
        items = [*items, named + sql.SQL("PRIMARY KEY ({})").format(_names(primary_key))]
    locked = tuple((schema, physical) for physical in dict.fromkeys(referenced.values()))
    step = Step(
        f"create table {table}" + (f" (locks {', '.join(sorted(referenced))} briefly)" if referenced else ""),
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(qualified(schema, table), sql.SQL(", ").join(items)),
        lock=Lock(SHARE_ROW, locked) if referenced else NO_TABLE_LOCK,
        skip_if=relation_exists(schema, table),
    )
    return two_tables(step) if referenced else step


def drop_table(schema: str, table: str, why: str = "") -> Step:
    return Step(
        f"drop table {table}{why}",
        sql.SQL("DROP TABLE IF EXISTS {}").format(qualified(schema, table)),
        lock=_exclusive(schema, table, linked=True),
        skip_if=relation_missing(schema, table),
    )


def _rename_relation(kind: str, schema: str, name: str, new: str, lock: Lock, skip_if: sql.Composable) -> Step:
    """ALTER TABLE|INDEX … RENAME TO …: `kind` is one of those two keywords."""
    return Step(
        f"rename {kind.lower()} {name} to {new}",
        sql.SQL("ALTER {} {} RENAME TO {}").format(sql.SQL(kind), qualified(schema, name), sql.Identifier(new)),
        lock=lock,
        skip_if=skip_if,
    )


def rename_table(schema: str, table: str, new: str) -> Step:
    return _rename_relation("TABLE", schema, table, new, _exclusive(schema, table), relation_exists(schema, new))


# -- columns ---------------------------------------------------------------------------------------------


def add_hidden_column(schema: str, table: str, column: str, type_: str, why: str = "") -> Step:
    """A nullable column without a default: catalog only, no rewrite."""
    return Step(
        f"add hidden column {column} ({type_}) to {table}{why}",
        sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
            qualified(schema, table), sql.Identifier(column), sql.SQL(type_)
        ),
        lock=_exclusive(schema, table),
        skip_if=column_exists(schema, table, column),
    )


def add_row_marker(schema: str, table: str) -> Step:
    return Step(
        f"add row marker {MARKER} to {table} (constant default: no rewrite)",
        sql.SQL("ALTER TABLE {} ADD COLUMN {} text DEFAULT 'p'").format(
            qualified(schema, table), sql.Identifier(MARKER)
        ),
        lock=_exclusive(schema, table),
        skip_if=column_exists(schema, table, MARKER),
    )


def set_default(schema: str, table: str, column: str, expression: str) -> Step:
    return Step(
        f"set default of {table}.{column}",
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
            qualified(schema, table), sql.Identifier(column), user_expression(expression)
        ),
        lock=_exclusive(schema, table),
    )


def drop_default(schema: str, table: str, column: str) -> Step:
    return Step(
        f"drop default of {table}.{column}",
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(qualified(schema, table), sql.Identifier(column)),
        lock=_exclusive(schema, table),
    )


def drop_column(schema: str, table: str, column: str, successor: str | None = None) -> Step:
    """Drop `column`; with `successor` (the column renamed to its name later), only while that one exists."""
    skip_if = column_missing(schema, table, column)
    if successor is not None:
        skip_if = sql.SQL("SELECT ({}) OR ({})").format(skip_if, column_missing(schema, table, successor))
    return Step(
        f"drop column {table}.{column}",
        sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(qualified(schema, table), sql.Identifier(column)),
        lock=_exclusive(schema, table, linked=True),
        skip_if=skip_if,
    )


def rename_column(schema: str, table: str, column: str, new: str) -> Step:
    return Step(
        f"rename column {table}.{column} to {new}",
        sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(
            qualified(schema, table), sql.Identifier(column), sql.Identifier(new)
        ),
        lock=_exclusive(schema, table),
        skip_if=column_missing(schema, table, column),
    )


def release_old_not_null(schema: str, table: str, old: str, hidden: str) -> Step:
    """The old column of a swap accepts NULL once green no longer writes it (until it is dropped)."""
    target = qualified(schema, table)
    return Step(
        f"drop NOT NULL of the old {table}.{old} (dropped below; green no longer writes it)",
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(target, sql.Identifier(old)),
        lock=_exclusive(schema, table),
        skip_if=sql.SQL("SELECT NOT ({}) OR NOT coalesce(({}), false) OR ({})").format(
            column_exists(schema, table, hidden),
            sql.SQL(
                "SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = to_regclass({}) AND a.attname = {}"
            ).format(sql.Literal(target.as_string(None)), sql.Literal(old)),
            column_missing(schema, table, old),
        ),
    )


# -- NOT NULL --------------------------------------------------------------------------------------------


def not_null_steps(
    schema: str, table: str, column: str, check: str, final_table: str, final_column: str
) -> tuple[list[Step], list[Step], list[Step]]:
    """NOT NULL without a long lock: CHECK NOT VALID, VALIDATE, then SET NOT NULL uses the proof (PG >= 12)."""
    is_not_null = sql.SQL("({} IS NOT NULL)").format(sql.Identifier(column))
    description = f"add check {check} ({column} IS NOT NULL) NOT VALID"
    expand = [add_check_not_valid(schema, table, check, is_not_null, description)]
    validate = [validate_constraint(schema, table, check)]
    contract = [
        Step(
            f"set {final_table}.{final_column} NOT NULL (proven by {check}, no scan)",
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL").format(
                qualified(schema, final_table), sql.Identifier(final_column)
            ),
            lock=_exclusive(schema, final_table),
            skip_if=column_not_null(schema, final_table, final_column),
        ),
        drop_constraint(schema, final_table, check),
    ]
    return expand, validate, contract


def name_not_null_constraint(schema: str, table: str, column: str) -> Step:
    """PostgreSQL 18 names NOT NULL constraints after the column: give the renamed column's the plain name."""
    want = f"{table}_{column}_not_null"
    body = sql.SQL(
        "DECLARE have text; BEGIN SELECT con.conname INTO have FROM pg_constraint con "
        "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] "
        "WHERE con.conrelid = to_regclass({rel}) AND con.contype::text = 'n' AND a.attname = {col}; "
        "IF have IS NULL OR have = {want} OR EXISTS (SELECT 1 FROM pg_constraint "
        "WHERE conrelid = to_regclass({rel}) AND conname = {want}) THEN RETURN; END IF; "
        "EXECUTE format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I', {rel}, have, {want}); END"
    ).format(rel=_regclass_text(schema, table), col=sql.Literal(column), want=sql.Literal(want))
    return Step(
        f"name the NOT NULL constraint of {table}.{column} as plain DDL would",
        _do(body),
        lock=_exclusive(schema, table),  # a DO block: its SQL does not say
        skip_if=constraint_exists(schema, table, want),
    )


# -- sequences -------------------------------------------------------------------------------------------

_INTEGER_TYPES = {"smallint", "integer", "bigint", "int2", "int4", "int8", "int"}


def _with_own_sequence(schema: str, table: str, old: str, declarations: str, body: sql.Composable) -> sql.Composable:
    """A PL/pgSQL body running `body` with `seq`, the sequence the old column owns; nothing when it owns none."""
    return sql.SQL(
        "DECLARE seq text := pg_get_serial_sequence({}, {}); {}BEGIN IF seq IS NULL THEN RETURN; END IF; {} END"
    ).format(_regclass_text(schema, table), sql.Literal(old), sql.SQL(declarations), body)


def _move_identity(schema: str, table: str, old: str, hidden: str, identity: str) -> sql.Composable:
    kind = "ALWAYS" if identity == "a" else "BY DEFAULT"
    body = sql.SQL(
        "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; "
        "EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s', seq) "
        "INTO nxt; "
        "SELECT c.relname INTO seqname FROM pg_class c WHERE c.oid = seq::regclass; "
        "ALTER TABLE {table} ALTER COLUMN {hidden} DROP DEFAULT; "
        "ALTER TABLE {table} ALTER COLUMN {oldi} DROP IDENTITY; "
        "EXECUTE format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED {kind} AS IDENTITY "
        "(SEQUENCE NAME %I.%I START WITH %s)', {rel}, {hid}, {schema}, seqname, nxt);"
    ).format(
        rel=_regclass_text(schema, table),
        table=qualified(schema, table),
        hidden=sql.Identifier(hidden),
        oldi=sql.Identifier(old),
        kind=sql.SQL(kind),
        hid=sql.Literal(hidden),
        schema=sql.Literal(schema),
    )
    return _with_own_sequence(schema, table, old, "nxt bigint; seqname text; ", body)


def _move_serial(schema: str, table: str, old: str, hidden: str, widen_to: str | None) -> sql.Composable:
    own = sql.SQL("EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', seq, {}, {});").format(
        _regclass_text(schema, table), sql.Literal(hidden)
    )
    if widen_to:
        own = sql.SQL("EXECUTE format('ALTER SEQUENCE %s AS {}', seq); {}").format(sql.SQL(widen_to), own)
    return _with_own_sequence(schema, table, old, "", own)


def move_sequence(schema: str, table: str, old: str, hidden: str, new_type: str, identity: str) -> Step:
    """Hand the old column's own sequence (serial) or identity to the hidden column, current value kept.

    serial: the sequence becomes OWNED BY the hidden column (so dropping the old column keeps it) and is
    widened to the new integer type. identity: under a brief table lock, the old column's identity is
    dropped and the hidden column becomes an identity of the same kind, with a sequence of the same name
    starting after the old one's current value. A sequence not owned by the column is left alone.
    """
    widen = new_type.strip().lower() in _INTEGER_TYPES
    if identity:
        body = _move_identity(schema, table, old, hidden, identity)
    else:
        body = _move_serial(schema, table, old, hidden, new_type if widen else None)
    return Step(
        f"move the {'identity' if identity else 'sequence'} of {table}.{old} to {hidden}"
        + (f", widened to {new_type}" if widen else ""),
        _do(body),
        lock=_exclusive(schema, table),  # a DO block: its SQL does not say
        skip_if=sql.SQL("SELECT NOT ({}) OR NOT ({}) OR pg_get_serial_sequence({}, {}) IS NULL").format(
            column_exists(schema, table, hidden),
            column_exists(schema, table, old),
            _regclass_text(schema, table),
            sql.Literal(old),
        ),
    )


# -- index options (create_index): per-column key parts, INCLUDE, NULLS NOT DISTINCT, storage, tablespace ------


@dataclass(frozen=True)
class KeyPart:
    """One key column of an index with its options; `opclass` and `order`/`nulls` are checked words (spec)."""

    column: str
    collation: str | None = None
    opclass: str | None = None
    order: str | None = None  # ASC | DESC
    nulls: str | None = None  # FIRST | LAST

    def sql(self) -> sql.Composable:
        parts: list[sql.Composable] = [sql.Identifier(self.column)]
        if self.collation:
            parts.append(sql.SQL("COLLATE {}").format(sql.Identifier(self.collation)))
        if self.opclass:
            parts.append(sql.SQL(".").join(sql.Identifier(p) for p in self.opclass.split(".")))
        if self.order:
            parts.append(sql.SQL(self.order))
        if self.nulls:
            parts.append(sql.SQL("NULLS {}").format(sql.SQL(self.nulls)))
        return sql.SQL(" ").join(parts)


@dataclass(frozen=True)
class IndexOptions:
    """What CREATE INDEX may say beyond its columns, method and predicate."""

    keys: tuple[KeyPart, ...] = ()  # the key columns with their options (empty: the plain columns)
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False  # PostgreSQL 15 and later
    storage: tuple[tuple[str, str], ...] = ()  # WITH (name = 'value', …)
    tablespace: str | None = None

    def key_sql(self) -> sql.Composable:
        return sql.SQL(", ").join(k.sql() for k in self.keys)

    def tail_sql(self) -> sql.Composable:
        out: sql.Composable = sql.SQL("")
        if self.include:
            out += sql.SQL(" INCLUDE ({})").format(_names(list(self.include)))
        if self.nulls_not_distinct:
            out += sql.SQL(" NULLS NOT DISTINCT")
        if self.storage:
            pairs = (sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in self.storage)
            out += sql.SQL(" WITH ({})").format(sql.SQL(", ").join(pairs))
        if self.tablespace:
            out += sql.SQL(" TABLESPACE {}").format(sql.Identifier(self.tablespace))
        return out


# -- indexes ---------------------------------------------------------------------------------------------


def _index_body(
    columns: list[str], method: str, where: str | None, options: IndexOptions | None = None
) -> sql.Composable:
    """` USING method (columns) [options] [WHERE (where)]`: what follows the table in CREATE INDEX."""
    keys = _names(columns) if options is None or not options.keys else options.key_sql()
    body = sql.SQL(" USING {} ({})").format(sql.Identifier(method), keys)
    if options is not None:
        body += options.tail_sql()
    return sql.SQL("{} WHERE (\n{}\n)").format(body, sql.SQL(where)) if where else body


def create_index_concurrently(
    schema: str,
    table: str,
    name: str,
    columns: list[str],
    *,
    unique: bool = False,
    method: str = "btree",
    where: str | None = None,
    options: IndexOptions | None = None,
) -> Step:
    statement = sql.SQL("CREATE {}INDEX CONCURRENTLY IF NOT EXISTS {} ON {}{}").format(
        sql.SQL("UNIQUE ") if unique else sql.SQL(""),
        sql.Identifier(name),
        qualified(schema, table),
        _index_body(columns, method, where, options),
    )
    return Step(
        f"create {'unique ' if unique else ''}index {name} on {table} ({', '.join(columns)}) concurrently",
        statement,
        lock=Lock(SHARE_UPDATE, ((schema, table),), concurrently=True),
        transactional=False,
        skip_if=valid_index_exists(schema, name),
        index_to_clean=qualified(schema, name),
    )


def create_index_as(schema: str, table: str, name: str, statement: str, description: str) -> Step:
    """`statement`: a `CREATE … INDEX CONCURRENTLY IF NOT EXISTS name ON schema.table …` rebuilt from catalog
    text (index_rebuild.py), not user input."""
    return Step(
        description,
        sql.SQL(statement),
        lock=Lock(SHARE_UPDATE, ((schema, table),), concurrently=True),
        transactional=False,
        skip_if=valid_index_exists(schema, name),
        index_to_clean=qualified(schema, name),
    )


def rename_index(schema: str, name: str, new: str) -> Step:
    # ALTER INDEX … RENAME locks only the index (its table is not named here): no application table waits for
    # it. The label has always named ACCESS EXCLUSIVE, like the table's renames.
    return _rename_relation("INDEX", schema, name, new, Lock(ACCESS_EXCLUSIVE), relation_missing(schema, name))


def drop_index_concurrently(schema: str, name: str) -> Step:
    return Step(
        f"drop index {name} concurrently",
        sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(qualified(schema, name)),
        # the index's table is not named here; its SHARE UPDATE EXCLUSIVE blocks no application statement
        lock=Lock(SHARE_UPDATE, concurrently=True),
        transactional=False,
        skip_if=relation_missing(schema, name),
    )


def reindex_concurrently(schema: str, table: str, index: str, grown_past: tuple[str, int] | None) -> Step:
    """Rebuild index `index` of `table` (a plain table or a leaf partition). `grown_past` (measured, limit): skip it
    while index `measured` (the index itself, or the partitioned index it is a leaf of: its leaves' sum) is at most
    `limit` bytes, so a repeated phase skips what it rebuilt; None: always rebuild. A failed attempt leaves the new
    copy INVALID as `<index>_ccnew`, dropped before the retry (a failure after the swap leaves the old one as
    `<index>_ccold`: drop_invalid_index)."""
    skip_if = None
    if grown_past is not None:
        measured, limit = grown_past
        # a partitioned index's tree holds it and its parts; a plain index has none (to_regclass: NULL if gone)
        skip_if = sql.SQL(
            "SELECT coalesce(sum(pg_relation_size(relid)), 0) <= {limit} FROM (SELECT relid FROM "
            "pg_partition_tree(to_regclass({index})) UNION SELECT to_regclass({index})) tree WHERE relid IS NOT NULL"
        ).format(index=sql.Literal(qualified(schema, measured).as_string(None)), limit=sql.Literal(limit))
    why = f"grew past {grown_past[1]:,} bytes" if grown_past else "built before the backfill filled its column"
    return Step(
        f"rebuild index {index} on {table} concurrently ({why})",
        sql.SQL("REINDEX INDEX CONCURRENTLY {}").format(qualified(schema, index)),
        # like CREATE INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE on the table, waits for older snapshots; the
        # swap's ACCESS EXCLUSIVE is on the indexes only, once no transaction uses the old one
        lock=Lock(SHARE_UPDATE, ((schema, table),), concurrently=True),
        transactional=False,
        skip_if=skip_if,
        index_to_clean=qualified(schema, concurrent_copy_name(index, "ccnew")),
    )


def concurrent_copy_name(index: str, label: str) -> str:
    """The name REINDEX CONCURRENTLY gives its copy of `index` (`ccnew`) or the old index (`ccold`): PostgreSQL's
    makeObjectName truncates the index's name to fit `_<label>` in 63 bytes."""
    return f"{index.encode()[: MAX_IDENTIFIER - len(label) - 1].decode(errors='ignore')}_{label}"


def drop_invalid_index(schema: str, name: str) -> Step:
    """Drop `name` if it is an INVALID index (what a failed REINDEX CONCURRENTLY leaves), else nothing."""
    return Step(
        f"drop invalid index {name} concurrently (left by a failed rebuild)",
        sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(qualified(schema, name)),
        lock=Lock(SHARE_UPDATE, concurrently=True),
        transactional=False,
        skip_if=sql.SQL(
            "SELECT NOT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass({}) AND NOT indisvalid)"
        ).format(sql.Literal(qualified(schema, name).as_string(None))),
    )


# -- indexes on a partitioned table: built CONCURRENTLY on each partition, then attached ----------------------


def partition_index_name(name: str, partition: str) -> str:
    """The name of index `name`'s part on `partition`: `<partition>_<name>`, hashed past 63 bytes."""
    return fitted_name(f"{partition}_{name}")


def create_index_on_only(
    schema: str,
    table: str,
    name: str,
    columns: list[str],
    *,
    unique: bool = False,
    method: str = "btree",
    where: str | None = None,
    options: IndexOptions | None = None,
) -> Step:
    """The partitioned table's own index, over no partition (ON ONLY): catalog only, so its SHARE lock is brief.
    It is invalid until an index of each partition is attached to it, and PostgreSQL then marks it valid."""
    statement = sql.SQL("CREATE {}INDEX IF NOT EXISTS {} ON ONLY {}{}").format(
        sql.SQL("UNIQUE ") if unique else sql.SQL(""),
        sql.Identifier(name),
        qualified(schema, table),
        _index_body(columns, method, where, options),
    )
    return Step(
        f"create {'unique ' if unique else ''}index {name} on only {table} (partitioned; its partitions' attached)",
        statement,
        lock=Lock(SHARE, ((schema, table),)),
        skip_if=relation_exists(schema, name),
    )


def attach_partition_index(schema: str, index: str, partition_schema: str, partition_index: str) -> Step:
    """Attach a partition's index to its partitioned table's index: catalog only, no scan. It locks the attached
    index (ACCESS EXCLUSIVE) and reads both tables (ACCESS SHARE), so no application table waits on it."""
    attached = sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass({}) AND inhparent = to_regclass({}))"
    ).format(_regclass_text(partition_schema, partition_index), _regclass_text(schema, index))
    return Step(
        f"attach index {partition_index} to {index}",
        sql.SQL("ALTER INDEX {} ATTACH PARTITION {}").format(
            qualified(schema, index), qualified(partition_schema, partition_index)
        ),
        lock=Lock(ACCESS_EXCLUSIVE),
        skip_if=attached,
    )


def drop_partitioned_index(schema: str, table: str, name: str) -> Step:
    """A partitioned table's index with its partitions' (PostgreSQL cannot drop it CONCURRENTLY): catalog only,
    under ACCESS EXCLUSIVE on the table and its partitions, held briefly."""
    return Step(
        f"drop index {name} of partitioned table {table} (with its partitions' indexes)",
        sql.SQL("DROP INDEX IF EXISTS {}").format(qualified(schema, name)),
        lock=_exclusive(schema, table),
        skip_if=relation_missing(schema, name),
    )


def create_index_on_only_as(schema: str, table: str, name: str, statement: str, description: str) -> Step:
    """`statement`: a `CREATE … INDEX IF NOT EXISTS name ON ONLY schema.table …` rebuilt from catalog text
    (index_rebuild.py, not user input): as create_index_on_only, catalog only."""
    return Step(
        description, sql.SQL(statement), lock=Lock(SHARE, ((schema, table),)), skip_if=relation_exists(schema, name)
    )


def add_unique_on_only(schema: str, table: str, name: str, definition: sql.Composable) -> Step:
    """`ALTER TABLE ONLY table ADD CONSTRAINT name UNIQUE …` on a partitioned table: its index is created over no
    partition (catalog only; ACCESS EXCLUSIVE and SHARE on this table alone, held briefly) and is invalid until
    each partition's constraint index is attached to it. PostgreSQL has no `USING INDEX` on a partitioned table.
    `definition`: `UNIQUE (…)` as composed by the operation, or as PostgreSQL printed it (catalog text)."""
    return Step(
        f"add constraint {name} on only {table} (partitioned; its partitions' attached)",
        sql.SQL("ALTER TABLE ONLY {} ADD CONSTRAINT {} {}").format(
            qualified(schema, table), sql.Identifier(name), definition
        ),
        lock=_exclusive(schema, table),
        skip_if=constraint_exists(schema, table, name),
    )


# -- the partition lifecycle: create, attach and detach without a long lock ----------------------------------
# `bound` is a FOR VALUES clause composed by the operation (operations/partition_bounds.py). Attaching a partition
# while a DEFAULT partition exists takes ACCESS EXCLUSIVE on the DEFAULT partition too, which the SQL does not
# name: `default` is that partition, so the executor waits for its old transactions as well.


def create_partition_of(schema: str, parent: str, name: str, bound: sql.Composable) -> Step:
    """A new, empty partition: catalog only, but ACCESS EXCLUSIVE on the partitioned table (held briefly). Only
    without a DEFAULT partition, whose rows PostgreSQL would otherwise scan under that lock."""
    return Step(
        f"create partition {name} of {parent} (empty: catalog only)",
        sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} {}").format(
            qualified(schema, name), qualified(schema, parent), bound
        ),
        lock=_exclusive(schema, parent),
        skip_if=relation_exists(schema, name),
    )


def create_table_like(schema: str, parent: str, name: str) -> Step:
    """A standalone table shaped as the partitioned table's partitions must be (its columns, defaults, CHECK and
    NOT NULL constraints, generated columns), to be attached: it reads the partitioned table's catalog only."""
    return Step(
        f"create table {name} like {parent} (to attach as a partition)",
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)"
        ).format(qualified(schema, name), qualified(schema, parent)),
        lock=NO_TABLE_LOCK,
        skip_if=relation_exists(schema, name),
    )


def _partition_locks(schema: str, partition: str, parent: str, default: str | None) -> tuple[tuple[str, str], ...]:
    """The partition first, then its partitioned table (as the SQL names them), then the DEFAULT partition."""
    return ((schema, partition), (schema, parent), *(((schema, default),) if default else ()))


def attach_partition(schema: str, parent: str, partition: str, bound: sql.Composable, default: str | None) -> Step:
    """ATTACH PARTITION: SHARE UPDATE EXCLUSIVE on the partitioned table, ACCESS EXCLUSIVE on the partition and on
    the DEFAULT partition. It scans neither when validated CHECK constraints already prove the new partition's
    bound (on the partition) and its exclusion (on the DEFAULT partition): then it is catalog only."""
    return Step(
        f"attach {partition} to {parent} (its bound proven by validated checks: no scan)",
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} {}").format(
            qualified(schema, parent), qualified(schema, partition), bound
        ),
        lock=Lock(ACCESS_EXCLUSIVE, _partition_locks(schema, partition, parent, default)),
        skip_if=partition_attached(schema, parent, partition),
    )


def detach_partition_concurrently(schema: str, parent: str, partition: str) -> Step:
    """DETACH … CONCURRENTLY (PostgreSQL 14+, no DEFAULT partition): two transactions under SHARE UPDATE EXCLUSIVE,
    waiting between them for the queries that may see the partition. Interrupted after its first, it leaves the
    detach pending: `finalize_detach` completes it."""
    return Step(
        f"detach {partition} from {parent} concurrently",
        sql.SQL("ALTER TABLE {} DETACH PARTITION {} CONCURRENTLY").format(
            qualified(schema, parent), qualified(schema, partition)
        ),
        lock=Lock(SHARE_UPDATE, _partition_locks(schema, partition, parent, None), concurrently=True),
        transactional=False,
        skip_if=either(
            partition_detached(schema, parent, partition),
            detach_pending(schema, parent, partition),
        ),
    )


def finalize_detach(schema: str, parent: str, partition: str) -> Step:
    """Complete a DETACH … CONCURRENTLY that was interrupted (a worker killed, a lock timeout in its wait); outside
    a transaction, as it waits for older snapshots too."""
    return Step(
        f"finalize the pending detach of {partition} from {parent}",
        sql.SQL("ALTER TABLE {} DETACH PARTITION {} FINALIZE").format(
            qualified(schema, parent), qualified(schema, partition)
        ),
        lock=Lock(SHARE_UPDATE, _partition_locks(schema, partition, parent, None)),
        transactional=False,
        skip_if=sql.SQL("SELECT NOT ({})").format(detach_pending(schema, parent, partition)),
    )


def detach_partition(schema: str, parent: str, partition: str, default: str | None) -> Step:
    """A plain DETACH, for a partitioned table with a DEFAULT partition (PostgreSQL refuses CONCURRENTLY there):
    catalog only, under ACCESS EXCLUSIVE on the partitioned table, the partition and the DEFAULT partition."""
    return Step(
        f"detach {partition} from {parent} (catalog only)",
        sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(qualified(schema, parent), qualified(schema, partition)),
        lock=Lock(ACCESS_EXCLUSIVE, _partition_locks(schema, partition, parent, default)),
        skip_if=partition_detached(schema, parent, partition),
    )


def drop_table_if_empty(schema: str, table: str, parent: str) -> Step:
    """Drop a table liveshift created as a partition and has detached again, unless rows were written into it
    meanwhile: those are kept, in the table, rather than lost."""
    rel = _regclass_text(schema, table)
    body = sql.SQL(
        "DECLARE has_rows boolean; BEGIN "
        "IF to_regclass({rel}) IS NULL OR EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass({rel})) "
        "THEN RETURN; END IF; "
        "EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', {rel}) INTO has_rows; "
        "IF NOT has_rows THEN EXECUTE format('DROP TABLE %s', {rel}); END IF; END"
    ).format(rel=rel)
    return Step(
        f"drop table {table} (created as a partition of {parent}) unless rows were written into it",
        _do(body),
        lock=_exclusive(schema, table, linked=True),  # a DO block: its SQL does not say
        skip_if=relation_missing(schema, table),
    )


# -- constraints -----------------------------------------------------------------------------------------


def add_check_not_valid(
    schema: str, table: str, name: str, expression: sql.Composable, description: str | None = None
) -> Step:
    """CHECK … NOT VALID: holds for new writes at once, without a scan; `expression` is parenthesised."""
    return Step(
        description or f"add check {name} on {table} NOT VALID",
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK {} NOT VALID").format(
            qualified(schema, table), sql.Identifier(name), expression
        ),
        lock=_exclusive(schema, table),
        skip_if=constraint_exists(schema, table, name),
    )


def on_delete(action: str) -> sql.Composable:
    """The options part of a foreign key declared in a migration file."""
    return sql.SQL(" ON DELETE {}").format(sql.SQL(action))


def foreign_key_options(
    on_delete_action: str,
    on_delete_columns: list[str],
    on_update: str,
    match: str,
    deferrable: bool,
    initially_deferred: bool,
) -> sql.Composable:
    """Every option of a declared foreign key (words checked by the spec), in the order PostgreSQL prints them;
    `on_delete_columns`: physical names, for SET NULL (a, b) (PostgreSQL 15 and later)."""
    out = sql.SQL(" MATCH FULL") if match == "FULL" else sql.SQL("")
    if on_update != "NO ACTION":
        out += sql.SQL(" ON UPDATE {}").format(sql.SQL(on_update))
    out += on_delete(on_delete_action)
    if on_delete_columns:
        out += sql.SQL(" ({})").format(_names(on_delete_columns))
    if deferrable:
        out += sql.SQL(" DEFERRABLE INITIALLY {}").format(sql.SQL("DEFERRED" if initially_deferred else "IMMEDIATE"))
    return out


def add_foreign_key_not_valid(
    schema: str,
    table: str,
    name: str,
    columns: list[str],
    ref_table: str,
    ref_columns: list[str],
    options: sql.Composable,
    ref_schema: str | None = None,
) -> Step:
    """FOREIGN KEY … NOT VALID; `options` (MATCH, ON UPDATE/DELETE, DEFERRABLE) from `on_delete` for a declared
    key, or as PostgreSQL printed them for a key being rebuilt (catalog_text.foreign_key_options)."""
    return two_tables(
        Step(
            f"add foreign key {name} on {table} ({', '.join(columns)}) -> {ref_table} NOT VALID",
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){} NOT VALID").format(
                qualified(schema, table),
                sql.Identifier(name),
                _names(columns),
                qualified(ref_schema or schema, ref_table),
                _names(ref_columns),
                options,
            ),
            # both tables; the referenced one first, as PostgreSQL locks them
            lock=Lock(SHARE_ROW, ((ref_schema or schema, ref_table), (schema, table))),
            skip_if=constraint_exists(schema, table, name),
        )
    )


def add_foreign_key_over_partitions(
    schema: str,
    table: str,
    name: str,
    columns: list[str],
    ref_table: str,
    ref_columns: list[str],
    options: sql.Composable,
    ref_schema: str | None = None,
) -> Step:
    """FOREIGN KEY on a partitioned table whose leaf partitions each hold the same key, validated: PostgreSQL
    attaches those instead of checking their rows (catalog only), and creates it on each sub-level. It holds SHARE
    ROW EXCLUSIVE on the table and every partition and ACCESS EXCLUSIVE on the referenced table (measured on 15
    and 18, as for NOT VALID on 18), briefly (operations/partitioned_foreign_key.py)."""
    return two_tables(
        Step(
            f"add foreign key {name} on partitioned {table} ({', '.join(columns)}) -> {ref_table}, attaching its "
            "partitions' validated keys (catalog only)",
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}").format(
                qualified(schema, table),
                sql.Identifier(name),
                _names(columns),
                qualified(ref_schema or schema, ref_table),
                _names(ref_columns),
                options,
            ),
            lock=Lock(ACCESS_EXCLUSIVE, ((ref_schema or schema, ref_table), (schema, table))),
            skip_if=constraint_exists(schema, table, name),
        )
    )


def attach_unique_index(schema: str, table: str, name: str, index: str | None = None) -> Step:
    """A unique index built concurrently at expand becomes constraint `name` (brief lock); the index (by
    default of the same name) takes the constraint's name."""
    index = index or name
    return Step(
        f"attach unique index {index} as constraint {name}",
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}").format(
            qualified(schema, table), sql.Identifier(name), sql.Identifier(index)
        ),
        lock=_exclusive(schema, table),
        skip_if=constraint_exists(schema, table, name),
    )


def swap_primary_key(schema: str, table: str, name: str, index: str, column: str) -> Step:
    """The primary key moves to a unique index over a column whose NOT NULL is already proven."""
    return Step(
        f"swap primary key {name} of {table} to the unique index {index} on {column} (NOT NULL proven, no scan)",
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
            qualified(schema, table), sql.Identifier(name), sql.Identifier(name), sql.Identifier(index)
        ),
        lock=_exclusive(schema, table, linked=True),
        skip_if=relation_missing(schema, index),
    )


def validate_constraint(schema: str, table: str, name: str) -> Step:
    return Step(
        f"validate constraint {name} on {table}",
        sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(qualified(schema, table), sql.Identifier(name)),
        lock=Lock(SHARE_UPDATE, ((schema, table),)),
        skip_if=constraint_exists(schema, table, name, validated=True),
    )


def drop_constraint(schema: str, table: str, name: str) -> Step:
    return Step(
        f"drop constraint {name} on {table}",
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(qualified(schema, table), sql.Identifier(name)),
        lock=_exclusive(schema, table, linked=True),
        skip_if=constraint_missing(schema, table, name),
    )


def drop_foreign_key(schema: str, table: str, name: str, referenced: str) -> Step:
    """Drop a foreign key of `table` to `referenced`: that locks both, though its SQL names only `table`."""
    step = two_tables(drop_constraint(schema, table, name))
    return replace(step, lock=Lock(ACCESS_EXCLUSIVE, ((schema, table), (schema, referenced)), linked=True))


def drop_foreign_key_while_hidden(schema: str, table: str, name: str, referenced: str, hidden: str) -> Step:
    """Drop an old foreign key at contract_first; never its successor of the same name after a re-run."""
    step = drop_foreign_key(schema, table, name, referenced)
    return replace(step, skip_if=while_hidden(schema, table, hidden, constraint_missing(schema, table, name)))


def rename_constraint(schema: str, table: str, old: str, new: str) -> Step:
    return Step(
        f"rename constraint {old} on {table} to {new}",
        sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
            qualified(schema, table), sql.Identifier(old), sql.Identifier(new)
        ),
        lock=_exclusive(schema, table),
        skip_if=constraint_missing(schema, table, old),
    )


def drop_checks_on_columns(schema: str, table: str, columns: list[str]) -> Step:
    """Every CHECK that uses one of `columns`, whatever its name."""
    return Step(
        f"drop checks on the hidden columns of {table}",
        sql.SQL(
            "DO $ls$ DECLARE c record; BEGIN FOR c IN SELECT con.conrelid, con.conname "
            "FROM pg_constraint con JOIN pg_attribute a ON a.attrelid = con.conrelid "
            "AND a.attnum = ANY(con.conkey) WHERE con.conrelid = to_regclass({table}) "
            "AND con.contype = 'c' AND a.attname = ANY({hidden}) LOOP "
            "EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', c.conrelid::regclass, "
            "c.conname); END LOOP; END $ls$"
        ).format(table=_regclass_text(schema, table), hidden=sql.Literal(columns)),
        # a DO block: its SQL does not say. It drops only CHECKs, which link no other table
        lock=_exclusive(schema, table),
    )


def drop_checks_except(schema: str, table: str, keep: list[str]) -> Step:
    """Every CHECK of `table` but `keep`: what DETACH … CONCURRENTLY added to a table it detached (its bound, under
    a name PostgreSQL chose), when the table goes back to the shape it had before it was attached."""
    return Step(
        f"drop the checks {table} did not have before it was attached",
        sql.SQL(
            "DO $ls$ DECLARE c record; BEGIN FOR c IN SELECT con.conname FROM pg_constraint con "
            "WHERE con.conrelid = to_regclass({table}) AND con.contype = 'c' AND NOT con.conname = ANY({keep}) LOOP "
            "EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', {table}, c.conname); END LOOP; END $ls$"
        ).format(table=_regclass_text(schema, table), keep=sql.Literal(keep)),
        # a DO block: its SQL does not say. It drops only CHECKs, which link no other table
        lock=_exclusive(schema, table),
    )


# -- dual-write triggers (their function's body: triggers.function_body) --------------------------------


def _writer_is_green(green: str) -> sql.Composable:
    """Evaluated in the writing session (a trigger's WHEN clause), not in the function, whose search_path is
    pinned; names qualified, resolved once at CREATE TRIGGER."""
    return sql.SQL(
        "coalesce(nullif(pg_catalog.current_setting('liveshift.version', true), ''), "
        "(pg_catalog.current_schemas(false))[1]) = {}"
    ).format(sql.Literal(green))


def triggers_lock(schema: str, table: str) -> Lock:
    """DROP TRIGGER (IF EXISTS) takes ACCESS EXCLUSIVE, CREATE TRIGGER only SHARE ROW EXCLUSIVE."""
    return Lock(ACCESS_EXCLUSIVE, ((schema, table),), by="DROP TRIGGER")


def create_trigger_steps(
    schema: str, table: str, migration: str, green: str, transforms: list[Transform], marker: bool
) -> list[Step]:
    fn = qualified("liveshift", function_name(migration, table))
    body = function_body(schema, table, transforms, marker).as_string(None)
    blue, green_trig = (sql.Identifier(n) for n in trigger_names(migration))
    is_green = _writer_is_green(green)
    return [
        Step(
            f"create dual-write function for {table}",
            # SECURITY INVOKER (the default): the write's own role computes its columns. The search_path is
            # pinned, so an object in a schema on the application's path (a `lower()` of its own) cannot
            # change what the trigger computes: user functions in up/down must be schema-qualified.
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql "
                "SET search_path = pg_catalog, pg_temp AS {}"
            ).format(fn, sql.Literal(body)),
            lock=NO_TABLE_LOCK,
        ),
        Step(
            f"create dual-write triggers on {table}",
            # two triggers, one per side: which side writes is only known in the writing session
            sql.SQL(
                "DROP TRIGGER IF EXISTS {blue} ON {table}; DROP TRIGGER IF EXISTS {green} ON {table}; "
                "CREATE TRIGGER {green} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW WHEN ({is_green}) "
                "EXECUTE FUNCTION {fn}('green'); "
                "CREATE TRIGGER {blue} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
                "WHEN (pg_catalog.current_setting('liveshift.version', true) IS DISTINCT FROM {direct} "
                "AND ({is_green}) IS NOT TRUE) EXECUTE FUNCTION {fn}('blue')"
            ).format(
                blue=blue,
                green=green_trig,
                table=qualified(schema, table),
                is_green=is_green,
                direct=sql.Literal(BACKFILL_DIRECT),
                fn=fn,
            ),
            lock=triggers_lock(schema, table),
        ),
    ]


def drop_trigger_steps(schema: str, table: str, migration: str) -> list[Step]:
    fn = qualified("liveshift", function_name(migration, table))
    names = trigger_names(migration)
    return [
        Step(
            f"drop dual-write triggers on {table}",
            sql.SQL("DROP TRIGGER IF EXISTS {blue} ON {table}; DROP TRIGGER IF EXISTS {green} ON {table}").format(
                blue=sql.Identifier(names[0]), green=sql.Identifier(names[1]), table=qualified(schema, table)
            ),
            lock=triggers_lock(schema, table),
            skip_if=sql.SQL(
                "SELECT to_regclass({}) IS NULL OR NOT EXISTS (SELECT 1 FROM pg_trigger "
                "WHERE tgrelid = to_regclass({}) AND tgname = ANY({}))"
            ).format(
                sql.Literal(qualified(schema, table).as_string(None)),
                sql.Literal(qualified(schema, table).as_string(None)),
                sql.Literal(list(names)),
            ),
        ),
        Step(
            f"drop dual-write function for {table}",
            sql.SQL("DROP FUNCTION IF EXISTS {}()").format(fn),
            lock=NO_TABLE_LOCK,
        ),
    ]


# -- version schemas and their views ---------------------------------------------------------------------


def view_step(version: str, schema: str, table: Table) -> Step:
    """(Re)create the view `version.table` over the physical table, columns in their logical names."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(sql.Identifier(c.physical), sql.Identifier(c.name)) for c in table.columns
    )
    view = qualified(version, table.name)
    return Step(
        f"create view {version}.{table.name}",
        sql.SQL("DROP VIEW IF EXISTS {view}; CREATE VIEW {view} AS SELECT {cols} FROM {table}").format(
            view=view, cols=columns, table=qualified(schema, table.physical)
        ),
        lock=NO_TABLE_LOCK,
    )


def view_security_step(version: str, table: Table) -> Step:
    """Make `version.table` a security_invoker view; skipped before PostgreSQL 15 and once set.

    Its own step, after the view's: the new view holds no grant for application roles until the grants
    are synchronised (after expand), so no role can use it before it runs with the caller's rights."""
    view = qualified(version, table.name)
    return Step(
        f"run view {version}.{table.name} with the caller's rights",
        sql.SQL("ALTER VIEW {} SET (security_invoker = true)").format(view),
        lock=NO_TABLE_LOCK,
        skip_if=sql.SQL(
            "SELECT current_setting('server_version_num')::int < {} OR coalesce((SELECT c.reloptions "
            "@> ARRAY['security_invoker=true'] FROM pg_class c WHERE c.oid = to_regclass({})), false)"
        ).format(sql.Literal(SECURITY_INVOKER_SINCE), sql.Literal(view.as_string(None))),
    )


def view_default_step(version: str, table: str, column: str, default: str) -> Step:
    """A default on a view column: inserts through the view that omit the column get it."""
    return Step(
        f"set default of {version}.{table}.{column}",
        sql.SQL("ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {}").format(
            qualified(version, table), sql.Identifier(column), user_expression(default)
        ),
        lock=NO_TABLE_LOCK,
    )


def create_version_steps(version: str, schema: str, catalog: Catalog) -> list[Step]:
    steps = [
        Step(
            f"create version schema {version}",
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(version)),
            lock=NO_TABLE_LOCK,
        )
    ]
    for table in catalog.tables.values():
        steps += [view_step(version, schema, table), view_security_step(version, table)]
    return steps


def create_blue_steps(version: str, schema: str, catalog: Catalog) -> list[Step]:
    """The schema's first version, unless it is registered already: another migration in flight on the schema,
    prepared before either expanded, created it (its views hold their grants), or this expand ran them before."""
    registered = sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM liveshift.active_versions WHERE schema_name = {} AND current_version = {})"
    ).format(sql.Literal(schema), sql.Literal(version))
    steps = []
    for step in create_version_steps(version, schema, catalog):
        guard = registered if step.skip_if is None else sql.SQL("SELECT ({}) OR ({})").format(registered, step.skip_if)
        steps.append(replace(step, skip_if=guard))
    return [*steps, register_version(schema, version)]


def drop_version_steps(version: str) -> list[Step]:
    """Drop our views, then the schema: RESTRICT, so a user object built on a view stops us loudly."""
    drop_views = sql.SQL(
        "DO $ls$ DECLARE v record; BEGIN "
        "FOR v IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = {name} AND c.relkind = 'v' LOOP "
        "EXECUTE format('DROP VIEW %I.%I', {name}, v.relname); END LOOP; END $ls$"
    ).format(name=sql.Literal(version))
    gone = sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = {})").format(sql.Literal(version))
    return [
        Step(f"drop views of version {version}", drop_views, lock=NO_TABLE_LOCK, skip_if=gone),
        Step(
            f"drop version schema {version}",
            sql.SQL("DROP SCHEMA IF EXISTS {} RESTRICT").format(sql.Identifier(version)),
            lock=NO_TABLE_LOCK,
            skip_if=gone,
        ),
    ]


HANDOVERS = sql.Identifier("liveshift", "view_handovers")
# the key of the advisory lock an expand or a rollback holds while it creates or drops a green's views
VIEWS_LOCK = 0x6C737677  # 'lsvw'

_MIRROR = """DO $ls$ DECLARE v text; g record; src oid := to_regclass({source}); BEGIN
PERFORM pg_advisory_xact_lock({lock_key}, hashtext({schema}));
FOR v IN SELECT m.green_version FROM liveshift.migrations m JOIN pg_namespace n ON n.nspname = m.green_version
    WHERE m.schema_name = {schema} AND m.name <> {migration}
    AND m.status NOT IN ('complete', 'rolled_back', 'rolling_back') LOOP
  {drops}
  IF {create} THEN
    EXECUTE format('CREATE VIEW %I.%I AS ', v, {view}) || {select};
    IF current_setting('server_version_num')::int >= {invoker_since} THEN
      EXECUTE format('ALTER VIEW %I.%I SET (security_invoker = %s)', v, {view},
        coalesce((SELECT c.reloptions @> ARRAY['security_invoker=true'] FROM pg_class c WHERE c.oid = src), false));
    END IF;
    FOR g IN SELECT a.privilege_type AS p, NULL::name AS col, a.grantee FROM pg_class c
        CROSS JOIN LATERAL aclexplode(c.relacl) a WHERE c.oid = src AND a.grantee <> c.relowner
      UNION ALL SELECT a.privilege_type, att.attname, a.grantee FROM pg_attribute att
        JOIN pg_class c ON c.oid = att.attrelid CROSS JOIN LATERAL aclexplode(att.attacl) a
        WHERE att.attrelid = src AND att.attnum > 0 AND NOT att.attisdropped AND a.grantee <> c.relowner LOOP
      EXECUTE format('GRANT %s%s ON %I.%I TO %s', g.p, CASE WHEN g.col IS NULL THEN '' ELSE format(' (%I)', g.col)
        END, v, {view}, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
    END LOOP;
    FOR g IN SELECT att.attname AS col, pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d
        JOIN pg_attribute att ON att.attrelid = d.adrelid AND att.attnum = d.adnum WHERE d.adrelid = src LOOP
      EXECUTE format('ALTER VIEW %I.%I ALTER COLUMN %I SET DEFAULT %s', v, {view}, g.col, g.expr);
    END LOOP;
  END IF;
END LOOP;
INSERT INTO liveshift.view_handovers VALUES ({migration}, {table}) ON CONFLICT DO NOTHING;
END $ls$"""


def mirror_views_step(
    schema: str, migration: str, green: str, physical: str, table: Table | None, old_names: list[str], lock: Lock
) -> Step:
    """At contract, show a table the migration changed (`table`: its final shape; None: dropped) in the greens of
    the schema's other in-flight migrations as it is now: their views of it, under its old names, are replaced by
    a copy of this migration's green view (over the same columns, with its rights, grants and defaults). Once per
    table (recorded in liveshift.view_handovers, in the same transaction): a view over the hidden columns could not
    be built again after contract's renames. The advisory lock waits for an expand or rollback of another
    migration that is creating or dropping its green's views."""
    drops = sql.SQL("\n  ").join(
        sql.SQL("EXECUTE format('DROP VIEW IF EXISTS %I.%I', v, {});").format(sql.Literal(name))
        for name in sorted({*old_names, *([table.name] if table else [])})
    )
    select = sql.SQL("")
    if table is not None:
        columns = sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(sql.Identifier(c.physical), sql.Identifier(c.name)) for c in table.columns
        )
        select = sql.SQL("SELECT {} FROM {}").format(columns, qualified(schema, table.physical))
    statement = sql.SQL(_MIRROR).format(
        # a dropped table has no source view: NULL (to_regclass('') raises before PostgreSQL 16)
        source=sql.Literal(qualified(green, table.name).as_string(None)) if table else sql.SQL("NULL::text"),
        lock_key=sql.Literal(VIEWS_LOCK),
        schema=sql.Literal(schema),
        migration=sql.Literal(migration),
        drops=drops,
        create=sql.SQL("true" if table is not None else "false"),
        view=sql.Literal(table.name if table else ""),
        select=sql.Literal(select.as_string(None)),
        invoker_since=sql.Literal(SECURITY_INVOKER_SINCE),
        table=sql.Literal(physical),
    )
    done = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE migration = {} AND table_name = {})").format(
        HANDOVERS, sql.Literal(migration), sql.Literal(physical)
    )
    description = f"show {table.name if table else physical} as contract leaves it in other in-flight greens, if any"
    return Step(description, statement, lock=lock, skip_if=done)


def register_version(schema: str, version: str) -> Step:
    return Step(
        f"register {version} as the current version",
        sql.SQL(
            "INSERT INTO liveshift.active_versions (schema_name, current_version) VALUES ({}, {}) "
            "ON CONFLICT (schema_name) DO NOTHING"
        ).format(sql.Literal(schema), sql.Literal(version)),
        lock=NO_TABLE_LOCK,
    )


def forget_version(schema: str, version: str) -> Step:
    return Step(
        f"forget version {version}",
        sql.SQL("DELETE FROM liveshift.active_versions WHERE schema_name = {} AND current_version = {}").format(
            sql.Literal(schema), sql.Literal(version)
        ),
        lock=NO_TABLE_LOCK,
    )


# -- raw SQL (run once: each run is recorded in `runs`, state.py) -----------------------------------------


class RawSqlSteps(NamedTuple):
    expand: Step  # runs `up` and records the run
    rollback: Step  # runs `down` if `up` ran (or only forgets the run)
    contract: Step  # forgets the run


def raw_sql_steps(runs: sql.Composable, migration: str, index: int, up: str, down: str | None) -> RawSqlSteps:
    """The steps of a raw_sql operation; the user's SQL on lines of its own, so a trailing comment cannot
    swallow what follows. The user's SQL declares no lock (`lock=None`: "unknown: raw SQL, not checked"):
    liveshift cannot know what arbitrary SQL locks, so the executor makes do with what pglast reads from it."""
    key = sql.SQL("migration = {} AND op_index = {}").format(sql.Literal(migration), sql.Literal(index))
    has_run = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(runs, key)
    forget = sql.SQL("DELETE FROM {} WHERE {}").format(runs, key)
    run_up = Step(
        f"raw SQL up (operation {index})",
        sql.SQL("{}\n;\nINSERT INTO {} VALUES ({}, {})").format(
            sql.SQL(up), runs, sql.Literal(migration), sql.Literal(index)
        ),
        lock=None,
        skip_if=has_run,
    )
    if down is not None:
        undo = Step(
            f"raw SQL down (operation {index})",
            sql.SQL("{}\n;\n{}").format(sql.SQL(down), forget),
            lock=None,
            skip_if=sql.SQL("SELECT NOT ({})").format(has_run),
        )
    else:
        undo = Step(f"forget raw SQL of operation {index} (no down given)", forget, lock=NO_TABLE_LOCK)
    done = Step(f"forget raw SQL of operation {index}", forget, lock=NO_TABLE_LOCK)
    return RawSqlSteps(run_up, undo, done)


def raw_sql_on_complete(runs: sql.Composable, migration: str, index: int, text: str) -> Step:
    """A raw_sql operation's `on_complete`, run at contract once: with the forgetting of the run, so that a
    second contract (the run forgotten) skips it. Declares no lock, as every user statement (see raw_sql_steps)."""
    key = sql.SQL("migration = {} AND op_index = {}").format(sql.Literal(migration), sql.Literal(index))
    return Step(
        f"raw SQL on_complete (operation {index})",
        sql.SQL("{}\n;\nDELETE FROM {} WHERE {}").format(sql.SQL(text), runs, key),
        lock=None,
        skip_if=sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {} WHERE {})").format(runs, key),
    )


# -- objects that read a column contract replaces (dependents.py, carry.py) --------------------------------
# Taken off before the column is dropped and put back over its successor in the same transaction; their
# definitions are PostgreSQL's own catalog text, printed and run again under a pg_catalog-only search_path.

_PRIVILEGES = {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN", "EXECUTE"}
_ENABLE = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


def _on(d: Dependent) -> sql.Identifier:
    return qualified(d.schema_name, d.on or "")


def _self(d: Dependent) -> sql.Identifier:
    return qualified(d.schema_name, d.name)


def _catalog_text(text: str) -> sql.SQL:
    """A definition PostgreSQL printed (pg_get_viewdef & co.), without its trailing semicolon."""
    return sql.SQL(text.strip().rstrip(";"))


def _qualified_path() -> sql.Composable:
    return sql.SQL("SELECT set_config('search_path', {}, true)").format(sql.Literal(QUALIFIED_PATH))


def _dependent_step(description: str, d: Dependent, statements: list[sql.Composable]) -> Step:
    """One part of a contract group (grouping is the caller's): the relation it locks, as its SQL may not say."""
    relation = d.relation or ((d.schema_name, d.on) if d.on else None)
    return Step(
        description,
        sql.SQL(";\n").join(statements),
        lock=Lock(ACCESS_EXCLUSIVE, (relation,)) if relation else NO_TABLE_LOCK,
    )


def _grant(d: Dependent, grant: Grant) -> sql.Composable:
    if grant.privilege not in _PRIVILEGES:
        raise ValueError(f"unknown privilege {grant.privilege!r} on {d.key}")
    column = sql.SQL(" ({})").format(sql.Identifier(grant.column)) if grant.column else sql.SQL("")
    grantee = sql.SQL("PUBLIC") if grant.grantee == "PUBLIC" else sql.Identifier(grant.grantee)
    option = sql.SQL(" WITH GRANT OPTION") if grant.grantable else sql.SQL("")
    return sql.SQL("GRANT {}{} ON {} TO {}{}").format(sql.SQL(grant.privilege), column, _self(d), grantee, option)


def _view_statements(d: Dependent) -> list[sql.Composable]:
    options = sql.SQL(" WITH ({})").format(sql.SQL(", ").join(sql.SQL(o) for o in d.options)) if d.options else None
    out: list[sql.Composable] = [
        sql.SQL("CREATE VIEW {}{} AS {}").format(_self(d), options or sql.SQL(""), _catalog_text(d.definition)),
        sql.SQL("ALTER VIEW {} OWNER TO {}").format(_self(d), sql.Identifier(d.owner)),
    ]
    out += [_grant(d, g) for g in d.grants]
    if d.comment is not None:
        out.append(sql.SQL("COMMENT ON VIEW {} IS {}").format(_self(d), sql.Literal(d.comment)))
    for column, comment in d.column_comments.items():
        out.append(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(_self(d), sql.Identifier(column), sql.Literal(comment))
        )
    for column, default in d.column_defaults.items():
        out.append(
            sql.SQL("ALTER VIEW {} ALTER COLUMN {} SET DEFAULT {}").format(
                _self(d), sql.Identifier(column), _catalog_text(default)
            )
        )
    return out


def _comment(d: Dependent, kind: str) -> list[sql.Composable]:
    if d.comment is None:
        return []
    target = sql.SQL("{} ON {}").format(sql.Identifier(d.name), _on(d)) if d.on and kind != "STATISTICS" else _self(d)
    return [sql.SQL("COMMENT ON {} {} IS {}").format(sql.SQL(kind), target, sql.Literal(d.comment))]


def _enable(d: Dependent, kind: str) -> list[sql.Composable]:
    if d.enabled not in _ENABLE:
        return []
    return [
        sql.SQL("ALTER TABLE {} {} {} {}").format(
            _on(d), sql.SQL(_ENABLE[d.enabled]), sql.SQL(kind), sql.Identifier(d.name)
        )
    ]


def _statistics_statements(d: Dependent) -> list[sql.Composable]:
    out: list[sql.Composable] = [
        _catalog_text(d.definition),
        sql.SQL("ALTER STATISTICS {} OWNER TO {}").format(_self(d), sql.Identifier(d.owner)),
    ]
    if d.stattarget is not None:
        out.append(sql.SQL("ALTER STATISTICS {} SET STATISTICS {}").format(_self(d), sql.Literal(d.stattarget)))
    return out + _comment(d, "STATISTICS")


def _placeholder_function(d: Dependent) -> sql.Composable:
    """The same function (its oid, owner, grants, comment, and what calls it) with a body that reads nothing."""
    header = sql.SQL("PROCEDURE {}({})") if d.procedure else sql.SQL("FUNCTION {}({}) RETURNS {}")
    return sql.SQL(
        "SELECT set_config('check_function_bodies', 'off', true);\n"
        "CREATE OR REPLACE {} LANGUAGE sql AS 'SELECT NULL';\n"
        "SET LOCAL check_function_bodies TO DEFAULT"
    ).format(header.format(_self(d), sql.SQL(d.arguments), sql.SQL(d.result or "")))


def _policy_expressions(d: Dependent, using: str | None, check: str | None) -> sql.Composable:
    parts = [sql.SQL("ALTER POLICY {} ON {}").format(sql.Identifier(d.name), _on(d))]
    if using is not None:
        parts.append(sql.SQL("USING ({})").format(sql.SQL(using)))
    if check is not None:
        parts.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(check)))
    return sql.SQL(" ").join(parts)


def detach_dependent(d: Dependent) -> Step:
    """Take `d` off the columns contract is about to drop: drop it, or (a function, a policy) keep the object
    and give it a body or expressions that read nothing until `reattach_dependent` restores them."""
    if d.kind == "function":
        return _dependent_step(f"keep {d.key} with an empty body meanwhile", d, [_placeholder_function(d)])
    if d.kind == "policy":
        empty = _policy_expressions(d, "true" if d.using else None, "true" if d.check else None)
        return _dependent_step(f"keep {d.key} with true expressions meanwhile", d, [empty])
    return _dependent_step(f"take off {d.key}", d, [_drop_dependent(d)])


def reattach_dependent(d: Dependent) -> Step:
    """Build `d` again from its saved definition over the new shape, with its owner, grants and comments."""
    if d.kind == "function":
        statements = [_catalog_text(d.definition)]
    elif d.kind == "policy":
        statements = [_policy_expressions(d, d.using, d.check)]
    elif d.kind == "view":
        statements = _view_statements(d)
    elif d.kind == "statistics":
        statements = _statistics_statements(d)
    else:  # a trigger or a rule
        kind = "TRIGGER" if d.kind == "trigger" else "RULE"
        statements = [_catalog_text(d.definition), *_enable(d, kind), *_comment(d, kind)]
    return _dependent_step(f"build {d.key} again over the new shape", d, [_qualified_path(), *statements])


def _drop_dependent(d: Dependent) -> sql.Composable:
    simple = {"view": "VIEW", "materialized_view": "MATERIALIZED VIEW", "statistics": "STATISTICS"}
    if d.kind in simple:
        return sql.SQL("DROP {} IF EXISTS {}").format(sql.SQL(simple[d.kind]), _self(d))
    if d.kind == "function":
        kind = "PROCEDURE" if d.procedure else "FUNCTION"
        return sql.SQL("DROP {} IF EXISTS {}").format(sql.SQL(kind), sql.SQL(d.identity))
    if d.kind == "publication":
        return sql.SQL("ALTER PUBLICATION {} DROP TABLE {}").format(sql.Identifier(d.name), _on(d))
    kind = {"policy": "POLICY", "trigger": "TRIGGER", "rule": "RULE"}[d.kind]
    return sql.SQL("DROP {} IF EXISTS {} ON {}").format(sql.SQL(kind), sql.Identifier(d.name), _on(d))


def drop_dependent(d: Dependent) -> Step:
    """Drop `d` for good (a drop_column with drop_dependents), in the transaction that drops the column."""
    return _dependent_step(f"drop {d.key} (drop_dependents)", d, [_drop_dependent(d)])


# -- comments and replica identity (issue 22) -------------------------------------------------------------


def comment_on(schema: str, table: str, target: tuple[str, str] | None, text: str | None) -> Step:
    """COMMENT ON TABLE, or on `target` ("COLUMN" | "CONSTRAINT", its name) of `table`; `text` None removes it.
    Catalog only, under SHARE UPDATE EXCLUSIVE (application reads and writes continue); the same again is a no-op."""
    kind, name = target or ("TABLE", "")
    on = qualified(schema, table)
    if kind == "COLUMN":
        on = sql.SQL("COLUMN {}").format(sql.Identifier(schema, table, name))
    elif kind == "CONSTRAINT":
        on = sql.SQL("CONSTRAINT {} ON {}").format(sql.Identifier(name), qualified(schema, table))
    else:
        on = sql.SQL("TABLE {}").format(on)
    what = f"{kind.lower()} {table}" + (f".{name}" if name else "")
    return Step(
        f"comment on {what}" if text is not None else f"remove the comment on {what}",
        sql.SQL("COMMENT ON {} IS {}").format(on, sql.Literal(text) if text is not None else sql.SQL("NULL")),
        lock=Lock(SHARE_UPDATE, ((schema, table),)),
    )


def set_replica_identity(schema: str, table: str, identity: str, index: str | None = None) -> Step:
    """REPLICA IDENTITY DEFAULT | FULL | NOTHING | USING INDEX: catalog only, a brief ACCESS EXCLUSIVE."""
    what = sql.SQL("USING INDEX {}").format(sql.Identifier(index)) if index else sql.SQL(identity)
    return Step(
        f"set replica identity of {table} to {identity.lower()}" + (f" {index}" if index else ""),
        sql.SQL("ALTER TABLE {} REPLICA IDENTITY {}").format(qualified(schema, table), what),
        lock=_exclusive(schema, table),
    )


# -- identity and generated columns (issue 22) -----------------------------------------------------------

SequenceOptions = list[tuple[str, "int | None"]]  # (START WITH, 1), (CYCLE, None)…: IdentityDef.sequence_options


def _sequence_options(options: SequenceOptions) -> sql.Composable:
    return sql.SQL(" ").join(
        sql.SQL(key) if value is None else sql.SQL("{} {}").format(sql.SQL(key), sql.Literal(value))
        for key, value in options
    )


def identity_clause(always: bool, options: SequenceOptions) -> sql.Composable:
    """`GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY [(options)]`, in a column definition or ADD GENERATED."""
    clause = sql.SQL("GENERATED {} AS IDENTITY").format(sql.SQL("ALWAYS" if always else "BY DEFAULT"))
    return clause + sql.SQL(" ({})").format(_sequence_options(options)) if options else clause


def generated_clause(expression: str, stored: bool) -> sql.Composable:
    return sql.SQL("GENERATED ALWAYS AS {} {}").format(
        user_expression(expression), sql.SQL("STORED" if stored else "VIRTUAL")
    )


def add_virtual_column(schema: str, table: str, column: str, type_: str, expression: str) -> Step:
    """A virtual generated column (PostgreSQL 18): computed when read, so adding it rewrites nothing."""
    return Step(
        f"add virtual generated column {table}.{column} (computed when read: no rewrite)",
        sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {} {}").format(
            qualified(schema, table), sql.Identifier(column), sql.SQL(type_), generated_clause(expression, False)
        ),
        lock=_exclusive(schema, table),
        skip_if=column_exists(schema, table, column),
    )


def set_generation_expression(schema: str, table: str, column: str, expression: str, old: str, hidden: str) -> Step:
    """Contract, before the old column `old` is dropped: the virtual generated column reads `hidden`, its successor,
    instead (catalog only for a virtual column: nothing is stored to recompute). `expression`: catalog text."""
    return Step(
        f"virtual generated column {table}.{column} reads {hidden} instead of {old} (catalog only)",
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET EXPRESSION AS ({})").format(
            qualified(schema, table), sql.Identifier(column), sql.SQL(expression)
        ),
        lock=_exclusive(schema, table),
        skip_if=sql.SQL("SELECT NOT ({}) OR NOT ({})").format(
            column_exists(schema, table, hidden), column_exists(schema, table, old)
        ),
    )


def create_fill_sequence(
    schema: str, table: str, column: str, sequence: str, type_: str, options: SequenceOptions
) -> Step:
    """The sequence a new identity column is filled from until contract: the identity's options, OWNED BY the
    column (so dropping the column at rollback drops it, and pg_get_serial_sequence finds it)."""
    body = sql.SQL(" {}").format(_sequence_options(options)) if options else sql.SQL("")
    return Step(
        f"create sequence {sequence} filling {table}.{column} until contract",
        sql.SQL("CREATE SEQUENCE IF NOT EXISTS {} AS {}{} OWNED BY {}").format(
            qualified(schema, sequence), sql.SQL(type_), body, sql.Identifier(schema, table, column)
        ),
        lock=NO_TABLE_LOCK,  # ACCESS SHARE on the table, for OWNED BY: blocks no application statement
        skip_if=relation_exists(schema, sequence),
    )


def identity_from_fill_sequence(
    schema: str, table: str, column: str, sequence: str, always: bool, options: SequenceOptions
) -> Step:
    """Contract: the column filled from `sequence` becomes an identity column with the declared options, its own
    sequence (named as plain DDL names it) continuing where `sequence` stood; `sequence` is dropped."""
    body = sql.SQL(
        "DECLARE nxt bigint; BEGIN LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; "
        "nxt := nextval({seq}::regclass); "
        "ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT; "
        "DROP SEQUENCE {seqi}; "
        "ALTER TABLE {table} ALTER COLUMN {col} ADD {identity}; "
        "EXECUTE format('ALTER TABLE %s ALTER COLUMN %I RESTART WITH %s', {rel}, {colname}, nxt); END"
    ).format(
        table=qualified(schema, table),
        seq=_regclass_text(schema, sequence),
        seqi=qualified(schema, sequence),
        col=sql.Identifier(column),
        identity=identity_clause(always, options),
        rel=_regclass_text(schema, table),
        colname=sql.Literal(column),
    )
    return Step(
        f"make {table}.{column} an identity column continuing {sequence} (drops it)",
        _do(body),
        lock=_exclusive(schema, table),  # a DO block: its SQL does not say
        skip_if=column_is_identity(schema, table, column),
    )


def add_identity_past_max(schema: str, table: str, column: str, always: bool, options: SequenceOptions) -> Step:
    """Contract: an existing column becomes an identity column. Under the one brief lock: its default and the
    sequence it owns (serial) go, the identity is added and restarted past max(column), read through the column's
    index (plan requires one), so no row written before the lock can collide with a value it draws."""
    body = sql.SQL(
        "DECLARE mx bigint; owned text := pg_get_serial_sequence({rel}, {colname}); BEGIN "
        "LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; "
        "ALTER TABLE {table} ALTER COLUMN {col} DROP DEFAULT; "
        "IF owned IS NOT NULL THEN EXECUTE format('DROP SEQUENCE %s', owned); END IF; "
        "ALTER TABLE {table} ALTER COLUMN {col} ADD {identity}; "
        "SELECT max({col}) INTO mx FROM {table}; "
        "IF mx >= (SELECT seqstart FROM pg_sequence "
        "WHERE seqrelid = pg_get_serial_sequence({rel}, {colname})::regclass) THEN "
        "EXECUTE format('ALTER TABLE %s ALTER COLUMN %I RESTART WITH %s', {rel}, {colname}, mx + 1); "
        "END IF; END"
    ).format(
        table=qualified(schema, table),
        col=sql.Identifier(column),
        identity=identity_clause(always, options),
        rel=_regclass_text(schema, table),
        colname=sql.Literal(column),
    )
    return Step(
        f"make {table}.{column} an identity column, restarted past max({column}) (index read under the lock)",
        _do(body),
        lock=_exclusive(schema, table),  # a DO block: its SQL does not say
        skip_if=column_is_identity(schema, table, column),
    )


def add_primary_key_using_index(schema: str, table: str, name: str, index: str) -> Step:
    """The unique index built CONCURRENTLY becomes the primary key (its columns' NOT NULL already proven: no
    scan); the index takes the constraint's name."""
    return Step(
        f"add primary key {name} on {table} using index {index} (NOT NULL proven, no scan)",
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
            qualified(schema, table), sql.Identifier(name), sql.Identifier(index)
        ),
        lock=_exclusive(schema, table),
        skip_if=constraint_exists(schema, table, name),
    )


class MovedForeignKey(NamedTuple):
    """A foreign key to a primary key being changed, rebuilt onto the unique constraint its columns keep."""

    table: str  # the referencing table (physical)
    name: str
    columns: list[str]
    ref_columns: list[str]
    options: str  # as PostgreSQL printed them (catalog.text.foreign_key_options)


def move_primary_key(
    schema: str, table: str, name: str, index: str, unique: str | None, moved: list[MovedForeignKey]
) -> Step:
    """One transaction of catalog-only changes under brief locks: the foreign keys to the old key are dropped, the
    primary key moves to `index` (built CONCURRENTLY, its NOT NULL proven), the old key's columns keep a unique
    constraint `unique` (its index built CONCURRENTLY too), and the keys are added again NOT VALID (no scan): they
    hold for every write from here, and VALIDATE (reads and writes go on) follows as its own step."""
    target = qualified(schema, table)
    statements = [
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(qualified(schema, fk.table), sql.Identifier(fk.name))
        for fk in moved
    ]
    statements.append(
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
            target, sql.Identifier(name), sql.Identifier(name), sql.Identifier(index)
        )
    )
    if unique is not None:
        statements.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}").format(
                target, sql.Identifier(unique), sql.Identifier(unique)
            )
        )
    statements += [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){} NOT VALID").format(
            qualified(schema, fk.table),
            sql.Identifier(fk.name),
            _names(fk.columns),
            target,
            _names(fk.ref_columns),
            sql.SQL(fk.options),
        )
        for fk in moved
    ]
    # in the order the statements take them: the referencing tables' keys are dropped first
    tables = tuple(dict.fromkeys([*((schema, fk.table) for fk in moved), (schema, table)]))
    step = Step(
        f"move primary key {name} of {table} to the unique index {index} (NOT NULL proven, no scan)"
        + (f"; {', '.join(fk.name for fk in moved)} moved to {unique} NOT VALID" if moved else ""),
        sql.SQL("; ").join(statements),
        lock=Lock(ACCESS_EXCLUSIVE, tables, linked=True),
        skip_if=relation_missing(schema, index),
    )
    return two_tables(step) if moved else step


# -- enum types (operations/create_enum.py, drop_enum.py, add_enum_value.py, rename_enum_value.py,
# remove_enum_value.py): catalog only, no application table locked (a column's type is found by its OID)


def _type_exists(schema: str, name: str) -> sql.Composable:
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = {} AND t.typname = {})"
    ).format(sql.Literal(schema), sql.Literal(name))


def _label_exists(schema: str, name: str, label: str) -> sql.Composable:
    return sql.SQL(
        "SELECT EXISTS (SELECT 1 FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = {} AND t.typname = {} AND e.enumlabel = {})"
    ).format(sql.Literal(schema), sql.Literal(name), sql.Literal(label))


def create_enum(schema: str, name: str, labels: list[str], why: str = "") -> Step:
    return Step(
        f"create enum type {name}{why}",
        sql.SQL("CREATE TYPE {} AS ENUM ({})").format(
            qualified(schema, name), sql.SQL(", ").join(sql.Literal(label) for label in labels)
        ),
        lock=NO_TABLE_LOCK,
        skip_if=_type_exists(schema, name),
    )


def drop_type(schema: str, name: str, why: str = "", done_once_gone: str | None = None) -> Step:
    """DROP TYPE, refused by PostgreSQL while a column still uses it (no CASCADE). Skipped once the type is gone,
    or once `done_once_gone` is (a type swap: the successor took the old type's name)."""
    return Step(
        f"drop type {name}{why}",
        sql.SQL("DROP TYPE IF EXISTS {}").format(qualified(schema, name)),
        lock=NO_TABLE_LOCK,
        skip_if=sql.SQL("SELECT NOT ({})").format(_type_exists(schema, done_once_gone or name)),
    )


def rename_type(schema: str, name: str, new: str) -> Step:
    return Step(
        f"rename type {name} to {new}",
        sql.SQL("ALTER TYPE {} RENAME TO {}").format(qualified(schema, name), sql.Identifier(new)),
        lock=NO_TABLE_LOCK,
        skip_if=sql.SQL("SELECT NOT ({})").format(_type_exists(schema, name)),
    )


def add_enum_value(schema: str, name: str, label: str, before: str | None = None, after: str | None = None) -> Step:
    """ALTER TYPE … ADD VALUE IF NOT EXISTS, outside a transaction block: committed on its own, so that no
    transaction that then writes the value is refused it ("unsafe use of new value")."""
    where = sql.SQL("")
    if before is not None:
        where = sql.SQL(" BEFORE {}").format(sql.Literal(before))
    elif after is not None:
        where = sql.SQL(" AFTER {}").format(sql.Literal(after))
    return Step(
        f"add value {label!r} to enum type {name}",
        sql.SQL("ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{}").format(
            qualified(schema, name), sql.Literal(label), where
        ),
        lock=NO_TABLE_LOCK,
        transactional=False,
        skip_if=_label_exists(schema, name, label),
    )


def rename_enum_value(schema: str, name: str, old: str, new: str) -> Step:
    return Step(
        f"rename value {old!r} of enum type {name} to {new!r}",
        sql.SQL("ALTER TYPE {} RENAME VALUE {} TO {}").format(
            qualified(schema, name), sql.Literal(old), sql.Literal(new)
        ),
        lock=NO_TABLE_LOCK,
        skip_if=sql.SQL("SELECT NOT ({})").format(_label_exists(schema, name, old)),
    )
