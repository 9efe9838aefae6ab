"""What crosses the Temporal boundary: workflow input, options, status. Pydantic, via the pydantic data converter.

The CLI, the workflow and the activities all import these; connection strings never appear here:
a migration names a *target*, and the worker resolves it from its own configuration.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from temporalio.common import SearchAttributeKey

from liveshift.activities.payloads import ProgressReport
from liveshift.health import HealthCheck
from liveshift.health import HealthResult as HealthResult  # check_health's answer
from liveshift.lifecycle import Phase as Phase  # the workflow's phases are the core's lifecycle
from liveshift.rehearsal.report import RehearsalReport
from liveshift.spec import Migration
from liveshift.values import Blocker, LockPolicy, Throttle, VerifyReport
from liveshift.values import Prepared as Prepared  # prepare's answer, built by the core
from liveshift.values import TablePlan as TablePlan  # plan_backfill's answer, built by the core

TASK_QUEUE = "liveshift"
WORKFLOW_NAME = "MigrationWorkflow"

# signals (fire and forget) and updates (validated; a refusal reaches the caller) share these names
PAUSE = "pause"
RESUME = "resume"
ROLLBACK = "rollback"
APPROVE = "approve"
SHIFT = "shift"
STATUS = "status"  # query

# Custom search attributes, so the Temporal UI lists and filters migrations by phase, table and target.
# The worker registers them at start when missing; `temporal server start-dev --search-attribute
# LiveshiftPhase=Keyword --search-attribute LiveshiftTables=KeywordList ...` registers them up front.
SA_PHASE = SearchAttributeKey.for_keyword("LiveshiftPhase")
SA_TABLES = SearchAttributeKey.for_keyword_list("LiveshiftTables")
SA_TARGET = SearchAttributeKey.for_keyword("LiveshiftTarget")
SA_MIGRATION = SearchAttributeKey.for_keyword("LiveshiftMigration")
SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = (SA_PHASE, SA_TABLES, SA_TARGET, SA_MIGRATION)

# `target@database`: a database on a configured target's server (fleet members), resolved by the worker
DATABASE_SEPARATOR = "@"
# the signal a fleet member's migration sends its fleet (the parent workflow) on each phase change
MEMBER_PHASE = "member_phase"

Gate = Literal["cutover", "contract"]
OnUnhealthy = Literal["wait", "rollback"]


class MigrationOptions(BaseModel):
    auto_cutover: bool = Field(False, description="cut over without waiting for approval")
    cutover_percent: int = Field(100, ge=1, le=100, description="share of clients sent to green at cutover (canary)")
    soak_seconds: float | None = Field(
        None, ge=0, description="contract automatically after this soak; None waits for approval of the contract gate"
    )
    parallelism: int = Field(1, ge=1, le=64, description="backfill partitions per table")
    throttle: Throttle = Field(default_factory=Throttle)
    lock: LockPolicy = Field(default_factory=LockPolicy)
    progress_interval_s: float = Field(
        5.0, gt=0, description="how often a backfill partition records its progress (heartbeat details, at most 1/s)"
    )
    canary_steps: list[int] = Field(
        default_factory=list, description="green's share at each scheduled step after cutover (cutover itself is 0%)"
    )
    step_seconds: float | None = Field(None, gt=0, description="dwell time of each scheduled step")
    health: HealthCheck | None = Field(None, description="evaluated before each step and during its dwell")
    health_interval_s: float = Field(30.0, gt=0, description="how often the health check runs during a dwell")
    on_unhealthy: OnUnhealthy = Field("wait", description="after green is back at 0%: wait at the gate, or roll back")
    drain_seconds: float = Field(
        5.0,
        ge=0,
        description="how long a version's views outlive the share change that took its last clients (contract, "
        "rollback after cutover): at least the clients' ttl and their longest request; a soak is never shorter",
    )
    rehearse: bool = Field(
        False, description="before prepare, rehearse the whole migration on a scratch clone of the target"
    )

    @model_validator(mode="after")
    def _schedule_is_whole(self) -> MigrationOptions:
        steps = self.canary_steps
        if any(not 1 <= s <= 100 for s in steps) or steps != sorted(set(steps)):
            raise ValueError(f"canary_steps {steps}: percentages 1..100, strictly increasing")
        if bool(steps) != (self.step_seconds is not None):
            raise ValueError("canary_steps and step_seconds go together")
        if self.health is not None and not steps:
            raise ValueError("a health check gates scheduled steps: give canary_steps too")
        if steps and self.cutover_percent != 100:  # (payloads carry every field: not model_fields_set)
            raise ValueError("canary_steps replaces cutover_percent (the canary): give one of them")
        return self


class MigrationInput(BaseModel):
    target: str = Field(min_length=1, description="database target name, resolved by the worker")
    migration: Migration
    options: MigrationOptions = Field(default_factory=MigrationOptions)
    file: str | None = None  # for error messages only
    # a fleet member's own database on the target's server (database per tenant): the worker resolves
    # `target@database` (worker/config.py); None: the target's own database
    database: str | None = None
    member: str | None = None  # the fleet member this run migrates: it reports its phases to its fleet (the parent)


def activity_target(input: MigrationInput) -> str:
    """What the migration's activities name: the target, or `target@database` for a fleet member's database."""
    return input.target if input.database is None else f"{input.target}{DATABASE_SEPARATOR}{input.database}"


class MemberPhase(BaseModel):
    """MEMBER_PHASE's payload: the member's migration entered `phase`."""

    member: str
    phase: Phase


class ApproveRequest(BaseModel):
    gate: Gate


class ShiftRequest(BaseModel):
    percent: int = Field(ge=0, le=100, description="green's share of clients")


class RollbackRequest(BaseModel):
    reason: str = "requested by operator"


class TableProgress(BaseModel):
    table: str
    rows_total: int = 0
    rows_done: int = 0
    rows_per_second: float = 0.0
    eta_seconds: float | None = None
    partitions: int = 0
    partitions_done: int = 0


class PhaseTransition(BaseModel):
    phase: Phase
    at: datetime


class ShareChange(BaseModel):
    """Green's share set (by cutover, the operator, the schedule, or a failed health check) at a time."""

    percent: int
    at: datetime
    by: Literal["cutover", "operator", "schedule", "health check", "rollback"]


class HealthStatus(BaseModel):
    """The latest health-check evaluation; `failing` keeps the value that stopped the schedule."""

    healthy: bool
    value: str
    at: datetime
    checks: int = 0
    failing: str | None = None


class MigrationStatus(BaseModel):
    """The `status` query's answer, and the workflow's result."""

    workflow_id: str
    migration: str
    target: str
    schema_name: str
    tables: list[str]
    phase: Phase
    paused: bool = False
    throttled: str | None = None
    waiting_for: Gate | None = None
    contract_at: datetime | None = None  # when a soak ends
    last_error: str | None = None
    progress: list[TableProgress] = Field(default_factory=list)
    # each backfill partition's latest report the workflow holds (the result of a finished one), so a reader can
    # merge the running partitions' heartbeat details in (workflows/progress.py: with_live_reports)
    partitions: list[ProgressReport] = Field(default_factory=list)
    transitions: list[PhaseTransition] = Field(default_factory=list)
    verify: VerifyReport | None = None
    rollback_reason: str | None = None  # why it rolled back (operator request or a non-retryable failure)
    # backends a lock-taking phase ended (--terminate-blockers-after), as its activity reported them
    terminated_blockers: list[Blocker] = Field(default_factory=list)
    green_percent: int | None = None  # green's share of clients since cutover
    shifts: list[ShareChange] = Field(default_factory=list)
    schedule: str | None = None  # where the scheduled steps are (or why they stopped)
    health: HealthStatus | None = None
    draining: str | None = None  # the version whose views are kept until its clients have drained, and why
    drain_until: datetime | None = None  # when that drain ends (then its views are dropped)
    rehearsal: RehearsalReport | None = None  # what the rehearsal before prepare found (start --rehearse)

    @property
    def rows_done(self) -> int:
        return sum(t.rows_done for t in self.progress)

    @property
    def rows_total(self) -> int:
        return sum(t.rows_total for t in self.progress)


def workflow_id(target: str, migration: Migration) -> str:
    """Derived from the target and the tables touched, so a second migration of them cannot start."""
    tables = ",".join(migration.tables())
    readable = re.sub(r"[^A-Za-z0-9_.,-]", "_", f"{migration.schema_name}.{tables}")[:120]
    digest = hashlib.sha1(f"{target}\x00{migration.schema_name}\x00{tables}".encode()).hexdigest()[:8]
    return f"liveshift/{target}/{readable}/{digest}"


def summary(request: MigrationInput) -> str:
    """One line for the Temporal UI's workflow list: what this migration does, where."""
    ops = ", ".join(f"{op.op_name} {'/'.join(op.tables())}" for op in request.migration.operations)
    return f"liveshift {request.migration.name} on {request.target}: {ops}"[:400]
