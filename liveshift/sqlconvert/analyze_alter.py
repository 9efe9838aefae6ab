"""ALTER TABLE's sub-commands: the lock each takes (PostgreSQL's AlterTableGetLockLevel), on which relations
(a foreign key's other table, a partition and its DEFAULT sibling), and whether it rewrites or scans.

Facts measured against PostgreSQL 18 by tests/integration/test_lint_facts.py; version differences are noted
where they apply (13 to 18).
"""

from __future__ import annotations

import re
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, DropBehavior, PartitionStrategy

from liveshift.sqlconvert.knowledge import (
    binary_coercible,
    bound_of,
    coercible_guess,
    constants,
    learn_column,
    learn_constraint,
    learn_validated,
    may_be_constrained_domain,
    normal_type,
    sequences_called,
    serial_sequence,
)
from liveshift.sqlconvert.scope import AE, SRE, SUE, Finding, Scope, rel
from liveshift.sqlconvert.sqltext import deparse, is_volatile, type_name

SERIALS = {"smallserial", "serial", "serial2", "serial4", "bigserial", "serial8"}


def default_of(col: ast.ColumnDef) -> Any:
    for c in col.constraints or ():
        if c.contype == ConstrType.CONSTR_DEFAULT:
            return c.raw_expr
    return col.raw_default


def fills_per_row(col: ast.ColumnDef) -> bool:
    """serial, identity, stored generated or a volatile default: every existing row needs its own value
    (PostgreSQL 18's VIRTUAL generated columns store nothing)."""
    if type_name(col.typeName).lower() in SERIALS:
        return True
    for c in col.constraints or ():
        if c.contype == ConstrType.CONSTR_IDENTITY:
            return True
        if c.contype == ConstrType.CONSTR_GENERATED and c.generated_kind != "v":
            return True
    default = default_of(col)
    return default is not None and is_volatile(default)


def default_sequences(s: Scope, default: Any, evaluated: bool) -> list[Finding]:
    """A default drawing from a sequence (`nextval('order_ref_seq')`): ACCESS SHARE on it as the default is
    recorded (PostgreSQL 18; 15 takes none), ROW EXCLUSIVE where the default is `evaluated` for the table's rows
    (a new column's rewrite, on both)."""
    names = tuple(sorted(sequences_called(default))) if default is not None else ()
    if not evaluated and not s.k.since(18):
        return []
    return [s.on("ROW EXCLUSIVE" if evaluated else "ACCESS SHARE", names, [])] if names else []


def _checks_domain(s: Scope, col: ast.ColumnDef) -> bool:
    """A column of a domain with constraints: PostgreSQL checks every existing row's value (NULL or the
    default) against them by rewriting the table (measured on 18)."""
    written = deparse(col.typeName)
    constrained = may_be_constrained_domain(s.k, written)
    if constrained is None:
        s.note(f"assumed type {written} is not a domain with constraints (that rewrites); --dsn reads it")
    return bool(constrained)


def _add_column(s: Scope, table: str, col: ast.ColumnDef) -> list[Finding]:
    kinds = {c.contype for c in col.constraints or ()}
    per_row = fills_per_row(col) or _checks_domain(s, col)
    codes: list[str] = ["adding-field-with-default"] if per_row else []
    not_null = col.is_not_null or ConstrType.CONSTR_NOTNULL in kinds or ConstrType.CONSTR_PRIMARY in kinds
    if not_null and default_of(col) is None and not per_row:
        codes.append("adding-required-field")
    found = [s.on(AE, s.with_partitions(table), codes, rewrites=per_row)]
    found += default_sequences(s, default_of(col), evaluated=not s.k.is_new(table))
    for c in col.constraints or ():
        # a new column without a default holds only NULLs: PostgreSQL checks its foreign key without a scan (measured)
        if c.contype == ConstrType.CONSTR_FOREIGN and default_of(col) is None and not per_row:
            learn_constraint(s.k, table.split(".")[-1], c, col.colname)
            found.append(s.on(SRE, (table, rel(c.pktable)), [], scans=False))
            continue
        found += constraint(s, table, c, inline=True)
    learn_column(s.k, table.split(".")[-1], col)
    return found


def _primary_scan(s: Scope, table: str, c: ast.Constraint) -> bool:
    """ADD PRIMARY KEY USING INDEX sets its columns NOT NULL: a scan under ACCESS EXCLUSIVE unless they are."""
    index = s.k.indexes.get(c.indexname)
    info = s.k.table(table)
    if index is not None and info is not None and (s.k.live or set(index[1]) <= set(info.columns)):
        return not set(index[1]) <= info.not_null
    if index is not None and index[1] == ("id",):  # the conventional serial or identity key
        s.note(f"assumed {table}.id is NOT NULL (a serial or identity key: no scan); --dsn reads it")
        return False
    s.note(f"assumed the columns of index {c.indexname} are nullable (a NOT NULL scan); --dsn reads them")
    return True


def constraint(s: Scope, table: str, c: ast.Constraint, inline: bool = False) -> list[Finding]:
    validated = not c.skip_validation
    kind = c.contype
    learn_constraint(s.k, table.split(".")[-1], c)
    if kind == ConstrType.CONSTR_CHECK:  # checked on every partition
        codes = ["constraint-missing-not-valid"] if validated else []
        return [s.on(AE, s.with_partitions(table), codes, scans=validated)]
    if kind == ConstrType.CONSTR_FOREIGN:
        codes = ["adding-foreign-key-constraint"] if validated else []
        if validated and not inline:
            codes.append("constraint-missing-not-valid")
        # the validation scans the referencing table (a new one is empty: nothing to wait for) and probes the
        # referenced one by its key
        return [s.on(SRE, s.with_partitions(table), codes, scans=validated), s.on(SRE, (rel(c.pktable),), [])]
    if kind in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY):
        if c.indexname is not None:  # USING INDEX: catalog only, unless a PRIMARY KEY must set NOT NULL
            scans = kind == ConstrType.CONSTR_PRIMARY and _primary_scan(s, table, c)
            return [s.on(AE, (table,), ["adding-not-nullable-field"] if scans else [], scans=scans)]
        code = "disallowed-unique-constraint" if kind == ConstrType.CONSTR_UNIQUE else "adding-serial-primary-key-field"
        # each partition builds its index: under ACCESS EXCLUSIVE on 18, SHARE on 15
        parts = s.with_partitions(table)[1:]
        if s.k.since(18) or not parts:
            return [s.on(AE, (table, *parts), [code], scans=True)]
        return [s.on(AE, (table,), [code], scans=True), s.on("SHARE", parts, [], scans=True)]
    if kind == ConstrType.CONSTR_EXCLUSION:
        return [s.on(AE, (table,), ["adding-exclusion-constraint"], scans=True)]
    if kind == ConstrType.CONSTR_NOTNULL and not inline:  # PostgreSQL 18: ADD CONSTRAINT … NOT NULL col [NOT VALID]
        return [s.on(AE, (table,), ["adding-not-nullable-field"] if validated else [], scans=validated)]
    return []


def _type_change(s: Scope, table: str, cmd: ast.AlterTableCmd) -> list[Finding]:
    new = deparse(cmd.def_.typeName)
    old = s.k.column_type(table, cmd.name)
    using = cmd.def_.raw_default is not None and not _plain_using(cmd.def_.raw_default, cmd.name, new)
    if using:
        rewrites = True
    elif old is not None:
        rewrites = not binary_coercible(old, new, s.k.utc)
        if s.k.utc is None and (normal_type(old)[0], normal_type(new)[0]) == ("timestamp", "timestamptz"):
            s.note(
                "assumed the server's TimeZone is UTC (timestamp to timestamptz in the catalog only); --dsn reads it"
            )
    else:
        coercible, what = coercible_guess(new, cast=cmd.def_.raw_default is not None)
        rewrites = not coercible
        s.note(f"assumed column {cmd.name} is {what}; --dsn reads its type")
    info = s.k.table(table)
    if info is not None:
        info.columns[cmd.name] = new
    rebuilds = not rewrites and _rebuilds_indexes(s, table, cmd)
    codes = ["changing-column-type"] if rewrites or rebuilds else []
    found = [s.on(AE, s.with_partitions(table), codes, rewrites=rewrites, scans=rebuilds)]
    return found + _type_change_dependents(s, table, cmd.name)


def _rebuilds_indexes(s: Scope, table: str, cmd: ast.AlterTableCmd) -> bool:
    """A new collation (`TYPE text COLLATE "C"`) rebuilds the column's indexes under ACCESS EXCLUSIVE, even where
    its values stay as they are (measured); a binary coercible change alone keeps them."""
    collation = cmd.def_.collClause
    if collation is None or [n.sval for n in collation.collname] == ["default"]:
        return False
    key = table.split(".")[-1]
    indexed = any(t == key and cmd.name in columns for t, columns in s.k.indexes.values())
    if not indexed and not s.k.live:
        s.note(f"assumed column {cmd.name} has no index (a new collation rebuilds it); --dsn reads the indexes")
    return indexed


def _plain_using(expr: Any, column: str, new: str) -> bool:
    """A USING that is the column itself, or the column cast to the new type (Knex writes `USING
    ("label"::varchar(60))`): PostgreSQL coerces it exactly as without USING (a rewrite only if that does)."""
    if isinstance(expr, ast.TypeCast):
        if normal_type(deparse(expr.typeName)) != normal_type(new):
            return False
        expr = expr.arg
    return isinstance(expr, ast.ColumnRef) and getattr(expr.fields[-1], "sval", None) == column


def _type_change_dependents(s: Scope, table: str, column: str) -> list[Finding]:
    """A column a foreign key links (referencing or referenced) gets the key rebuilt: ACCESS EXCLUSIVE on the
    table at its other end (measured); its default's sequence is read again (ACCESS SHARE)."""
    referencing = tuple(s.k.linked_by_key(table, column))
    info = s.k.table(table)
    sequence = info.sequences.get(column) if info is not None else None
    found = [s.on(AE, referencing, [])] if referencing else []
    return found + ([s.on("ACCESS SHARE", (sequence,), [])] if sequence and s.k.since(18) else [])


def _set_not_null(s: Scope, table: str, column: str) -> list[Finding]:
    info = s.k.table(table)
    if info is not None and column in info.not_null:  # already NOT NULL, or a validated CHECK proves it
        return [s.on(AE, (table,), [])]
    if info is not None:
        info.not_null.add(column)
    return [s.on(AE, s.with_partitions(table), ["adding-not-nullable-field"], scans=True)]


def _attach_partition(s: Scope, parent: str, cmd: ast.AlterTableCmd) -> list[Finding]:
    """SHARE UPDATE EXCLUSIVE on the parent (PostgreSQL 12+), ACCESS EXCLUSIVE on the partition, scanned
    unless a validated CHECK implies its bound, and scanned to build each of the parent's indexes it lacks;
    a DEFAULT partition is locked ACCESS EXCLUSIVE and scanned too."""
    part = rel(cmd.def_.name)
    scans = not _bound_proven(s, part, cmd.def_.bound) or _builds_indexes(s, parent, part)
    found = [s.on(SUE, (parent,), []), s.on(AE, (part,), ["attach-partition-scan"] if scans else [], scans=scans)]
    default = _default_partition(s, parent)
    if default:
        found.append(s.on(AE, (default,), ["partition-default-scan"], scans=True))
    elif not cmd.def_.bound.is_default:  # attaching the DEFAULT partition: the parent has no other
        found += assumed_default_scan(s, parent, cmd.def_.bound.strategy)
    info = s.k.table(part)
    if info is not None:
        info.parent, info.bound = parent, bound_of(cmd.def_.bound)
    return found


def _bound_proven(s: Scope, part: str, bound: ast.PartitionBoundSpec) -> bool:
    """Whether a validated CHECK of the partition implies its bound, as PostgreSQL proves it before skipping the
    scan: read as a CHECK naming every constant of the bound (`at >= '2027-01-01' AND at < '2028-01-01'` for
    FROM ('2027-01-01') TO ('2028-01-01'); `channel IN ('sms')` for IN ('sms'))."""
    info = s.k.table(part)
    wanted = constants(bound)
    if info is None or not wanted:
        return False
    proven = any(wanted <= values for values in info.checks.values())
    if proven:
        s.note(f"read a validated CHECK of {part} naming its bound's values as implying the bound (no scan)")
    return proven


def _builds_indexes(s: Scope, parent: str, part: str) -> bool:
    """Whether ATTACH builds one of the parent's indexes on the partition (a scan under ACCESS EXCLUSIVE): the
    parent has an index on columns no index of the partition has. Unknown indexes (no catalog) are assumed to
    match: a migration that proves the bound first builds the partition's indexes first too."""
    own = {columns for table, columns in s.k.indexes.values() if table == part.split(".")[-1]}
    return any(t == parent.split(".")[-1] and cols not in own for t, cols in s.k.indexes.values())


def unknown_default(s: Scope, parent: str) -> bool:
    """Whether lint cannot tell if `parent` has a DEFAULT partition (no catalog, and the file did not say)."""
    info = s.k.table(parent)
    return info is None or (not s.k.live and info.default_partition is None and not info.new)


def assumed_default_scan(s: Scope, parent: str, strategy: str) -> list[Finding]:
    """Where lint cannot tell whether `parent` has a DEFAULT partition, the partitioning decides (`strategy` of
    the new partition's bound): a hash-partitioned table cannot have one; a list-partitioned one is assumed to
    (a catch-all for the values not listed: locked and scanned, its name unknown); a range-partitioned one is
    assumed not to (ranges of time are created ahead, and a DEFAULT would make every one of them a scan)."""
    if strategy == PartitionStrategy.PARTITION_STRATEGY_HASH or not unknown_default(s, parent):
        return []
    if strategy == PartitionStrategy.PARTITION_STRATEGY_RANGE:
        s.note(f"assumed {parent} has no DEFAULT partition (range partitions rarely do); --dsn reads it")
        return []
    default = f"{parent}_default"  # its name as pg_partman and most schemas give it
    s.note(f"assumed {parent} has a DEFAULT partition, {default} (locked ACCESS EXCLUSIVE and scanned); --dsn reads it")
    return [s.on(AE, (default,), ["partition-default-scan"], scans=True)]


def _default_partition(s: Scope, parent: str) -> str | None:
    info = s.k.table(parent)
    return None if info is None else info.default_partition


def _detach_partition(s: Scope, parent: str, cmd: ast.AlterTableCmd) -> list[Finding]:
    part = rel(cmd.def_.name)
    mode = SUE if cmd.def_.concurrent else AE
    default = _default_partition(s, parent)
    if (info := s.k.table(part)) is not None:  # no longer reached through the parent by later statements
        info.parent, info.bound = None, None
    if unknown_default(s, parent) and not cmd.def_.concurrent:
        s.note(f"a DEFAULT partition of {parent}, if any, is locked ACCESS EXCLUSIVE too (not named); --dsn reads it")
    return [s.on(mode, (parent, part) + ((default,) if default and not cmd.def_.concurrent else ()), [])]


def _drop_constraint(s: Scope, table: str, name: str, cascade: bool = False) -> list[Finding]:
    """Dropping a foreign key also drops its triggers on the referenced table: ACCESS EXCLUSIVE there too.
    CASCADE is written for a key other tables' foreign keys use (a primary key being replaced): those keys go
    with it, ACCESS EXCLUSIVE on each referencing table (known from the file, --schema or --dsn)."""
    info = s.k.table(table)
    if info is not None:
        info.checks.pop(name, None)
    referenced = _referenced_by(s, table, name)
    others = ((referenced,) if referenced else ()) + (tuple(s.k.referencing(table)) if cascade else ())
    return [s.on(AE, (*s.with_partitions(table), *others), ["ban-drop-constraint"])]


def _referenced_by(s: Scope, table: str, name: str) -> str | None:
    """The table a foreign key constraint references (its triggers there go with it, or fire on VALIDATE): known,
    or read from its name: Django's (`…_fk_organizations_id`), PostgreSQL's default (`posts_user_id_fkey`: the
    column's stem made plural, as tables are named) or a hand-written `…_order_fk`; None for any other."""
    info = s.k.table(table)
    if info is not None and name in info.foreign_keys:
        return info.foreign_keys[name]
    if s.k.live:
        return None
    if django := _DJANGO_FOREIGN_KEY.search(name):
        s.note(f"assumed {name} is a foreign key referencing {django.group(1)} (Django's name for it); --dsn reads it")
        return django.group(1)
    key = table.split(".")[-1]
    named = _NAMED_FOREIGN_KEY.match(name.removeprefix(f"{key}_")) if name.startswith(f"{key}_") else None
    if named is None:
        return None
    stem = named.group(1)
    known = [t for t in (stem, plural(stem)) if t in s.k.tables or t in s.k.named]
    referenced = known[0] if known else plural(stem)
    s.note(f"assumed {name} is a foreign key referencing {referenced} (by its name); --dsn reads it")
    return referenced


# PostgreSQL names a foreign key `<table>_<column>_fkey`; by hand, `<table>_<column>_fk`
_NAMED_FOREIGN_KEY = re.compile(r"^([a-z][a-z0-9_]*?)(?:_id)?_fk(?:ey)?$")


def plural(word: str) -> str:
    """A table's name for rows of `word`, as Rails and most schemas make it: `user` -> `users`, `category` ->
    `categories`, `address` -> `addresses`."""
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + ("es" if re.search(r"(s|x|z|ch|sh)$", word) else "s")


# Django names a foreign key `<table>_<column>_<hash>_fk_<referenced table>_<referenced column>`
_DJANGO_FOREIGN_KEY = re.compile(r"_[0-9a-f]{8}_fk_(.+)_id$")


_REWRITES = {AT.AT_SetTableSpace, AT.AT_SetLogged, AT.AT_SetUnLogged, AT.AT_SetAccessMethod}
_SHARE_UPDATE = {AT.AT_SetStatistics, AT.AT_SetRelOptions, AT.AT_ResetRelOptions, AT.AT_ClusterOn}
_SHARE_UPDATE |= {AT.AT_DropCluster, AT.AT_SetOptions, AT.AT_ResetOptions}
_TRIGGERS = {AT.AT_EnableTrig, AT.AT_EnableAlwaysTrig, AT.AT_EnableReplicaTrig, AT.AT_DisableTrig}
_TRIGGERS |= {AT.AT_EnableTrigAll, AT.AT_DisableTrigAll, AT.AT_EnableTrigUser, AT.AT_DisableTrigUser}


def _validate(s: Scope, table: str, name: str) -> list[Finding]:
    """VALIDATE: SHARE UPDATE EXCLUSIVE and a scan; a foreign key's referenced table ROW SHARE."""
    learn_validated(s.k, name)
    referenced = _referenced_by(s, table, name)
    others = (referenced,) if referenced else ()
    found = [s.on(SUE, (table,), [], scans=True)]
    if others:
        found.append(s.on("ROW SHARE", others, []))
    return found


def _simple(s: Scope, table: str, cmd: ast.AlterTableCmd) -> list[Finding] | None:
    sub = cmd.subtype
    if sub in _TRIGGERS:
        return [s.on(SRE, s.with_partitions(table), [])]
    if sub in _REWRITES:
        return [s.on(AE, (table,), ["table-rewrite"], rewrites=True)]
    if sub in _SHARE_UPDATE:  # a column's statistics and options reach every partition, a table's options one
        return [s.on(SUE, s.with_partitions(table) if cmd.name else (table,), [])]
    if sub == AT.AT_ColumnDefault:
        found = [s.on(AE, s.with_partitions(table), [] if cmd.def_ is not None else ["ban-drop-default"])]
        return found + default_sequences(s, cmd.def_, evaluated=False)
    if sub == AT.AT_DropColumn:
        return [s.on(AE, s.with_partitions(table), ["ban-drop-column"]), *_owned_sequence(s, table, cmd.name)]
    if sub == AT.AT_DropIdentity:
        return [s.on(AE, (table,), []), *_owned_sequence(s, table, cmd.name)]
    if sub == AT.AT_SetIdentity:  # SET GENERATED, RESTART, SET INCREMENT…: its sequence is altered (measured)
        return [s.on(AE, (table,), []), s.on(SRE, (_identity_sequence(s, table, cmd.name),), [])]
    if sub == AT.AT_SetStorage:
        return [s.on(AE, s.with_partitions(table), [])]
    if sub == AT.AT_SetExpression:  # PostgreSQL 17+: recomputes a stored generated column
        return [s.on(AE, (table,), ["table-rewrite"], rewrites=True)]
    return None


def _owned_sequence(s: Scope, table: str, column: str) -> list[Finding]:
    """A serial or identity column's own sequence, dropped with the column (or its identity): ACCESS EXCLUSIVE."""
    info = s.k.table(table)
    sequence = info.sequences.get(column) if info is not None else None
    return [s.on(AE, (sequence,), [])] if sequence and sequence in info.owned else []


def _identity_sequence(s: Scope, table: str, column: str) -> str:
    """An identity column's sequence: known, or PostgreSQL's name for it, `<table>_<column>_seq`."""
    info = s.k.table(table)
    known = info.sequences.get(column) if info is not None else None
    return known or serial_sequence(table, column)


def alter_cmd(s: Scope, table: str, cmd: ast.AlterTableCmd) -> list[Finding]:
    sub = cmd.subtype
    simple = _simple(s, table, cmd)
    if simple is not None:
        return simple
    if sub == AT.AT_AddColumn:
        return _add_column(s, table, cmd.def_)
    if sub == AT.AT_AddConstraint:
        return constraint(s, table, cmd.def_)
    if sub == AT.AT_AlterColumnType:
        return _type_change(s, table, cmd)
    if sub == AT.AT_SetNotNull:
        return _set_not_null(s, table, cmd.name)
    if sub == AT.AT_ValidateConstraint:
        return _validate(s, table, cmd.name)
    if sub == AT.AT_DropConstraint:
        return _drop_constraint(s, table, cmd.name, cmd.behavior == DropBehavior.DROP_CASCADE)
    if sub == AT.AT_AttachPartition:
        return _attach_partition(s, table, cmd)
    if sub == AT.AT_DetachPartition:
        return _detach_partition(s, table, cmd)
    if sub == AT.AT_DropNotNull:  # a later SET NOT NULL scans again (Knex drops and sets it around a type change)
        if (info := s.k.table(table)) is not None:
            info.not_null.discard(cmd.name)
        return [s.on(AE, s.with_partitions(table), [])]
    if sub == AT.AT_DetachPartitionFinalize:
        return [s.on(SUE, (table,), [])]
    return [s.on(AE, (table,), [])]  # every other form: ACCESS EXCLUSIVE, catalog only (DROP NOT NULL, …)


def alter_index(s: Scope, node: ast.AlterTableStmt) -> list[Finding]:
    """ALTER INDEX: ATTACH PARTITION takes ACCESS SHARE on both tables (ACCESS EXCLUSIVE on the child index
    only); SET (…) and RENAME take SHARE UPDATE EXCLUSIVE on the index alone; SET TABLESPACE rebuilds it."""
    index = rel(node.relation)
    found: list[Finding] = []
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_AttachPartition:
            child = rel(cmd.def_.name)
            tables = tuple(s.k.indexes[i][0] for i in (index, child) if i in s.k.indexes)
            found.append(s.on("ACCESS SHARE", tables, []))
            found.append(s.on_index(AE, (child,)))
        elif cmd.subtype == AT.AT_SetTableSpace:
            found.append(s.on_index(AE, (index,), ["table-rewrite"]))
        else:
            found.append(s.on_index(SUE, (index,)))
    return found
