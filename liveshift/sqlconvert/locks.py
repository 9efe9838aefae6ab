"""PostgreSQL's table lock modes: what each blocks, and the strongest of several.

From the PostgreSQL manual's "Explicit Locking" table: application reads take ACCESS SHARE, writes
ROW EXCLUSIVE; a lock that conflicts with those stalls every request queued behind it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

ORDER = [
    "none",
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
]

BLOCKS = {
    "ACCESS EXCLUSIVE": "reads and writes",
    "EXCLUSIVE": "writes",
    "SHARE ROW EXCLUSIVE": "writes",
    "SHARE": "writes",
}

UNKNOWN = "unknown"  # a statement this table does not model


def blocks(lock: str) -> str:
    """What application traffic waits while `lock` is held (or queued): 'reads and writes', 'writes' or 'nothing'."""
    return BLOCKS.get(lock, "nothing")


def strongest(locks: list[str]) -> str:
    known = [lock for lock in locks if lock in ORDER]
    if len(known) < len(locks):
        return UNKNOWN
    return max(known, key=ORDER.index) if known else "none"


class Effect(BaseModel):
    """What one statement (or ALTER TABLE sub-command) does to an existing table while it holds its lock."""

    model_config = ConfigDict(frozen=True)

    lock: str
    tables: tuple[str, ...] = ()
    rewrites: bool = False  # copies every row into a new file
    scans: bool = False  # reads every row (or builds an index) while holding the lock
    existing: bool = True  # False for a table the statement itself creates (or this file did), or an empty one
    made: bool = False  # every table is one this file created: its locks are nobody's (an empty one's are still taken)
    index: bool = False  # a lock on indexes alone (`tables` names them): queries planning on the table wait

    @property
    def blocks(self) -> str:
        return blocks(self.lock) if self.existing else "nothing"
