"""The hazards lint reports: codes (squawk's rule names where squawk has the same rule), what goes wrong, and the
liveshift operation that makes the same change without the long lock."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Hazard(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str
    message: str
    safe: str  # the liveshift operation that does it safely, or what to do instead


def _h(code: str, message: str, safe: str) -> Hazard:
    return Hazard(code=code, message=message, safe=safe)


HAZARDS = {
    h.code: h
    for h in [
        _h(
            "adding-field-with-default",
            "a volatile default (or serial, identity, generated column, a domain with constraints) rewrites the "
            "table under ACCESS EXCLUSIVE",
            "add_column (nullable hidden column; `up`/`default` fill existing rows in batches; an identity from a "
            "sequence the backfill draws from; a generated column: virtual, no rewrite)",
        ),
        _h(
            "adding-required-field",
            "a NOT NULL column without a default fails on a non-empty table and breaks old clients' inserts",
            "add_column with nullable: false and `up` (old clients' writes and existing rows are filled)",
        ),
        _h(
            "adding-not-nullable-field",
            "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE",
            "alter_column with nullable: false (CHECK NOT VALID, VALIDATE, then SET NOT NULL without a scan)",
        ),
        _h(
            "adding-foreign-key-constraint",
            "a validated foreign key scans the table holding SHARE ROW EXCLUSIVE on both tables (writes block)",
            "add_constraint type: foreign_key (NOT VALID at expand, VALIDATE after backfill)",
        ),
        _h(
            "constraint-missing-not-valid",
            "a validated constraint scans the table while holding its lock",
            "add_constraint (NOT VALID at expand, VALIDATE after backfill)",
        ),
        _h(
            "disallowed-unique-constraint",
            "a UNIQUE constraint builds its index under ACCESS EXCLUSIVE",
            "add_constraint type: unique (index built CONCURRENTLY, attached at contract)",
        ),
        _h(
            "adding-serial-primary-key-field",
            "a PRIMARY KEY without USING INDEX builds its index under ACCESS EXCLUSIVE",
            "add_primary_key (index built CONCURRENTLY, NOT NULL proven by a validated CHECK, then USING INDEX)",
        ),
        _h(
            "adding-exclusion-constraint",
            "an exclusion constraint builds its index under ACCESS EXCLUSIVE and cannot be NOT VALID",
            "no liveshift operation; schedule it for a maintenance window",
        ),
        _h(
            "changing-column-type",
            "a type change rewrites the table and its indexes under ACCESS EXCLUSIVE (unless binary coercible) "
            "and breaks clients reading the old type",
            "alter_column with type, up and down (hidden copy, dual write, batched backfill)",
        ),
        _h(
            "require-concurrent-index-creation",
            "CREATE INDEX without CONCURRENTLY holds SHARE on the table: writes block for the whole build",
            "create_index (built CONCURRENTLY, an INVALID leftover dropped before a retry)",
        ),
        _h(
            "require-concurrent-reindex",
            "REINDEX without CONCURRENTLY blocks writes, and reads that use the index",
            "create_index under a new name, then drop_index of the old one",
        ),
        _h(
            "renaming-column",
            "renaming a column breaks every client still using the old name",
            "rename_column (old clients keep the old name through their version's views)",
        ),
        _h(
            "renaming-table",
            "renaming a table breaks every client still using the old name",
            "rename_table (old clients keep the old name through their version's views)",
        ),
        _h(
            "ban-drop-column",
            "dropping a column breaks every client still reading or writing it",
            "drop_column (gone for new clients at once, dropped at contract)",
        ),
        _h(
            "ban-drop-table",
            "dropping a table breaks every client still using it and loses its rows",
            "drop_table (gone for new clients at once, dropped at contract)",
        ),
        _h(
            "ban-drop-default",
            "dropping a default breaks old clients' inserts that omit the column",
            "alter_column with default: null (old clients keep the default through their views)",
        ),
        _h(
            "ban-drop-constraint",
            "dropping a constraint lets new writes break what old clients rely on",
            "drop_constraint (the constraint holds for both versions until contract)",
        ),
        _h(
            "ban-drop-database",
            "dropping a database loses everything in it",
            "no liveshift operation; not a schema migration",
        ),
        _h(
            "ban-truncate-cascade",
            "TRUNCATE … CASCADE also empties every table that references this one",
            "no liveshift operation; name each table to truncate",
        ),
        _h(
            "table-rewrite",
            "the statement rewrites the whole table under ACCESS EXCLUSIVE",
            "no liveshift operation; schedule it for a maintenance window",
        ),
        _h(
            "refresh-materialized-view",
            "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view while it runs",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view)",
        ),
        _h(
            "attach-partition-scan",
            "ATTACH PARTITION scans the partition under ACCESS EXCLUSIVE to check its bound, unless a validated "
            "CHECK constraint already implies it",
            "add_constraint of a CHECK matching the bound (NOT VALID, VALIDATE), then raw_sql ATTACH PARTITION",
        ),
        _h(
            "truncate-table",
            "TRUNCATE gives the table new, empty files under ACCESS EXCLUSIVE, and is not MVCC-safe: "
            "transactions whose snapshot predates it see the table empty",
            "no liveshift operation; DELETE in batches, or schedule it for a maintenance window",
        ),
        _h(
            "partition-default-scan",
            "the parent has a DEFAULT partition: it is locked ACCESS EXCLUSIVE and scanned for rows that would "
            "belong to the new partition",
            "no liveshift operation; add a CHECK to the DEFAULT partition excluding the new bound first "
            "(NOT VALID, VALIDATE), or schedule it for a maintenance window",
        ),
        _h(
            "ban-alter-domain-with-add-constraint",
            "checking a domain's constraint scans every table using the domain while holding SHARE on each "
            "(writes block)",
            "add the constraint NOT VALID, then VALIDATE in a maintenance window; or a CHECK per table "
            "with add_constraint",
        ),
        _h(
            "holding-lock-in-transaction",
            "this statement scans or rewrites a table while the transaction still holds a lock taken before it, "
            "so everything queued on that lock waits for this statement too",
            "the liveshift operations of the file (each step commits on its own, with a short lock)",
        ),
        _h(
            "require-lock-timeout",
            "no lock_timeout is set before this statement's lock: while it waits, every query on the table "
            "queues behind it",
            "any liveshift operation (every step runs with lock_timeout and retries with backoff); "
            "or SET lock_timeout first",
        ),
    ]
}
