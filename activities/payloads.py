"""What crosses between the workflows and the activities: each activity's input and answer. Pydantic, via the
pydantic data converter. Activities never import workflows; the workflows import these to call them.

Targets, never connection strings: a migration names a *target*, and the worker resolves it from its own
configuration.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from liveshift.fleet.members import MemberSelector
from liveshift.health import HealthCheck
from liveshift.spec import Migration
from liveshift.store.history import MigrationFileRef, Outcome
from liveshift.values import LockPolicy, Progress, Throttle

# the signal a backfill partition sends its workflow, for workflows started before heartbeat reports
PROGRESS = "progress"


# a migration's phases


class ProgressReport(BaseModel):
    """One backfill partition's latest progress: its activity's heartbeat details, read by `liveshift status`
    through describe (no history event); the signal PROGRESS of workflows started before heartbeat reports."""

    table: str
    partition: int
    rows_done: int
    done: bool
    throttled: str | None = None
    rows_per_second: float = 0.0
    error: str | None = None  # the transient error the partition's last attempt ended with


class PrepareInput(BaseModel):
    target: str
    migration: Migration
    file: str | None = None
    lock: LockPolicy | None = None  # checked at prepare (e.g. the privilege blocker termination needs)


class RehearseInput(BaseModel):
    target: str
    migration: Migration
    file: str | None = None


class PhaseInput(BaseModel):
    target: str
    migration: str
    lock: LockPolicy = Field(default_factory=LockPolicy)
    percent: int = 100  # cutover, shift
    reason: str | None = None  # rollback
    paused: bool = False  # set_paused


class HealthInput(BaseModel):
    target: str
    migration: str
    check: HealthCheck


class BackfillInput(BaseModel):
    target: str
    migration: str
    parallelism: int = 1


class PartitionInput(BaseModel):
    target: str
    migration: str
    table: str
    partition: int
    throttle: Throttle = Field(default_factory=Throttle)
    progress_interval_s: float = 5.0
    # signal progress to the workflow (what workflows started before heartbeat reports expect; their payloads
    # lack this field); newer workflows read it from the heartbeat details instead
    signal_progress: bool = True


class PartitionResult(BaseModel):
    progress: Progress
    rows_this_attempt: int
    # why an earlier attempt of this partition failed (the error report it heartbeat last), for the status
    earlier_error: str | None = None


# a migrations directory's history


class PendingInput(BaseModel):
    target: str
    files: list[MigrationFileRef]


class RecordStartInput(BaseModel):
    target: str
    ref: MigrationFileRef
    started_by: str
    workflow_id: str


class RecordEndInput(BaseModel):
    target: str
    entry_id: int
    outcome: Outcome
    reason: str | None = None


class CloseStaleInput(BaseModel):
    target: str
    reason: str


class EntriesInput(BaseModel):
    target: str


class InitInput(BaseModel):
    target: str
    schema_name: str = "public"


class InitResult(BaseModel):
    version: str
    created: bool


class BaselineInput(BaseModel):
    target: str
    files: list[MigrationFileRef]
    upto: str
    started_by: str


# fleets


class FleetDriftInput(BaseModel):
    """`liveshift fleet drift`: the members of a configured fleet (`fleet`) or of a selector given inline."""

    fleet: str | None = None
    selector: MemberSelector | None = None
    schema_name: str = "public"  # the migrated schema of members that do not name one (schema per tenant do)


class ResolveInput(BaseModel):
    """resolve_members (a fleet rollout): the members of a configured fleet (`fleet`) or of a selector."""

    fleet: str | None = None
    selector: MemberSelector | None = None
