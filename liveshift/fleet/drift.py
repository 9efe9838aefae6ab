"""Drift across a fleet: which members are at which version, and which differ from their recorded history.

For each member: the schema's active version (liveshift.active_versions), the migrations in flight, the last
completed migration with the catalog fingerprint recorded as it completed, and the files `liveshift migrate`
applied (names and checksums). The member's catalog is fingerprinted now (catalog/fingerprint.py) and compared
with the recorded one: an object added, removed or changed since is drift, named in the report. A member with a
migration in flight is not compared (its expand objects are expected), nor one whose last migration completed
before fingerprints were recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Literal

import psycopg
from pydantic import BaseModel, Field, computed_field

from liveshift.catalog import schema_exists
from liveshift.catalog.fingerprint import digest, read_fingerprint
from liveshift.fleet.members import Member
from liveshift.store import history, record

# objects named per drifted member: the report is a workflow's result (Temporal caps a payload at 2 MB), and a
# thousand members with a few dozen objects each stays well inside it; `changed_objects` keeps the full count
MAX_CHANGES = 50
State = Literal["matches", "drifted", "in_flight", "not_recorded", "unmanaged", "unreachable"]
Connect = Callable[[Member], contextlib.AbstractContextManager[psycopg.Connection]]
NO_VERSION = "(none)"


class ObjectChange(BaseModel):
    object: str = Field(description='"kind name", e.g. "column users.email", "index users_email_idx"')
    change: Literal["added", "removed", "changed"]


class MemberDrift(BaseModel):
    key: str
    schema_name: str
    state: State
    version: str | None = None
    last_migration: str | None = None
    in_flight: list[str] = Field(default_factory=list)
    files_applied: int = 0
    last_file: str | None = None
    files_digest: str | None = Field(default=None, description="hash of the applied files' names and checksums")
    fingerprint: str | None = Field(default=None, description="digest of the catalog now")
    recorded: str | None = Field(default=None, description="digest recorded when the last migration completed")
    changes: list[ObjectChange] = Field(default_factory=list, description=f"the first {MAX_CHANGES}, by object")
    changed_objects: int = Field(default=0, description="how many objects differ")
    error: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def at(self) -> str:
        """Where the member is, comparable across members: the last file `liveshift migrate` applied, else the last
        migration that completed (the active version's name carries the schema, so it differs per tenant schema)."""
        return self.last_file or self.last_migration or NO_VERSION


class DriftReport(BaseModel):
    members: list[MemberDrift] = Field(default_factory=list)

    def by_version(self) -> dict[str, list[str]]:
        """Member keys per position (`MemberDrift.at`: NO_VERSION where no migration completed), sorted."""
        groups: dict[str, list[str]] = {}
        for m in self.members:
            groups.setdefault(m.at, []).append(m.key)
        return dict(sorted(groups.items()))

    def drifted(self) -> list[MemberDrift]:
        return [m for m in self.members if m.state == "drifted"]


def changes(recorded: dict[str, str], now: dict[str, str]) -> list[ObjectChange]:
    """What differs between two fingerprints, sorted by object."""
    out = [ObjectChange(object=o, change="removed") for o in recorded.keys() - now.keys()]
    out += [ObjectChange(object=o, change="added") for o in now.keys() - recorded.keys()]
    out += [ObjectChange(object=o, change="changed") for o in recorded.keys() & now.keys() if recorded[o] != now[o]]
    return sorted(out, key=lambda c: c.object)


def member_drift(conn: psycopg.Connection, key: str, schema: str) -> MemberDrift:
    """One member's versions and drift, read only (nothing is created on a database liveshift never ran on)."""
    now = read_fingerprint(conn, schema)
    base = MemberDrift(key=key, schema_name=schema, state="unmanaged", fingerprint=digest(now))
    if not schema_exists(conn, "liveshift"):
        return base
    files = history.applied_files(conn)
    last = record.last_completed(conn, schema)
    base = base.model_copy(
        update={
            "version": record.current_version(conn, schema),
            "in_flight": record.in_flight(conn, schema),
            "last_migration": last.name if last else None,
            "files_applied": len(files),
            "last_file": files[-1].file if files else None,
            "files_digest": digest({f.file: f.checksum for f in files}) if files else None,
        }
    )
    if base.in_flight:
        return base.model_copy(update={"state": "in_flight"})
    if last is None or last.fingerprint is None:
        return base.model_copy(update={"state": "not_recorded" if last else "unmanaged"})
    diff = changes(last.fingerprint, now)
    state: State = "drifted" if diff else "matches"
    return base.model_copy(
        update={
            "state": state,
            "recorded": digest(last.fingerprint),
            "changes": diff[:MAX_CHANGES],
            "changed_objects": len(diff),
        }
    )


def drift_report(members: list[Member], connect: Connect, default_schema: str = "public") -> DriftReport:
    """Every member's drift, in the members' order; a member that cannot be read is `unreachable` with the reason
    (one database down does not hide the others)."""
    report = DriftReport()
    for member in members:
        schema = member.schema_name or default_schema
        try:
            with connect(member) as conn:
                report.members.append(member_drift(conn, member.key, schema))
        except psycopg.Error as exc:
            reason = (exc.diag.message_primary if isinstance(exc, psycopg.DatabaseError) else None) or str(exc)
            report.members.append(MemberDrift(key=member.key, schema_name=schema, state="unreachable", error=reason))
    return report
