"""Finds the dependents of a schema's tables in pg_depend and reads what rebuilding each takes (dependents.py).

The search goes from the schema's tables through pg_depend (a view's `_RETURN` rule standing for the view,
a relation's row type for the relation), and on through what depends on a view, a materialized view or a
function with an SQL-standard body (a view on a view, a function reading a view). liveshift's own objects
(its schema, the version schemas' views, the dual-write triggers), a table's own indexes and sequences, and
internal triggers are left out. Definitions are printed by PostgreSQL itself with only pg_catalog on the
search_path, so every other name in them is schema-qualified and means the same object when contract runs
them again, whatever that session's search_path. Read-only: `liveshift plan` runs it too.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from liveshift.dependents import QUALIFIED_PATH, Dependent, Grant, Kind, Reads

_FOUND = """
WITH RECURSIVE edge AS (
  SELECT CASE WHEN r.rulename = '_RETURN' THEN 'pg_class'::regclass ELSE d.classid END AS classid,
         CASE WHEN r.rulename = '_RETURN' THEN r.ev_class ELSE d.objid END AS objid,
         CASE WHEN t.typrelid <> 0 THEN 'pg_class'::regclass ELSE d.refclassid END AS refclassid,
         CASE WHEN t.typrelid <> 0 THEN t.typrelid ELSE d.refobjid END AS refobjid,
         CASE WHEN t.typrelid <> 0 THEN -1 ELSE d.refobjsubid END AS refobjsubid
  FROM pg_depend d
  LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
  LEFT JOIN pg_type t ON d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid
  WHERE d.deptype IN ('n', 'a')
), mine AS (
  SELECT n.oid FROM pg_namespace n WHERE n.nspname = ANY(%(excluded)s)
), found(classid, objid) AS (
  SELECT e.classid, e.objid FROM edge e
  JOIN pg_class c ON e.refclassid = 'pg_class'::regclass AND c.oid = e.refobjid AND c.relkind IN ('r', 'p')
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = %(schema)s
  UNION
  SELECT e.classid, e.objid FROM edge e JOIN found f ON e.refclassid = f.classid AND e.refobjid = f.objid
  WHERE f.classid = 'pg_proc'::regclass
     OR EXISTS (SELECT 1 FROM pg_class v WHERE f.classid = 'pg_class'::regclass AND v.oid = f.objid
                AND v.relkind IN ('v', 'm') AND v.relnamespace NOT IN (SELECT oid FROM mine))
), kept AS (
  SELECT f.classid, f.objid FROM found f
  WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE f.classid = 'pg_class'::regclass AND c.oid = f.objid
                    AND (c.relkind NOT IN ('v', 'm') OR c.relnamespace IN (SELECT oid FROM mine)))
    AND NOT EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
                    WHERE f.classid = 'pg_trigger'::regclass AND g.oid = f.objid
                    AND (g.tgisinternal OR p.pronamespace IN (SELECT oid FROM mine)))
    AND NOT EXISTS (SELECT 1 FROM pg_proc p WHERE f.classid = 'pg_proc'::regclass AND p.oid = f.objid
                    AND p.pronamespace IN (SELECT oid FROM mine))
)
"""

_OBJECTS = (
    _FOUND
    + """
SELECT k.classid::regclass::text, k.objid, pg_describe_object(k.classid, k.objid, 0),
       coalesce(c.relkind::text, p.prokind::text, con.contype::text, CASE WHEN ad.attgenerated <> '' THEN 'g' END),
       o.identity,
       coalesce(cn.nspname, pn.nspname, stn.nspname, onn.nspname),
       coalesce(c.relname, p.proname, pol.polname, tg.tgname, rw.rulename, st.stxname, pub.pubname, con.conname,
                ad.attname),
       onr.relname,
       pg_get_userbyid(coalesce(c.relowner, p.proowner, st.stxowner, onr.relowner))
FROM kept k
CROSS JOIN LATERAL pg_identify_object(k.classid, k.objid, 0) o
LEFT JOIN pg_class c ON k.classid = 'pg_class'::regclass AND c.oid = k.objid
LEFT JOIN pg_namespace cn ON cn.oid = c.relnamespace
LEFT JOIN pg_proc p ON k.classid = 'pg_proc'::regclass AND p.oid = k.objid
LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace
LEFT JOIN pg_policy pol ON k.classid = 'pg_policy'::regclass AND pol.oid = k.objid
LEFT JOIN pg_trigger tg ON k.classid = 'pg_trigger'::regclass AND tg.oid = k.objid
LEFT JOIN pg_rewrite rw ON k.classid = 'pg_rewrite'::regclass AND rw.oid = k.objid
LEFT JOIN pg_statistic_ext st ON k.classid = 'pg_statistic_ext'::regclass AND st.oid = k.objid
LEFT JOIN pg_namespace stn ON stn.oid = st.stxnamespace
LEFT JOIN pg_publication_rel pr ON k.classid = 'pg_publication_rel'::regclass AND pr.oid = k.objid
LEFT JOIN pg_publication pub ON pub.oid = pr.prpubid
LEFT JOIN pg_constraint con ON k.classid = 'pg_constraint'::regclass AND con.oid = k.objid
LEFT JOIN pg_attrdef d ON k.classid = 'pg_attrdef'::regclass AND d.oid = k.objid
LEFT JOIN pg_attribute ad ON ad.attrelid = d.adrelid AND ad.attnum = d.adnum
LEFT JOIN pg_class onr
  ON onr.oid = coalesce(pol.polrelid, tg.tgrelid, rw.ev_class, st.stxrelid, pr.prrelid, con.conrelid, d.adrelid)
LEFT JOIN pg_namespace onn ON onn.oid = onr.relnamespace
ORDER BY 3
"""
)

# what each kept object reads: relations (tables, views) and their columns, and the functions among them
_EDGES = (
    _FOUND
    + """
SELECT k.classid::regclass::text, k.objid, n.nspname, c.relname, a.attname, e.refobjsubid = -1,
       CASE WHEN c.oid IS NULL THEN pg_describe_object(e.refclassid, e.refobjid, 0) END
FROM kept k
JOIN edge e ON e.classid = k.classid AND e.objid = k.objid
LEFT JOIN pg_class c ON e.refclassid = 'pg_class'::regclass AND c.oid = e.refobjid
  AND c.relkind IN ('r', 'p', 'v', 'm')
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = e.refobjsubid AND e.refobjsubid > 0
WHERE (c.oid IS NOT NULL AND NOT (e.refclassid = k.classid AND e.refobjid = k.objid))
   OR EXISTS (SELECT 1 FROM kept f WHERE e.refclassid = 'pg_proc'::regclass AND f.classid = e.refclassid
              AND f.objid = e.refobjid)
ORDER BY 1, 2, 3, 4, 5
"""
)

_SIMPLE_KINDS: dict[str, Kind] = {
    "pg_policy": "policy",
    "pg_trigger": "trigger",
    "pg_rewrite": "rule",
    "pg_statistic_ext": "statistics",
    "pg_publication_rel": "publication",
}


def _kind(catalog: str, sub: str | None) -> Kind:
    """What the object is, from its catalog and its relkind / prokind / generated flag."""
    if catalog == "pg_class":
        return "view" if sub == "v" else "materialized_view"
    if catalog == "pg_proc":
        return "function" if sub in ("f", "p") else "other"
    if catalog == "pg_attrdef":
        return "generated_column" if sub == "g" else "column_default"
    if catalog == "pg_constraint":
        return "foreign_key" if sub == "f" else "constraint"
    return _SIMPLE_KINDS.get(catalog, "other")


def excluded_schemas(conn: psycopg.Connection) -> list[str]:
    """liveshift's schema and every version schema it knows of: their views and functions are its own."""
    names = ["liveshift"]
    exists = conn.execute("SELECT to_regclass('liveshift.migrations') IS NOT NULL").fetchone()
    if exists and exists[0]:
        rows = conn.execute(
            "SELECT blue_version FROM liveshift.migrations UNION SELECT green_version FROM liveshift.migrations "
            "UNION SELECT current_version FROM liveshift.active_versions "
            "UNION SELECT candidate_version FROM liveshift.active_versions WHERE candidate_version IS NOT NULL"
        )
        names += sorted(r[0] for r in rows)
    return names


def read_dependents(conn: psycopg.Connection, schema: str) -> list[Dependent]:
    """Every object outside liveshift that reads a table of `schema` (or such a view or function), with its
    definition as PostgreSQL prints it under a pg_catalog-only search_path."""
    params = {"schema": schema, "excluded": excluded_schemas(conn)}
    found: dict[tuple[str, int], Dependent] = {}
    with conn.transaction():
        conn.execute("SELECT set_config('search_path', %s, true)", (QUALIFIED_PATH,))
        for catalog, oid, key, sub, identity, nsp, name, on, owner in conn.execute(_OBJECTS, params):
            found[(catalog, oid)] = Dependent(
                kind=_kind(catalog, sub),
                key=key,
                identity=identity,
                schema_name=nsp or "",
                name=name or key,
                on=on,
                owner=owner or "",
            )
        for catalog, oid, nsp, rel, column, row_type, function in conn.execute(_EDGES, params):
            dependent = found[(catalog, oid)]
            if function is not None:
                dependent.uses.append(function)
            else:
                dependent.reads.append(Reads(schema_name=nsp, relation=rel, column=column, row_type=row_type))
        by_catalog: dict[str, dict[int, Dependent]] = {}
        for (catalog, oid), dependent in list(found.items()):
            if _table_own(dependent):
                del found[(catalog, oid)]
                continue
            by_catalog.setdefault(catalog, {})[oid] = dependent
        for catalog, objects in sorted(by_catalog.items()):
            reader = _DETAILS.get(catalog)
            if reader is not None:
                reader(conn, objects)
    return sorted(found.values(), key=lambda d: d.key)


def _table_own(dependent: Dependent) -> bool:
    """A constraint of the table it reads (its key, a CHECK, NOT NULL) or a column's own default: the table's
    own, which the catalog's Table models and the operations rebuild; a foreign key of another table, or one
    calling a function found here, stays."""
    return dependent.kind in ("constraint", "column_default") and not dependent.uses


# -- what rebuilding each takes, per catalog ---------------------------------------------------------------

_GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, pg_get_userbyid(a.grantor)"


def _grants(conn: psycopg.Connection, query: str, objects: dict[int, Dependent]) -> None:
    for oid, grantee, grantor, privilege, grantable, column in conn.execute(query, (list(objects),)):
        objects[oid].grants.append(
            Grant(grantee=grantee, grantor=grantor, privilege=privilege, grantable=grantable, column=column)
        )


def _relations(conn: psycopg.Connection, objects: dict[int, Dependent]) -> None:
    """Views and materialized views: definition, options, comments, grants (also per column), column defaults."""
    oids = (list(objects),)
    for oid, definition, options, comment in conn.execute(
        "SELECT c.oid, pg_get_viewdef(c.oid), coalesce(c.reloptions, '{}'), obj_description(c.oid, 'pg_class') "
        "FROM pg_class c WHERE c.oid = ANY(%s)",
        oids,
    ):
        objects[oid].definition, objects[oid].options, objects[oid].comment = definition, list(options), comment
    for oid, column, comment, default in conn.execute(
        "SELECT a.attrelid, a.attname, col_description(a.attrelid, a.attnum), pg_get_expr(d.adbin, d.adrelid) "
        "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum",
        oids,
    ):
        if comment is not None:
            objects[oid].column_comments[column] = comment
        if default is not None:
            objects[oid].column_defaults[column] = default
    _relation_grants(conn, objects)


def _relation_grants(conn: psycopg.Connection, objects: dict[int, Dependent]) -> None:
    query = (
        f"SELECT c.oid, {_GRANTEE}, a.privilege_type, a.is_grantable, NULL::name FROM pg_class c "
        "CROSS JOIN LATERAL aclexplode(c.relacl) a WHERE c.oid = ANY(%(oids)s) "
        f"UNION ALL SELECT t.attrelid, {_GRANTEE}, a.privilege_type, a.is_grantable, t.attname "
        "FROM pg_attribute t CROSS JOIN LATERAL aclexplode(t.attacl) a WHERE t.attrelid = ANY(%(oids)s) "
        "AND t.attnum > 0 ORDER BY 1, 6 NULLS FIRST, 2, 4"
    )
    for oid, grantee, grantor, privilege, grantable, column in conn.execute(query, {"oids": list(objects)}):
        objects[oid].grants.append(
            Grant(grantee=grantee, grantor=grantor, privilege=privilege, grantable=grantable, column=column)
        )


def _functions(conn: psycopg.Connection, objects: dict[int, Dependent]) -> None:
    for oid, definition, arguments, result, procedure, comment in conn.execute(
        "SELECT p.oid, pg_get_functiondef(p.oid), pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), "
        "p.prokind = 'p', obj_description(p.oid, 'pg_proc') FROM pg_proc p WHERE p.oid = ANY(%s)",
        (list(objects),),
    ):
        dependent = objects[oid]
        dependent.definition, dependent.arguments, dependent.result = definition, arguments, result
        dependent.procedure, dependent.comment = procedure, comment
    _grants(
        conn,
        f"SELECT p.oid, {_GRANTEE}, a.privilege_type, a.is_grantable, NULL FROM pg_proc p "
        "CROSS JOIN LATERAL aclexplode(p.proacl) a WHERE p.oid = ANY(%s) ORDER BY 1, 2, 4",
        objects,
    )


def _policies(conn: psycopg.Connection, objects: dict[int, Dependent]) -> None:
    for oid, using, check, comment in conn.execute(
        "SELECT p.oid, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), "
        "obj_description(p.oid, 'pg_policy') FROM pg_policy p WHERE p.oid = ANY(%s)",
        (list(objects),),
    ):
        objects[oid].using, objects[oid].check, objects[oid].comment = using, check, comment


def _simple(query: str) -> Callable[[psycopg.Connection, dict[int, Dependent]], None]:
    """A reader for objects rebuilt from one definition: `query` gives oid, definition, enabled, target, comment."""

    def read(conn: psycopg.Connection, objects: dict[int, Dependent]) -> None:
        for oid, definition, enabled, target, comment in conn.execute(query, (list(objects),)):
            dependent = objects[oid]
            dependent.definition, dependent.enabled = definition, enabled or "O"
            dependent.stattarget, dependent.comment = target, comment

    return read


_DETAILS: dict[str, Callable[[psycopg.Connection, dict[int, Dependent]], None]] = {
    "pg_class": _relations,
    "pg_proc": _functions,
    "pg_policy": _policies,
    "pg_trigger": _simple(
        "SELECT oid, pg_get_triggerdef(oid), tgenabled::text, NULL::int, obj_description(oid, 'pg_trigger') "
        "FROM pg_trigger WHERE oid = ANY(%s)"
    ),
    "pg_rewrite": _simple(
        "SELECT oid, pg_get_ruledef(oid), ev_enabled::text, NULL::int, obj_description(oid, 'pg_rewrite') "
        "FROM pg_rewrite WHERE oid = ANY(%s)"
    ),
    "pg_statistic_ext": _simple(
        "SELECT oid, pg_get_statisticsobjdef(oid), NULL, nullif(stxstattarget, -1)::int, "
        "obj_description(oid, 'pg_statistic_ext') FROM pg_statistic_ext WHERE oid = ANY(%s)"
    ),
    "pg_constraint": _simple(
        "SELECT oid, pg_get_constraintdef(oid), NULL, NULL::int, obj_description(oid, 'pg_constraint') "
        "FROM pg_constraint WHERE oid = ANY(%s)"
    ),
}
