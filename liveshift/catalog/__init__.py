"""Reads the live schema into plain pydantic values, and models the logical shape during a migration.

The same models describe the physical catalog (read from PostgreSQL) and the logical one an
operation produces: during a migration a logical column may be stored in another physical
column (`stored_as`), e.g. a hidden `_ls_new_<col>` that only the green views expose.
"""

from __future__ import annotations

from typing import Literal

import psycopg
from pydantic import BaseModel, Field

from liveshift.dependents import Dependent
from liveshift.dependents.read import read_dependents
from liveshift.expressions.qualify import SchemaNames, read_schema_names


class Column(BaseModel):
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: Literal["", "a", "d"] = ""
    generated: bool = False
    virtual: bool = False  # a generated column computed when read (PostgreSQL 18), not stored
    # physical column holding this logical column while a migration is in flight
    stored_as: str | None = None

    @property
    def physical(self) -> str:
        return self.stored_as or self.name


class Index(BaseModel):
    name: str
    columns: list[str | None]  # None where the key part is an expression
    unique: bool = False
    primary: bool = False
    valid: bool = True
    method: str = "btree"
    predicate: str | None = None
    definition: str = ""
    constraint: str | None = None  # the constraint this index backs, if any
    tablespace: str | None = None  # its own, when not the database's default (pg_get_indexdef does not print it)
    # its size on disk when the snapshot was read (a partitioned index: its leaves'); 0 in snapshots older than it
    bytes: int = 0


class Constraint(BaseModel):
    name: str
    kind: Literal["check", "unique", "primary_key", "foreign_key", "exclusion", "not_null", "trigger"]
    definition: str
    columns: list[str] = Field(default_factory=list)
    validated: bool = True
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: list[str] = Field(default_factory=list)


class IncomingForeignKey(BaseModel):
    """A foreign key in another table that references this one."""

    schema_name: str
    table: str
    name: str
    columns: list[str]
    ref_columns: list[str]
    definition: str


class PartitionOf(BaseModel):
    """One partition somewhere below a partitioned table (at any level)."""

    schema_name: str
    name: str
    parent: str  # the partitioned table it is a partition of (its name; the root's or a sub-level's)
    leaf: bool = True  # False: itself partitioned (a sub-level), holding no rows of its own
    bound: str = ""  # FOR VALUES … or DEFAULT, as pg_get_expr prints it
    key: list[str | None] = Field(default_factory=list)  # a sub-level's own partition key (None: an expression)

    @property
    def default(self) -> bool:
        return self.bound == "DEFAULT"


class Partitioning(BaseModel):
    """How a partitioned table is split: its strategy, its key, and every partition below it, shallowest first.

    Partitions are not tables of the catalog: applications and migrations use the partitioned table, and
    liveshift reaches its partitions through it (partitioned.py)."""

    strategy: Literal["range", "list", "hash"]
    key: list[str | None]  # the key's columns; None where a key part is an expression
    partitions: list[PartitionOf] = Field(default_factory=list)

    @property
    def leaves(self) -> list[PartitionOf]:
        return [p for p in self.partitions if p.leaf]

    def key_columns(self) -> set[str]:
        """The columns of the partition keys at every level (a column a sub-level splits by too)."""
        keys = [*self.key, *(k for p in self.partitions for k in p.key)]
        return {k for k in keys if k is not None}


class Table(BaseModel):
    name: str
    columns: list[Column]
    primary_key: list[str] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    referenced_by: list[IncomingForeignKey] = Field(default_factory=list)
    stored_as: str | None = None  # physical table name while a rename is in flight
    partitioning: Partitioning | None = None  # a partitioned table's partitions (None: a plain table)

    @property
    def physical(self) -> str:
        return self.stored_as or self.name

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)

    def constraint(self, name: str) -> Constraint | None:
        return next((c for c in self.constraints if c.name == name), None)

    def backfill_key(self) -> list[str]:
        """Primary key, else the first unique index over NOT NULL plain columns; [] when neither."""
        if self.primary_key:
            return list(self.primary_key)
        for index in self.indexes:
            if index.unique and index.valid and index.predicate is None and all(index.columns):
                cols = [self.column(c) for c in index.columns if c]
                if all(c is not None and not c.nullable for c in cols):
                    return [c for c in index.columns if c]
        return []


class Catalog(BaseModel):
    schema_name: str
    tables: dict[str, Table] = Field(default_factory=dict)
    sequences: list[str] = Field(default_factory=list)
    # what an unqualified name in an `up`/`down` may resolve to in the schema (qualify.py); empty in snapshots
    # stored before it was recorded, whose plans then stay as they were
    names: SchemaNames = Field(default_factory=SchemaNames)
    # (schema, name) of the volatile functions the migration's up/down call (volatility.py), read at prepare
    volatile_functions: list[tuple[str, str]] = Field(default_factory=list)
    # objects outside the tables that read them (views, functions, policies, …): dependents.py
    dependents: list[Dependent] = Field(default_factory=list)
    # the schema's enum types: name -> labels in their sort order (empty in snapshots stored before it was read)
    enums: dict[str, list[str]] = Field(default_factory=dict)
    # what else uses each enum type (or its array type) besides this schema's tables and the views: functions,
    # domains, other types, tables of other schemas (pg_describe_object's words); a type swap refuses them
    enum_dependents: dict[str, list[str]] = Field(default_factory=dict)
    # the server's server_version_num when read (what it can do decides a few plans:
    # operations/partitioned_foreign_key.py); 0 in snapshots stored before it was recorded, planned as they were
    server_version: int = 0

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    def partitioned_table_of(self, name: str) -> str | None:
        """The partitioned table that `name` (a partition of this schema, at any level) is below, if any."""
        for table in self.tables.values():
            parts = table.partitioning.partitions if table.partitioning else []
            if any(p.name == name and p.schema_name == self.schema_name for p in parts):
                return table.name
        return None

    def all_index_names(self) -> set[str]:
        return {i.name for t in self.tables.values() for i in t.indexes}


_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated <> '', a.attgenerated::text = 'v'
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_INDEXES = """
SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary, ix.indisvalid, am.amname,
       pg_get_expr(ix.indpred, ix.indrelid), pg_get_indexdef(ix.indexrelid), con.conname,
       ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       (SELECT spcname FROM pg_tablespace WHERE oid = i.reltablespace),
       (SELECT coalesce(sum(pg_relation_size(relid)), 0)::bigint
        FROM (SELECT relid FROM pg_partition_tree(ix.indexrelid) UNION SELECT ix.indexrelid) tree)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname = %s AND t.relkind IN ('r', 'p') AND NOT t.relispartition
ORDER BY t.relname, i.relname
"""

_CONSTRAINTS = """
SELECT t.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid), con.convalidated,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
       rn.nspname, rt.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class rt ON rt.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rt.relnamespace
WHERE n.nspname = %s AND con.contype IN ('c', 'u', 'p', 'f', 'x') AND NOT t.relispartition AND con.conparentid = 0
ORDER BY t.relname, con.conname
"""

_INCOMING = """
SELECT rt.relname, n.nspname, t.relname, con.conname, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class rt ON rt.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rt.relnamespace
WHERE con.contype = 'f' AND rn.nspname = %s AND NOT t.relispartition AND con.conparentid = 0
ORDER BY rt.relname, n.nspname, t.relname, con.conname
"""

# every partitioned table of the schema that is not itself a partition, with the partitions below it
_PARTITIONED = """
SELECT c.relname, pt.partstrat::text,
       ARRAY(SELECT a.attname FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.ord),
       ARRAY(SELECT jsonb_build_array(pn.nspname, pc.relname, pp.relname, t.isleaf,
                                      pg_get_expr(pc.relpartbound, pc.oid),
                                      ARRAY(SELECT a.attname
                                            FROM pg_partitioned_table st
                                            CROSS JOIN LATERAL unnest(st.partattrs::int2[])
                                                 WITH ORDINALITY k(attnum, ord)
                                            LEFT JOIN pg_attribute a ON a.attrelid = st.partrelid
                                                                     AND a.attnum = k.attnum
                                            WHERE st.partrelid = pc.oid ORDER BY k.ord))
             FROM pg_partition_tree(c.oid) t
             JOIN pg_class pc ON pc.oid = t.relid
             JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             JOIN pg_class pp ON pp.oid = t.parentrelid
             WHERE t.level > 0 ORDER BY t.level, pn.nspname, pc.relname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
WHERE n.nspname = %s AND c.relkind = 'p' AND NOT c.relispartition
"""

_STRATEGIES: dict[str, Literal["range", "list", "hash"]] = {"r": "range", "l": "list", "h": "hash"}

_KINDS = {"c": "check", "u": "unique", "p": "primary_key", "f": "foreign_key", "x": "exclusion"}


def read_catalog(conn: psycopg.Connection, schema: str) -> Catalog:
    """Snapshot the tables of `schema` (one consistent read, no locks beyond catalog reads)."""
    tables: dict[str, Table] = {}
    for rel, name, typ, nullable, default, identity, generated, virtual in conn.execute(_COLUMNS, (schema,)):
        table = tables.setdefault(rel, Table(name=rel, columns=[]))
        column = Column(name=name, type=typ, nullable=nullable, default=default, identity=identity or "")
        table.columns.append(column.model_copy(update={"generated": generated, "virtual": virtual}))
    _read_indexes(conn, schema, tables)
    _read_constraints(conn, schema, tables)
    _read_partitioning(conn, schema, tables)
    sequences = [
        r[0]
        for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'S' ORDER BY 1",
            (schema,),
        )
    ]
    return Catalog(
        schema_name=schema,
        tables=tables,
        sequences=sequences,
        names=read_schema_names(conn, schema),
        dependents=read_dependents(conn, schema),
        enums=read_enums(conn, schema),
        enum_dependents=read_enum_dependents(conn, schema),
        server_version=conn.info.server_version,
    )


_ENUMS = """
SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = %s
GROUP BY t.typname
ORDER BY t.typname
"""


def read_enums(conn: psycopg.Connection, schema: str) -> dict[str, list[str]]:
    return {name: list(labels) for name, labels in conn.execute(_ENUMS, (schema,))}


_ENUM_DEPENDENTS = """
SELECT t.typname, array_agg(pg_describe_object(d.classid, d.objid, d.objsubid) ORDER BY d.classid, d.objid)
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_depend d ON d.refclassid = 'pg_type'::regclass AND d.refobjid IN (t.oid, t.typarray) AND d.deptype = 'n'
LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
LEFT JOIN pg_class c ON c.oid = CASE WHEN d.classid = 'pg_class'::regclass THEN d.objid ELSE ad.adrelid END
WHERE n.nspname = %s AND t.typtype = 'e'
  -- a view, or a plain column of this schema's tables (its default, its index): the operations see those
  AND NOT coalesce(c.relkind = 'v' OR (c.relkind IN ('r', 'p', 'i') AND c.relnamespace = n.oid AND d.refobjid = t.oid),
                   false)
GROUP BY t.typname
"""


def read_enum_dependents(conn: psycopg.Connection, schema: str) -> dict[str, list[str]]:
    return {name: list(found) for name, found in conn.execute(_ENUM_DEPENDENTS, (schema,))}


def _read_indexes(conn: psycopg.Connection, schema: str, tables: dict[str, Table]) -> None:
    for row in conn.execute(_INDEXES, (schema,)):
        rel, name, unique, primary, valid, method, pred, definition, con, cols, tablespace, size = row
        tables[rel].indexes.append(
            Index(
                name=name,
                columns=list(cols),
                unique=unique,
                primary=primary,
                valid=valid,
                method=method,
                predicate=pred,
                definition=definition,
                constraint=con,
                tablespace=tablespace,
                bytes=int(size),
            )
        )
        if primary:
            tables[rel].primary_key = [c for c in cols if c]


def _read_constraints(conn: psycopg.Connection, schema: str, tables: dict[str, Table]) -> None:
    """The tables' own constraints, and the foreign keys of other tables that reference them."""
    for rel, name, kind, definition, validated, cols, rschema, rtable, rcols in conn.execute(_CONSTRAINTS, (schema,)):
        tables[rel].constraints.append(
            Constraint(
                name=name,
                kind=_KINDS[kind],
                definition=definition,
                columns=list(cols),
                validated=validated,
                ref_schema=rschema,
                ref_table=rtable,
                ref_columns=list(rcols or []),
            )
        )
    for rtable, fschema, ftable, name, definition, cols, rcols in conn.execute(_INCOMING, (schema,)):
        if rtable in tables:
            tables[rtable].referenced_by.append(
                IncomingForeignKey(
                    schema_name=fschema,
                    table=ftable,
                    name=name,
                    columns=list(cols),
                    ref_columns=list(rcols),
                    definition=definition,
                )
            )


def _read_partitioning(conn: psycopg.Connection, schema: str, tables: dict[str, Table]) -> None:
    for rel, strategy, key, partitions in conn.execute(_PARTITIONED, (schema,)):
        tables[rel].partitioning = Partitioning(
            strategy=_STRATEGIES[strategy],
            key=list(key),
            partitions=[
                PartitionOf(schema_name=s, name=n, parent=parent, leaf=leaf, bound=bound or "", key=sub_key)
                for s, n, parent, leaf, bound, sub_key in partitions
            ],
        )


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", (schema,)).fetchone()
    return bool(row and row[0])
