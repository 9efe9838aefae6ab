"""A foreign key from a partitioned table before PostgreSQL 18, validated partition by partition.

From 18, a foreign key is added NOT VALID to the partitioned table (catalog only, SHARE ROW EXCLUSIVE on it, its
partitions and the referenced table) and VALIDATEd (SHARE UPDATE EXCLUSIVE on them: reads and writes go on), as
on any table. Before 18 PostgreSQL cannot add one NOT VALID to a partitioned table, and a plain ADD checks every
partition's rows under SHARE ROW EXCLUSIVE on all of them. What it does allow (15 as 18): the key on each
leaf partition NOT VALID (catalog only), each VALIDATEd (a scan under SHARE UPDATE EXCLUSIVE on that leaf alone:
reads and writes go on), and then the key on the partitioned table, which finds each leaf's validated key and
attaches it instead of checking its rows (catalog only, briefly under SHARE ROW EXCLUSIVE on the table and its
partitions and ACCESS EXCLUSIVE on the referenced table). A leaf's key whose rows were not validated is not
attached (PostgreSQL checks that leaf's rows then, and adds a key of its own), so the validation comes first.
The leaves' keys take the key's name, as the plain statement's do. The attach takes more than 18's path (it drops
the leaves' own triggers on the referenced table, under ACCESS EXCLUSIVE there, briefly), hence 18's path on 18.
The snapshot records the server's release (Catalog.server_version); one stored before it did plans 18's path, as
it did then.
"""

from __future__ import annotations

from psycopg import sql

from liveshift.catalog import Catalog, Partitioning
from liveshift.ddl import statements
from liveshift.ddl.steps import Step

# the first release that adds a foreign key NOT VALID to a partitioned table
NOT_VALID_FOREIGN_KEY_SINCE = 180000


def per_partition(physical: Catalog) -> bool:
    """Whether a foreign key of a partitioned table of `physical` is validated per partition (module doc)."""
    return 0 < physical.server_version < NOT_VALID_FOREIGN_KEY_SINCE


def partitioned_foreign_key_steps(
    schema: str,
    table: str,
    partitioning: Partitioning,
    name: str,
    columns: list[str],
    ref_table: str,
    ref_columns: list[str],
    options: sql.Composable,
    ref_schema: str | None = None,
) -> tuple[list[Step], list[Step]]:
    """(expand, validate) of foreign key `name` of partitioned `table` (module doc). Rollback drops the
    partitioned table's key, which drops the attached ones, then the leaves' (partitioned_foreign_key_rollback)."""
    target = (ref_table, ref_columns, options)
    expand = [
        statements.add_foreign_key_not_valid(p.schema_name, p.name, name, columns, *target, ref_schema=ref_schema)
        for p in partitioning.leaves
    ]
    validate = [statements.validate_constraint(p.schema_name, p.name, name) for p in partitioning.leaves]
    validate.append(
        statements.add_foreign_key_over_partitions(schema, table, name, columns, *target, ref_schema=ref_schema)
    )
    return expand, validate


def partitioned_foreign_key_rollback(
    schema: str, table: str, partitioning: Partitioning, name: str, ref_table: str
) -> list[Step]:
    """The key of partitioned `table` with its attached ones, then the leaves' a stopped attempt left."""
    steps = [statements.drop_foreign_key(schema, table, name, ref_table)]
    return steps + [statements.drop_foreign_key(p.schema_name, p.name, name, ref_table) for p in partitioning.leaves]
