"""What crosses the Temporal boundary for a fleet rollout (pydantic, like workflows/models.py).

A fleet rolls one migration across members (liveshift/fleet/members.py): databases or schemas named from the
worker's targets. The CLI names members or a selector; the worker resolves a selector (only it holds DSNs).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from liveshift.fleet.members import Member, MemberSelector
from liveshift.health import HealthCheck, HealthResult
from liveshift.lifecycle import Phase
from liveshift.spec import Migration
from liveshift.workflows.models import DATABASE_SEPARATOR, MigrationOptions

FLEET_WORKFLOW = "FleetWorkflow"
FLEET_STATUS = "fleet_status"  # query
# requests (each an Update and a signal of the same name, as for a migration)
HALT = "halt"
RETRY = "retry"
# PAUSE, RESUME, ROLLBACK and APPROVE: the migration's names (workflows/models.py)

OnHalt = Literal["finish", "rollback"]
FleetGate = Literal["wave", "flip"]
FleetState = Literal[
    "resolving", "running", "halted", "awaiting_approval", "awaiting_flip", "rolling_back", "complete",
    "rolled_back",
]  # fmt: skip
MemberState = Literal["pending", "running", "complete", "failed", "rolled_back"]
END_STATES: tuple[FleetState, ...] = ("complete", "rolled_back")


class Waves(BaseModel):
    canary: int = Field(1, ge=0, description="how many members go first (the canary wave), in member order")
    canary_keys: list[str] = Field(default_factory=list, description="these members are the canary wave instead")
    batch_size: int = Field(10, ge=1, description="members per wave after the canary")
    max_concurrency: int = Field(10, ge=1, description="member migrations in flight at once")
    health: HealthCheck | None = Field(None, description="checked before each wave after the first")
    approve: bool = Field(False, description="each wave after the first waits for `fleet approve wave`")


class FleetInput(BaseModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="the rollout's name (its workflow id)")
    migration: Migration
    file: str | None = None  # for error messages only
    options: MigrationOptions = Field(default_factory=MigrationOptions, description="each member's migration's")
    members: list[Member] = Field(default_factory=list, description="explicit members (else the selector's)")
    selector: MemberSelector | None = None
    fleet: str | None = Field(None, description="a fleet of the worker's configuration ([fleets.NAME])")
    waves: Waves = Field(default_factory=Waves)
    failure_budget: int = Field(0, ge=0, description="failed members tolerated; one more halts the rollout")
    on_halt: OnHalt = Field("finish", description="members in flight when the rollout halts: finish or roll back")
    one_flip: bool = Field(False, description="every member waits at its cutover gate; one approval flips all")
    started_by: str = Field("", description="who started the rollout")
    history_limit: int = Field(10_000, ge=100, description="continue as new past this many history events")
    carried: FleetStatus | None = None  # the state a continued run starts from

    @model_validator(mode="after")
    def _members_named_once(self) -> FleetInput:
        if sum((bool(self.members), self.selector is not None, self.fleet is not None)) != 1:
            raise ValueError("give members, a selector or a configured fleet (one of them)")
        keys = Counter(m.key for m in self.members)
        if twice := sorted(k for k, n in keys.items() if n > 1):
            raise ValueError(f"members named twice: {', '.join(twice)}")
        if self.one_flip and self.options.canary_steps:
            raise ValueError("one_flip flips every member at once: canary_steps do not apply")
        return self


class MemberStatus(BaseModel):
    member: Member
    state: MemberState = "pending"
    phase: Phase | None = None  # the member's migration's phase, as it reported it
    workflow_id: str | None = None
    attempts: int = 0
    reason: str | None = None  # why it failed or rolled back


class FleetStatus(BaseModel):
    """The FLEET_STATUS query's answer, the workflow's result, and what a continued run carries."""

    workflow_id: str
    name: str
    migration: str
    state: FleetState = "resolving"
    paused: bool = False  # no member starts until resumed (those in flight are paused too)
    members: list[MemberStatus] = Field(default_factory=list)
    waves: list[list[str]] = Field(default_factory=list)  # member keys, in the order they roll
    wave: int = 0  # the wave under way (len(waves): all done)
    gated: int = 0  # the last wave that passed its gate (health check, approval)
    reason: str | None = None  # why the rollout halted or rolled back
    note: str | None = None  # the last request signal ignored, and why
    accepted_failures: int = 0  # failures an operator accepted (resume after a halt): the budget counts past them
    health: HealthResult | None = None  # the last health gate's answer
    runs: int = 1  # this run and the ones it continues

    def summary(self) -> dict[str, int]:
        counts = Counter(m.state for m in self.members)
        return {
            "done": counts["complete"],
            "running": counts["running"],
            "failed": counts["failed"] + counts["rolled_back"],
            "pending": counts["pending"],
        }

    def member(self, key: str) -> MemberStatus:
        return next(m for m in self.members if m.member.key == key)


class FleetApprove(BaseModel):
    gate: FleetGate


class FleetRollback(BaseModel):
    reason: str = "requested by operator"


def member_address(member: Member) -> str:
    """What a member's activities name: its target, or `target@database` (workflows/models.py: activity_target)."""
    return member.target if member.database is None else f"{member.target}{DATABASE_SEPARATOR}{member.database}"


def fleet_workflow_id(name: str) -> str:
    return f"liveshift-fleet/{name}"


def member_migration(migration: Migration, member: Member) -> Migration:
    """The migration a member runs: a schema member's in its schema, named apart (the store keys migrations by
    name per database, and a database holds many schema members)."""
    if member.schema_name is None:
        return migration
    suffix = re.sub(r"[^a-z0-9_]", "_", member.schema_name.lower())
    if suffix != member.schema_name or len(migration.name) + len(suffix) > 99:
        suffix = suffix[:40] + hashlib.sha1(member.schema_name.encode()).hexdigest()[:8]
    name = f"{migration.name}_{suffix}"[:100]
    return migration.model_copy(update={"schema_name": member.schema_name, "name": name})


FleetInput.model_rebuild()  # its `carried` field names FleetStatus, declared after it
