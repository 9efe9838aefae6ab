"""The state lint's analysers share while reading one file: what is known of the schema, and the
assumptions made where it is not."""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast

from liveshift.sqlconvert.knowledge import Knowledge
from liveshift.sqlconvert.locks import Effect

Finding = tuple[Effect, list[str]]
AE = "ACCESS EXCLUSIVE"
SUE = "SHARE UPDATE EXCLUSIVE"
SRE = "SHARE ROW EXCLUSIVE"


def rel(node: ast.RangeVar | None) -> str:
    if node is None:
        return "?"
    return f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname


@dataclass
class Scope:
    k: Knowledge = field(default_factory=Knowledge)
    notes: list[str] = field(default_factory=list)  # this statement's assumptions
    only: bool = False  # this statement names its table with ONLY: its partitions are not reached

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def on(
        self, lock: str, tables: tuple[str, ...], codes: list[str], *, rewrites: bool = False, scans: bool = False
    ) -> Finding:
        """An effect on tables; one on tables this file created (or the live catalog shows empty) is nobody's
        traffic, so its hazards are dropped."""
        existing = not tables or not all(self.k.is_new(t) for t in tables)
        made = bool(tables) and all((info := self.k.table(t)) is not None and info.new for t in tables)
        effect = Effect(lock=lock, tables=tables, rewrites=rewrites, scans=scans, existing=existing, made=made)
        return effect, codes if existing else []

    def on_index(self, lock: str, indexes: tuple[str, ...], codes: list[str] | None = None) -> Finding:
        return Effect(lock=lock, tables=indexes, index=True), codes or []

    def with_partitions(self, table: str) -> tuple[str, ...]:
        """A partitioned table's command recurses to every partition: each is locked too (not under ONLY)."""
        if self.only:
            return (table,)
        key = table.split(".")[-1]
        parts = sorted(name for name, info in self.k.tables.items() if info.parent == key)
        return (table, *parts)
