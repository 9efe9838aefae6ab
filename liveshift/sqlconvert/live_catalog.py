"""`liveshift lint --dsn`: what lint asks of the schema, read from the live catalog (read-only queries)."""

from __future__ import annotations

import re

import psycopg
from pglast import parse_sql

from liveshift.sqlconvert.knowledge import Knowledge, Table, bound_of, constants, learn_partition_key

_SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
_TABLES = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind = 'r' AND pg_relation_size(c.oid) = 0, c.reltuples, c.relkind = 'p',
       (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
        WHERE i.inhrelid = c.oid AND c.relispartition),
       c.relkind = 'm', CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm', 'f', 'v') AND {_SYSTEM}
"""
_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, t.typtype = 'd', t.typname,
       a.attidentity <> '',
       pg_get_serial_sequence(a.attrelid::regclass::text, a.attname),
       (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum),
       c.relkind IN ('r', 'm')
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_class c ON c.oid = a.attrelid
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
# a default drawing from a sequence that is not the column's own: `nextval('order_ref_seq'::regclass)`
_NEXTVAL = re.compile(r"""^nextval\('(?:[^'.]+\.)?"?([^'"]+)"?'::regclass\)$""")
_CONSTRAINTS = """
SELECT conrelid, contype, conname, confrelid::regclass::text, convalidated, pg_get_constraintdef(oid), confdeltype,
       ARRAY(SELECT a.attname FROM unnest(conkey) k JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k),
       ARRAY(SELECT a.attname FROM unnest(confkey) k JOIN pg_attribute a ON a.attrelid = confrelid AND a.attnum = k)
FROM pg_constraint WHERE conrelid = ANY(%s) AND contype IN ('f', 'c')
"""
_INDEXES = """
SELECT i.relname, x.indrelid,
       ARRAY(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = ANY(%s)
"""
# the triggers, policies and rules on tables, by name (DROP … IF EXISTS of one not there locks nothing)
_TABLE_OBJECTS = """
SELECT tgrelid, tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(%(oids)s)
UNION ALL SELECT polrelid, polname FROM pg_policy WHERE polrelid = ANY(%(oids)s)
UNION ALL SELECT ev_class, rulename FROM pg_rewrite WHERE rulename <> '_RETURN' AND ev_class = ANY(%(oids)s)
"""
_READS = """
SELECT DISTINCT r.ev_class, d.refobjid FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
  AND r.ev_class = ANY(%s)
"""
# domains whose constraints every new column of theirs must be checked against (ADD COLUMN rewrites)
_CONSTRAINED_DOMAINS = """
SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND (t.typnotnull OR EXISTS (SELECT FROM pg_constraint c WHERE c.contypid = t.oid))
  AND {system}
"""
_NOT_NULL_CHECK = re.compile(r'^CHECK \(\("?([^"()]+)"? IS NOT NULL\)\)$')


def load(dsn: str) -> Knowledge:
    """The live catalog's tables, columns, partitions, foreign keys, domains and indexes."""
    k = Knowledge(live=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        k.version = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()[0]
        k.utc = conn.execute("SELECT current_setting('TimeZone') IN ('UTC', 'Etc/UTC', 'GMT', 'Etc/GMT')").fetchone()[0]
        names = _load_tables(conn, k)
        oids = list(names)
        _load_columns(conn, k, names, oids)
        _load_constraints(conn, k, names, oids)
        for index, table, columns in conn.execute(_INDEXES, (oids,)).fetchall():
            k.indexes[index] = (names[table], tuple(columns))
        k.constrained = {name for (name,) in conn.execute(_CONSTRAINED_DOMAINS.format(system=_SYSTEM)).fetchall()}
        k.table_objects = {(names[rel], name) for rel, name in conn.execute(_TABLE_OBJECTS, {"oids": oids}).fetchall()}
        for view, table in conn.execute(_READS, (oids,)).fetchall():
            if table in names:
                k.reads.setdefault(names[view], set()).add(names[table])
    return k


def _load_tables(conn: psycopg.Connection, k: Knowledge) -> dict[int, str]:
    names = {}
    for row in conn.execute(_TABLES).fetchall():
        oid, schema, name, empty, rows, partitioned, parent, matview, bound, key = row
        names[oid] = name
        table = k.tables.setdefault(name, Table())
        table.empty, table.rows, table.parent = bool(empty), rows if rows >= 0 else None, parent
        table.partitioned, table.matview = partitioned, matview
        _learn_partitioning(table, bound, key)
        k.schemas.setdefault(schema, set()).add(name)
        if bound == "DEFAULT":
            k.tables.setdefault(parent, Table()).default_partition = name
    return names


def _learn_partitioning(table: Table, bound: str | None, key: str | None) -> None:
    """A partition's bound and a partitioned table's key, as the catalog prints them (`FOR VALUES FROM
    ('2026-09-01') TO ('2026-10-01')`, `RANGE (posted_at)`), read by the parser that reads them in files."""
    if bound:
        node = parse_sql(f"CREATE TABLE p PARTITION OF t {bound}")[0].stmt
        table.bound = bound_of(node.partbound)
    if key:
        learn_partition_key(table, parse_sql(f"CREATE TABLE t () PARTITION BY {key}")[0].stmt.partspec)


def _load_columns(conn: psycopg.Connection, k: Knowledge, names: dict[int, str], oids: list[int]) -> None:
    rows = conn.execute(_COLUMNS, (oids,)).fetchall()
    for rel, column, typ, not_null, is_domain, typname, identity, owned, default, stored in rows:
        table = k.tables[names[rel]]
        table.columns[column] = typ
        if identity:
            table.identity.add(column)
        if owned:  # a serial's or identity's own sequence, schema-qualified
            table.sequences[column] = owned.split(".")[-1].strip('"')
            table.owned.add(table.sequences[column])
        elif default and (match := _NEXTVAL.match(default)):
            table.sequences[column] = match.group(1)
        if not_null:
            table.not_null.add(column)
        if is_domain and stored:  # ALTER DOMAIN checks (and locks) the relations holding values: not a view's
            k.domains.setdefault(typname, set()).add(names[rel])  # columns, nor a partitioned table's (its leaves)


def _load_constraints(conn: psycopg.Connection, k: Knowledge, names: dict[int, str], oids: list[int]) -> None:
    rows = conn.execute(_CONSTRAINTS, (oids,)).fetchall()
    for rel, kind, name, referenced, validated, definition, on_delete, columns, referenced_columns in rows:
        table = k.tables[names[rel]]
        if kind == "f":
            target = referenced.split(".")[-1].strip('"')
            table.foreign_keys[name], table.on_delete[name] = target, on_delete
            table.references.add(target)
            table.key_links |= set(zip(columns, [target] * len(columns), referenced_columns, strict=False))
        elif validated and (match := _NOT_NULL_CHECK.match(definition)):
            table.not_null.add(match.group(1))
        elif validated:  # its constants: whether it proves a partition bound (ATTACH then skips its scan)
            table.checks[name] = constants(parse_sql(f"ALTER TABLE t ADD {definition}"))
