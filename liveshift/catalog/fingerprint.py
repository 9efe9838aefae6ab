"""A catalog fingerprint of one schema: a stable hash per object, read from pg_catalog.

Covers tables (kind, persistence, row security, partitioning), columns (type, nullability, default, identity,
generation, collation), constraints (but NOT NULL: a column's nullability, which PostgreSQL 18 also lists among
them, so a server upgraded from 17 or older keeps its fingerprint), indexes, views, sequences, functions,
triggers and policies. It ignores what does not change the schema's meaning: OIDs, column order, physical
storage, statistics, and other schemas (the version schemas liveshift keeps beside the migrated one).
Definitions are read with the schema first on the search_path, so names in them come out unqualified (index and
trigger definitions, which always name their table's schema, lose that prefix): a schema restored under another
name, or the same migration applied to another tenant's schema, gives the same fingerprint.

Recorded when a migration completes (phases.contract, store/record.py) and compared by liveshift.fleet.drift.
"""

from __future__ import annotations

import hashlib
import json

import psycopg
from psycopg import sql

# one query per object kind; each row is (object name, definition columns...), with %(schema)s the schema
_QUERIES: dict[str, str] = {
    "table": """
        SELECT c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
               pg_catalog.pg_get_partkeydef(c.oid), pg_catalog.pg_get_expr(c.relpartbound, c.oid)
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'f')""",
    "column": """
        SELECT c.relname || '.' || a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
               CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
        WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0
          AND NOT a.attisdropped""",
    "constraint": """
        SELECT c.relname || '.' || k.conname, pg_catalog.pg_get_constraintdef(k.oid), k.convalidated
        FROM pg_catalog.pg_constraint k
        JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND k.contype <> 'n'""",
    "index": """
        SELECT c.relname, pg_catalog.replace(pg_catalog.pg_get_indexdef(c.oid), %(qualifier)s, ''), i.indisvalid
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s""",
    "view": """
        SELECT c.relname, c.relkind, pg_catalog.pg_get_viewdef(c.oid, true), c.reloptions
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND c.relkind IN ('v', 'm')""",
    "sequence": """
        SELECT c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
               s.seqmax, s.seqcycle
        FROM pg_catalog.pg_sequence s
        JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s""",
    "function": """
        SELECT p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')', p.prokind,
               pg_catalog.pg_get_function_result(p.oid), l.lanname, p.prosrc, p.provolatile, p.proisstrict,
               p.prosecdef, p.proleakproof, p.proparallel, p.proconfig
        FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_catalog.pg_language l ON l.oid = p.prolang
        WHERE n.nspname = %(schema)s AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                          WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')""",
    "trigger": """
        SELECT c.relname || '.' || t.tgname, pg_catalog.replace(pg_catalog.pg_get_triggerdef(t.oid), %(qualifier)s, ''),
               t.tgenabled
        FROM pg_catalog.pg_trigger t
        JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND NOT t.tgisinternal""",
    "policy": """
        SELECT c.relname || '.' || p.polname, p.polcmd, p.polpermissive,
               ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r)::text END
                     FROM pg_catalog.unnest(p.polroles) r ORDER BY 1),
               pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
        FROM pg_catalog.pg_policy p
        JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s""",
}


def read_fingerprint(conn: psycopg.Connection, schema: str) -> dict[str, str]:
    """Each object of `schema`, as "kind name" (e.g. "column users.email"), mapped to a hash of its definition."""
    objects: dict[str, str] = {}
    with conn.transaction():
        previous = conn.execute("SELECT pg_catalog.current_setting('search_path')").fetchone()
        # local to the transaction (or savepoint's enclosing transaction): restored below either way
        identifier = sql.Identifier(schema).as_string(conn)
        path = f"{identifier}, pg_catalog"
        # as ruleutils prints a schema name (quoted only where needed), with its dot
        qualifier = conn.execute("SELECT pg_catalog.quote_ident(%s) || '.'", (schema,)).fetchone()[0]
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, true)", (path,))
        for kind, query in _QUERIES.items():
            for name, *definition in conn.execute(query, {"schema": schema, "qualifier": qualifier}):
                objects[f"{kind} {name}"] = _digest(definition)
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, true)", (previous[0] if previous else "",))
    return dict(sorted(objects.items()))


def digest(fingerprint: dict[str, str]) -> str:
    """One hash for the whole schema (equal fingerprints, equal digests)."""
    return _digest(sorted(fingerprint.items()))


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()[:16]
