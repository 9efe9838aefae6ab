"""Per statement: the locks it takes and on which relations, whether it rewrites or scans under them, and
its hazards. ALTER TABLE's sub-commands are in analyze_alter.py.

Each analyser returns a list of (Effect, hazard codes). What depends on the catalog (column types, DEFAULT
partitions, the tables using a domain, foreign keys) is read from the Scope's Knowledge (the file's own
statements, and the live catalog with --dsn); where it is unknown the analyser notes what it assumed.
Facts are measured against PostgreSQL by tests/integration/test_lint_facts.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior, ObjectType, ReindexObjectType, TableLikeOption

from liveshift.sqlconvert.analyze_alter import (
    alter_cmd,
    alter_index,
    assumed_default_scan,
    constraint,
    default_of,
    default_sequences,
)
from liveshift.sqlconvert.dml import dml, select
from liveshift.sqlconvert.knowledge import Table, learn_create, normal_type, relations_read
from liveshift.sqlconvert.locks import ORDER, UNKNOWN, Effect, blocks, strongest
from liveshift.sqlconvert.plpgsql import do_statements
from liveshift.sqlconvert.scope import AE, SRE, SUE, Finding, Scope, rel
from liveshift.sqlconvert.sqltext import deparse


def _alter_table(s: Scope, node: ast.AlterTableStmt) -> list[Finding]:
    if node.objtype == ObjectType.OBJECT_INDEX:
        return alter_index(s, node)
    table = rel(node.relation)
    if node.objtype == ObjectType.OBJECT_SEQUENCE:
        return [s.on(SRE, (table,), [])]
    if node.objtype == ObjectType.OBJECT_TYPE:  # ALTER TYPE … ADD/DROP ATTRIBUTE: a composite type, no table
        return [_quiet()]
    if node.objtype == ObjectType.OBJECT_VIEW and all(c.subtype in _VIEW_OPTIONS for c in node.cmds or ()):
        # a view's options (security_barrier, security_invoker, check_option) change under ACCESS EXCLUSIVE
        return [s.on(AE, (table,), [])]
    s.only = not node.relation.inh
    try:
        return _under_one_lock([found for cmd in node.cmds or () for found in alter_cmd(s, table, cmd)])
    finally:
        s.only = False


_VIEW_OPTIONS = {AlterTableType.AT_SetRelOptions, AlterTableType.AT_ResetRelOptions}


def _under_one_lock(found: list[Finding]) -> list[Finding]:
    """One ALTER TABLE's sub-commands all run under its strongest lock: a VALIDATE next to an ADD CONSTRAINT
    scans under the ADD's ACCESS EXCLUSIVE, not its own SHARE UPDATE EXCLUSIVE (measured)."""
    held: dict[str, str] = {}
    for effect, _ in found:
        for table in effect.tables if not effect.index else ():
            held[table] = strongest([held.get(table, "none"), effect.lock])
    out = []
    for effect, codes in found:
        lock = strongest([held[t] for t in effect.tables if t in held])
        blocked = effect.existing and effect.scans and not codes and blocks(effect.lock) == "nothing"
        out.append((effect, ["constraint-missing-not-valid"] if blocked and blocks(lock) != "nothing" else codes))
    return out


def _rename(s: Scope, node: ast.RenameStmt) -> list[Finding]:
    kind = node.renameType
    if kind == ObjectType.OBJECT_INDEX:  # PostgreSQL 12+: SHARE UPDATE EXCLUSIVE on the index only
        return [s.on_index(SUE, (rel(node.relation),))]
    if kind in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN, ObjectType.OBJECT_SCHEMA):
        return [_quiet()]
    if node.relation is None:
        return [_quiet()]
    codes = {ObjectType.OBJECT_COLUMN: ["renaming-column"], ObjectType.OBJECT_TABLE: ["renaming-table"]}
    table = rel(node.relation)
    # a column's (or a constraint's) new name reaches every partition
    tables = s.with_partitions(table) if kind != ObjectType.OBJECT_TABLE and node.relation.inh else (table,)
    return [s.on(AE, tables, codes.get(kind, []))]


def _index(s: Scope, node: ast.IndexStmt) -> list[Finding]:
    table = rel(node.relation)
    name = node.idxname or f"{node.relation.relname}_idx"
    exists = node.if_not_exists and name in s.k.indexes  # IF NOT EXISTS of a known index: SHARE, then nothing
    s.k.indexes[name] = (node.relation.relname, tuple(p.name for p in node.indexParams or () if p.name))
    tables = s.with_partitions(table) if node.relation.inh else (table,)
    if exists:
        return [s.on(SUE if node.concurrent else "SHARE", tables, [])]
    if node.concurrent:
        return [s.on(SUE, tables, [], scans=True)]
    if (info := s.k.table(table)) is not None and info.matview:  # SHARE lets its readers through
        return [s.on("SHARE", tables, [], scans=True)]
    if not node.relation.inh and _partitioned(s, table):  # ON ONLY: an invalid index, partitions attached later
        return [s.on("SHARE", tables, [])]
    return [s.on("SHARE", tables, ["require-concurrent-index-creation"], scans=True)]


def _partitioned(s: Scope, table: str) -> bool:
    """Whether `table` is partitioned; unknown, a CREATE INDEX … ON ONLY is assumed to be on a partitioned
    table (on a plain one ONLY changes nothing, so nobody writes it there)."""
    info = s.k.table(table)
    if info is not None and (info.partitioned or s.k.live or info.new):
        return info.partitioned
    s.note(f"assumed {table} is partitioned (ON ONLY builds no index on it); --dsn reads it")
    return True


def _object_name(obj: Any) -> str:
    """A DropStmt's object: a name list, one name (schemas), a type name (types, domains) or a function."""
    if isinstance(obj, ast.String):
        return obj.sval
    if isinstance(obj, ast.TypeName):
        return deparse(obj)
    if isinstance(obj, ast.ObjectWithArgs):
        return ".".join(part.sval for part in obj.objname)
    if isinstance(obj, tuple | list):
        return ".".join(part.sval if isinstance(part, ast.String) else str(part) for part in obj)
    return str(obj)


def _drop_table(s: Scope, names: tuple[str, ...], cascade: bool) -> list[Finding]:
    """ACCESS EXCLUSIVE on the table, on the sequences of its serial and identity columns (dropped with it),
    and on every table its foreign keys reference (their triggers go); CASCADE reaches the tables whose foreign
    keys reference it too."""
    others = {r for name in names if (info := s.k.table(name)) for r in info.references | info.owned}
    for name in names:  # a partition: its parent, and the parent's DEFAULT partition (its bound changes)
        if (info := s.k.table(name)) is not None and info.parent:
            others.add(info.parent)
            if (parent := s.k.table(info.parent)) is not None and parent.default_partition:
                others.add(parent.default_partition)
        elif info is None and not s.k.live and (partition := _PARTITION_NAME.match(name)):
            others.add(partition.group(1))
            s.note(f"assumed {name} is a partition of {partition.group(1)} (by its name); --dsn reads it")
    if cascade:
        others |= {r for name in names for r in s.k.referencing(name) + s.k.dependents(name)}
    found = [s.on(AE, names, ["ban-drop-table"])]
    if others - set(names):
        found.append(s.on(AE, tuple(sorted(others - set(names))), []))
    return found


_RAILS_INDEX = re.compile(r"^index_(.+?)_on_")
# a partition named for its period or as pg_partman names them: events_2024, events_2024_01, events_p2024w05
_PARTITION_NAME = re.compile(r"^(.+?)_(?:p|y)?\d{4}(?:_?(?:w|m|q)?\d{1,2}){0,2}$")


def index_table(s: Scope, index: str) -> str | None:
    """The table of an index: known (the file, --schema, --dsn), or read from its name where a convention
    says it (Rails' `index_users_on_email`, PostgreSQL's `users_pkey`, a table the file names followed by `_`);
    None when nothing tells."""
    name = index.split(".")[-1]
    if name in s.k.indexes:
        return s.k.indexes[name][0]
    if s.k.live:
        return None
    rails = _RAILS_INDEX.match(name)
    # a table the file names anywhere (Prisma drops `User_email_key` before its CREATE INDEX … ON "User")
    known = sorted((t for t in set(s.k.tables) | s.k.named if name.startswith(f"{t}_")), key=len)
    table = rails.group(1) if rails else name.removesuffix("_pkey") if name.endswith("_pkey") else None
    table = table or (known[-1] if known else None) or _table_in_index_name(name)
    if table:
        s.note(f"assumed index {name} is on table {table} (by its name); --dsn reads it")
    return table


# the affixes the tools put around `<table>_<columns>`: SQLAlchemy's `ix_`/`uq_`, TypeORM's `PK_`, Django's
# hash, PostgreSQL's, Knex's and Ecto's suffixes
_INDEX_PREFIX = re.compile(r"^(?:ix|idx|uq|ux|uniq|pk)_", re.I)
_INDEX_SUFFIX = re.compile(r"(?:_[0-9a-f]{8}(?:_like|_uniq)?|_(?:idx|index|key|unique|uniq|excl))$", re.I)


def _table_in_index_name(name: str) -> str | None:
    """The table an index name most likely starts with, when no table lint knows does: tables are plural more
    often than columns, so the first words up to one ending in `s` (`order_items_order_id_idx`), else the first
    word (`User_email_key`); None for a name with no `<table>_<columns>` shape (TypeORM's `IDX_<hash>`)."""
    words = _INDEX_SUFFIX.sub("", _INDEX_PREFIX.sub("", name)).split("_")
    if len(words) < 2 or not all(words):
        return None
    end = 1 + next((i for i, w in enumerate(words[:-1]) if w.endswith("s") and not w.endswith(("ss", "us"))), 0)
    while end < len(words) - 1 and re.fullmatch(r"[pyqmw]?\d+", words[end]):  # a partition's period: events_2024
        end += 1
    return "_".join(words[:end])


def _drop_index(s: Scope, node: ast.DropStmt, names: tuple[str, ...]) -> list[Finding]:
    tables = tuple(t for n in names if (t := index_table(s, n)))
    if not tables:
        s.note("the table of the index is not known; --dsn reads it")
        tables = names
    # without CONCURRENTLY: ACCESS EXCLUSIVE on the table, but only for a catalog change (no scan): as brief
    # as any ALTER TABLE, and bounded the same way (lock_timeout)
    return [s.on(SUE if node.concurrent else AE, tables, [])]


# the relations --dsn reads (tables, views, materialized views, foreign tables) and indexes
_CATALOGUED = (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_INDEX, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW)
_CATALOGUED += (ObjectType.OBJECT_FOREIGN_TABLE,)


def _drop(s: Scope, node: ast.DropStmt) -> list[Finding]:
    names = tuple(_object_name(obj) for obj in node.objects or ())
    kind = node.removeType
    cascade = node.behavior == DropBehavior.DROP_CASCADE
    if node.missing_ok and s.k.live and kind in _CATALOGUED:  # IF EXISTS: what the catalog lacks is not there
        names = tuple(n for n in names if s.k.table(n) is not None or n.split(".")[-1] in s.k.indexes)
        if not names:
            return [_quiet()]
    if kind == ObjectType.OBJECT_INDEX:
        return _drop_index(s, node, names)
    if kind == ObjectType.OBJECT_TABLE:
        return _drop_table(s, names, cascade)
    if kind in (ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY, ObjectType.OBJECT_RULE):
        return _drop_table_object(s, node, kind)
    if kind == ObjectType.OBJECT_SCHEMA:
        return _drop_schema(s, names, cascade)
    if kind in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW, ObjectType.OBJECT_SEQUENCE):
        reached = cascade and kind == ObjectType.OBJECT_SEQUENCE
        return [s.on(AE, names, [])] + (_cascade_to_columns(s, kind, names) if reached else [])
    if cascade and kind in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
        return _cascade_to_columns(s, kind, names) or [_quiet()]
    if kind == ObjectType.OBJECT_FOREIGN_TABLE:
        return [s.on(AE, names, ["ban-drop-table"])]
    return [_quiet()]  # types, domains, functions, extensions: no table lock unless CASCADE reaches one


def _attach_object(s: Scope, table: str, name: str, mode: str, each: bool = False) -> list[Finding]:
    """CREATE TRIGGER (SHARE ROW EXCLUSIVE; a row trigger of a partitioned table is each partition's too),
    POLICY or RULE (ACCESS EXCLUSIVE) on a table; remembered, so a later DROP … IF EXISTS knows it is there."""
    s.k.table_objects.add((table.split(".")[-1], name))
    return [s.on(mode, s.with_partitions(table) if each else (table,), [])]


def _drop_table_object(s: Scope, node: ast.DropStmt, kind: ObjectType) -> list[Finding]:
    """DROP TRIGGER, POLICY or RULE: ACCESS EXCLUSIVE on its table (a trigger's partitions too). With IF EXISTS
    and the whole catalog known, one that is not there locks nothing: PostgreSQL looks it up under ACCESS SHARE
    and lets the table go (measured)."""
    pairs = [(".".join(p.sval for p in obj[:-1]), obj[-1].sval) for obj in node.objects or ()]  # (table…, name)
    if node.missing_ok and s.k.live:
        pairs = [(table, name) for table, name in pairs if (table.split(".")[-1], name) in s.k.table_objects]
    if not pairs:
        return [_quiet()]
    s.k.table_objects.difference_update((table.split(".")[-1], name) for table, name in pairs)
    tables = tuple(table for table, _ in pairs)
    if kind == ObjectType.OBJECT_TRIGGER:
        tables = tuple(t for table in tables for t in s.with_partitions(table))
    return [s.on(AE, tables, [])]


def _cascade_to_columns(s: Scope, kind: ObjectType, names: tuple[str, ...]) -> list[Finding]:
    """DROP … CASCADE of a sequence drops the defaults drawing from it, of a type or domain the columns of it:
    ACCESS EXCLUSIVE on each table holding one (measured), where lint knows the columns."""
    wanted = {n.split(".")[-1].lower() for n in names}
    if kind == ObjectType.OBJECT_SEQUENCE:
        tables = {t for t, info in s.k.tables.items() if wanted & set(info.sequences.values())}
    else:
        tables = {t for t, info in s.k.tables.items() if any(_type_key(c) in wanted for c in info.columns.values())}
        tables |= {t for name in wanted for t in s.k.domains.get(name, ())}
    return [s.on(AE, tuple(sorted(tables)), [])] if tables else []


def _type_key(written: str) -> str:
    """A column's type by its bare name (`public.mood`, `"mood"[]` and `mood` are one type's)."""
    return normal_type(written)[0].removesuffix("[]").split(".")[-1].strip('"').lower()


def _drop_schema(s: Scope, names: tuple[str, ...], cascade: bool) -> list[Finding]:
    if not cascade:
        return [_quiet()]  # RESTRICT fails on a schema with tables in it
    tables = tuple(sorted(t for name in names for t in s.k.schemas.get(name, ())))
    if not tables and not s.k.live:
        s.note("assumed the schema holds tables (each dropped under ACCESS EXCLUSIVE); --dsn lists them")
        tables = tuple(f"{name}.*" for name in names)
    if not tables:
        return [_quiet()]
    return [s.on(AE, tables, ["ban-drop-table"])]


def _create_table(s: Scope, node: ast.CreateStmt) -> list[Finding]:
    learn_create(s.k, node)
    found: list[Finding] = [(Effect(lock=AE, tables=(rel(node.relation),), existing=False, made=True), [])]
    constraints = [c for col in node.tableElts or () if isinstance(col, ast.ColumnDef) for c in col.constraints or ()]
    constraints += [c for c in node.tableElts or () if isinstance(c, ast.Constraint)]
    for c in constraints:
        if c.contype == ConstrType.CONSTR_FOREIGN:  # the referenced table, briefly: the new one is empty
            found.append(s.on(SRE, (rel(c.pktable),), []))
    if node.partbound is not None and node.inhRelations:
        found += _partition_of(s, rel(node.inhRelations[0]), node.partbound)
    elif node.inhRelations:
        found.append(s.on(SUE, tuple(rel(r) for r in node.inhRelations), []))
    for col in node.tableElts or ():  # a default drawing from an existing sequence: ACCESS SHARE on it
        if isinstance(col, ast.ColumnDef):
            found += default_sequences(s, default_of(col), evaluated=False)
    likes = [e for e in node.tableElts or () if isinstance(e, ast.TableLikeClause)]
    if likes:
        found.append(s.on("ACCESS SHARE", tuple(rel(e.relation) for e in likes), []))
    # INCLUDING DEFAULTS (or ALL) copies defaults drawing from sequences: ACCESS SHARE on each (18; 15 none)
    copied = s.k.since(18) and {
        sequence
        for e in likes
        if e.options & TableLikeOption.CREATE_TABLE_LIKE_DEFAULTS and (info := s.k.table(rel(e.relation)))
        for column, sequence in info.sequences.items()
        if column not in info.identity  # an identity's sequence is not copied (a new one is made)
    }
    if copied:
        found.append(s.on("ACCESS SHARE", tuple(sorted(copied)), []))
    return found


def _partition_of(s: Scope, parent: str, bound: ast.PartitionBoundSpec) -> list[Finding]:
    """CREATE TABLE … PARTITION OF: ACCESS EXCLUSIVE on the parent; a DEFAULT sibling is locked the same and
    scanned for rows the new partition would now hold."""
    found = [s.on(AE, (parent,), [])]
    is_default = bound.is_default
    info = s.k.table(parent)
    default = info.default_partition if info is not None and not is_default else None
    if not default and not is_default:
        found += assumed_default_scan(s, parent, bound.strategy)
    if default:
        found.append(s.on(AE, (default,), ["partition-default-scan"], scans=True))
    return found


def _reindex(s: Scope, node: ast.ReindexStmt) -> list[Finding]:
    """REINDEX takes SHARE on the table and ACCESS EXCLUSIVE on each index it rebuilds: queries planned on
    the table wait for it too. CONCURRENTLY: SHARE UPDATE EXCLUSIVE."""
    concurrent = any(p.defname == "concurrently" for p in node.params or ())
    target = rel(node.relation) if node.relation else str(node.name)
    if node.kind in (ReindexObjectType.REINDEX_OBJECT_SCHEMA, ReindexObjectType.REINDEX_OBJECT_DATABASE):
        target = f"{target}.*" if node.kind == ReindexObjectType.REINDEX_OBJECT_SCHEMA else "(every table)"
    is_index = node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX
    table = (index_table(s, target) if is_index else None) or target
    if concurrent:
        return [s.on(SUE, (table,), [], scans=True)]
    return [s.on("SHARE", (table,), ["require-concurrent-reindex"], scans=True), s.on_index(AE, (target,))]


def _vacuum(s: Scope, node: ast.VacuumStmt) -> list[Finding]:
    tables = tuple(rel(r.relation) for r in node.rels or ())
    full = node.is_vacuumcmd and any(o.defname == "full" for o in node.options or ())
    if full:
        return [s.on(AE, tables, ["table-rewrite"], rewrites=True)]
    return [s.on(SUE, tables, [], scans=True)]


def _truncate(s: Scope, node: ast.TruncateStmt) -> list[Finding]:
    """ACCESS EXCLUSIVE, and new (empty) files for each table: a new relfilenode, as a rewrite has (measured)."""
    tables = tuple(rel(r) for r in node.relations)
    codes = ["ban-truncate-cascade"] if node.behavior == DropBehavior.DROP_CASCADE else []
    if codes:
        tables += tuple(r for t in tables for r in s.k.referencing(t) if r not in tables)
    return [s.on(AE, tables, ["truncate-table", *codes], rewrites=True)]


def _refresh(s: Scope, node: ast.RefreshMatViewStmt) -> list[Finding]:
    """ACCESS EXCLUSIVE on the view (EXCLUSIVE CONCURRENTLY) while its query reads its sources."""
    table = (rel(node.relation),)
    # WITH NO DATA empties the view without running its query
    view = node.relation.relname
    sources = () if node.skipData else tuple(sorted(s.k.reads.get(view, ())))
    if not node.skipData and not sources and not s.k.live and view not in s.k.reads:
        s.note(f"assumed the query of {view} reads tables; --dsn or --schema lists them")
        sources = (f"(tables {view} reads)",)
    found = [s.on("ACCESS SHARE", sources, [])] if sources else []
    if node.concurrent:
        return [s.on("EXCLUSIVE", table, [], scans=True), *found]
    return [s.on(AE, table, ["refresh-materialized-view"], rewrites=True), *found]


def _do(s: Scope, node: ast.DoStmt) -> list[Finding]:
    """A DO block's statements, each as if it ran (every branch: a migration's conditional DDL is there to run)."""
    inner, built = do_statements(node)
    if inner:
        s.note("read the DO block's statements as if every branch runs")
    if built:
        s.note("read a statement EXECUTE builds with its run-time names and values unknown")
    return [found for stmt in inner for found in analyse(stmt, s)] or [_quiet()]


def _create_seq(s: Scope, node: ast.CreateSeqStmt) -> list[Finding]:
    """OWNED BY takes ACCESS SHARE on the owning table (measured). The new sequence is nobody's traffic yet (a
    default drawing from it later locks it, harmlessly)."""
    if s.k.table(node.sequence.relname) is None:
        s.k.tables[node.sequence.relname] = Table(new=True)
    for opt in node.options or ():
        if opt.defname == "owned_by" and len(opt.arg) > 1:
            return [s.on("ACCESS SHARE", (".".join(p.sval for p in opt.arg[:-1]),), [])]
    return [_quiet()]


def _alter_domain(s: Scope, node: ast.AlterDomainStmt) -> list[Finding]:
    """ADD CONSTRAINT (validated), VALIDATE CONSTRAINT and SET NOT NULL check every column of the domain:
    SHARE on each table using it, and a scan of each. The rest change the catalog only."""
    domain = node.typeName[-1].sval
    if node.subtype in ("C", "O"):  # ADD CONSTRAINT, SET NOT NULL: a new column of it now rewrites
        s.k.constrained.add(domain)
    checks = node.subtype == "V" or node.subtype == "O" or (node.subtype == "C" and not node.def_.skip_validation)
    if not checks:
        return [_quiet()]
    tables = tuple(sorted({leaf for t in s.k.domains.get(domain, ()) for leaf in s.k.holding(t)}))
    if not tables and not s.k.live and domain not in s.k.domains:
        s.note(f"assumed tables use domain {domain}; --dsn lists them")
        tables = (f"(tables using {domain})",)
    return [s.on("SHARE", tables, ["ban-alter-domain-with-add-constraint"], scans=True)] if tables else [_quiet()]


def _create_domain(s: Scope, node: ast.CreateDomainStmt) -> list[Finding]:
    s.k.domains.setdefault(node.domainname[-1].sval, set())
    if node.constraints:
        s.k.constrained.add(node.domainname[-1].sval)
    return [_quiet()]


def _grant(s: Scope, node: ast.GrantStmt) -> list[Finding]:
    named = node.targtype == 0  # ACL_TARGET_OBJECT: named relations, not ALL TABLES IN SCHEMA
    # ACCESS SHARE on each relation on 18 (measured); 15 takes none (measured; 16 and 17 are not)
    if node.objtype in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_SEQUENCE) and named and s.k.since(18):
        return [s.on("ACCESS SHARE", tuple(rel(o) for o in node.objects or ()), [])]
    return [_quiet()]


def _comment(s: Scope, node: ast.CommentStmt) -> list[Finding]:
    if node.objtype in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
        return [s.on(SUE, (_object_name(node.object),), [])]
    if node.objtype == ObjectType.OBJECT_COLUMN:
        return [s.on(SUE, (".".join(p.sval for p in node.object[:-1]),), [])]
    if node.objtype == ObjectType.OBJECT_TABCONSTRAINT:  # (schema, table, constraint): its table is read
        return [s.on("ACCESS SHARE", (".".join(p.sval for p in node.object[:-1]),), [])]
    return [_quiet()]


def _reads(s: Scope, view: str, query: Any) -> list[Finding]:
    """A view's (or CREATE TABLE AS's) query: ACCESS SHARE on each relation it reads."""
    sources = relations_read(query)
    s.k.reads[view] = sources
    return [s.on("ACCESS SHARE", tuple(sorted(sources)), [])] if sources else []


def _view(s: Scope, node: ast.ViewStmt) -> list[Finding]:
    """CREATE OR REPLACE VIEW: ACCESS EXCLUSIVE on an existing view (readers wait briefly)."""
    name = node.view.relname
    exists = s.k.table(name) is not None or (node.replace and not s.k.live)
    found = [s.on(AE, (rel(node.view),), [])] if node.replace and exists else []
    s.k.tables.setdefault(name, Table())
    return found + _reads(s, name, node.query) or [_quiet()]


def _create_as(s: Scope, node: ast.CreateTableAsStmt) -> list[Finding]:
    name = node.into.rel.relname
    info = s.k.tables.setdefault(name, Table())
    info.new, info.matview = True, node.objtype == ObjectType.OBJECT_MATVIEW
    return _reads(s, name, node.query) or [_quiet()]


def _alter_seq(s: Scope, node: ast.AlterSeqStmt) -> list[Finding]:
    """SHARE ROW EXCLUSIVE on the sequence (nextval waits briefly); OWNED BY also ACCESS SHARE on its table."""
    found = [s.on(SRE, (rel(node.sequence),), [])]
    for opt in node.options or ():
        if opt.defname == "owned_by" and len(opt.arg) > 1:
            found.append(s.on("ACCESS SHARE", (".".join(p.sval for p in opt.arg[:-1]),), []))
    return found


def _publication(s: Scope, node: ast.CreatePublicationStmt | ast.AlterPublicationStmt) -> list[Finding]:
    """A publication's named tables: SHARE UPDATE EXCLUSIVE on each (FOR ALL TABLES and schemas lock none)."""
    tables = tuple(rel(o.pubtable.relation) for o in node.pubobjects or () if getattr(o, "pubtable", None) is not None)
    return [s.on(SUE, tables, [])] if tables else [_quiet()]


def _copy(s: Scope, node: ast.CopyStmt) -> list[Finding]:
    """COPY … FROM writes its table (ROW EXCLUSIVE); COPY … TO reads it, or its query, whole (measured)."""
    if node.query is not None:
        return select(s, node.query) or [_quiet()]
    if node.is_from:
        return [s.on("ROW EXCLUSIVE", (rel(node.relation),), [])]
    return [s.on("ACCESS SHARE", (rel(node.relation),), [], scans=True)]


def _quiet() -> Finding:
    return Effect(lock="none", existing=False), []


ANALYSERS: dict[type, Callable[[Scope, Any], list[Finding]]] = {
    ast.AlterTableStmt: _alter_table,
    ast.RenameStmt: _rename,
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.CreateStmt: _create_table,
    ast.ReindexStmt: _reindex,
    ast.VacuumStmt: _vacuum,
    ast.ClusterStmt: lambda s, n: [
        s.on(AE, (rel(n.relation),) if n.relation else ("(every clustered table)",), ["table-rewrite"], rewrites=True)
    ],
    ast.CopyStmt: _copy,
    ast.TruncateStmt: _truncate,
    ast.RefreshMatViewStmt: _refresh,
    ast.LockStmt: lambda s, n: [s.on(ORDER[n.mode], tuple(rel(r) for r in n.relations), [])],
    ast.DropdbStmt: lambda s, n: [(Effect(lock="none", existing=False), ["ban-drop-database"])],
    ast.UpdateStmt: dml,
    ast.DeleteStmt: dml,
    ast.InsertStmt: dml,
    ast.MergeStmt: dml,
    ast.CreateStatsStmt: lambda s, n: [
        s.on(SUE, tuple(rel(r) for r in n.relations if isinstance(r, ast.RangeVar)), [])
    ],
    ast.CreatePublicationStmt: _publication,
    ast.AlterPublicationStmt: _publication,
    ast.AlterDomainStmt: _alter_domain,
    ast.CreateDomainStmt: _create_domain,
    ast.GrantStmt: _grant,
    ast.CommentStmt: _comment,
    ast.ViewStmt: _view,
    ast.AlterSeqStmt: _alter_seq,
    ast.CreateSeqStmt: _create_seq,
    ast.DoStmt: _do,
    ast.SelectStmt: lambda s, n: select(s, n) or [_quiet()],
    ast.CreateTableAsStmt: _create_as,
    ast.CreatePolicyStmt: lambda s, n: _attach_object(s, rel(n.table), n.policy_name, AE),
    ast.AlterPolicyStmt: lambda s, n: [s.on(AE, (rel(n.table),), [])],
    ast.CreateTrigStmt: lambda s, n: _attach_object(s, rel(n.relation), n.trigname, SRE, each=n.row),
    ast.RuleStmt: lambda s, n: _attach_object(s, rel(n.relation), n.rulename, AE),
    ast.AlterOwnerStmt: lambda s, n: [_quiet()],
    ast.AlterObjectSchemaStmt: lambda s, n: [s.on(AE, (rel(n.relation),), [])] if n.relation else [_quiet()],
}

# statements that take no lock on an existing relation: session settings, transactions, reads, and objects
# that are not tables (types, enums, functions, schemas, extensions, sequences, roles)
QUIET = (ast.VariableSetStmt, ast.TransactionStmt, ast.CreateFunctionStmt)
QUIET += (ast.CreateSchemaStmt, ast.CreateEnumStmt, ast.AlterEnumStmt, ast.CompositeTypeStmt)
QUIET += (ast.CreateExtensionStmt, ast.AlterExtensionStmt, ast.DefineStmt, ast.CreateRoleStmt, ast.AlterRoleStmt)
QUIET += (ast.GrantRoleStmt, ast.NotifyStmt, ast.CreateRangeStmt, ast.AlterFunctionStmt)
QUIET += (ast.AlterTypeStmt, ast.AlterDefaultPrivilegesStmt, ast.VariableShowStmt, ast.AlterStatsStmt)
# …and objects outside the schema's tables, session and cursor commands: no relation lock (new foreign tables
# are nobody's traffic yet)
QUIET += (ast.CreateForeignServerStmt, ast.CreateUserMappingStmt, ast.CreateEventTrigStmt, ast.CreateCastStmt)
QUIET += (ast.CreateConversionStmt, ast.CreateAmStmt, ast.CreateTransformStmt, ast.CreateTableSpaceStmt)
QUIET += (ast.ReassignOwnedStmt, ast.DropOwnedStmt, ast.DropRoleStmt, ast.CreateSubscriptionStmt)
QUIET += (ast.AlterSubscriptionStmt, ast.DropSubscriptionStmt, ast.CheckPointStmt, ast.DiscardStmt)
QUIET += (ast.ListenStmt, ast.UnlistenStmt, ast.PrepareStmt, ast.DeallocateStmt, ast.DeclareCursorStmt)
QUIET += (ast.FetchStmt, ast.ClosePortalStmt, ast.CreateForeignTableStmt, ast.ImportForeignSchemaStmt)
# …Django's SET CONSTRAINTS … IMMEDIATE (the deferred checks it fires lock rows, not tables), settings of a database
# or role, text search configurations
QUIET += (ast.ConstraintsSetStmt, ast.AlterDatabaseSetStmt, ast.AlterRoleSetStmt, ast.AlterTSConfigurationStmt)
QUIET += (ast.AlterTSDictionaryStmt,)


def analyse(node: Any, scope: Scope | None = None) -> list[Finding]:
    s = scope if scope is not None else Scope()
    analyser = ANALYSERS.get(type(node))
    if analyser is not None:
        return analyser(s, node)
    if isinstance(node, QUIET):
        return [_quiet()]
    return [(Effect(lock=UNKNOWN, existing=False), [])]


__all__ = ["analyse", "constraint"]
